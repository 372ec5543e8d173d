import { gunzipSync } from "node:zlib";
import { executeKql } from "../kql/engine.js";
import { KqlError } from "../kql/errors.js";
import type { KqlDataSource, KqlType, KqlValue } from "../kql/types.js";
import { ArmError } from "./arm.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "./schemas.js";
import type { WorkspaceStore } from "./store.js";

const DURATION = /^P(?=\d|T\d)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

function durationMs(d: string): number | undefined {
  const m = DURATION.exec(d);
  if (!m) return undefined;
  const [, days, h, min, s] = m;
  return (((Number(days ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60 + Number(s ?? 0)) * 1000;
}

/** The API's `timespan`: an ISO 8601 duration ending now, or an interval start/end, start/duration, duration/end. */
export function parseTimespan(ts: string, now: number): { start: number; end: number } {
  const parts = ts.split("/");
  const bad = () =>
    new ArmError(
      400,
      "BadArgumentError",
      `invalid timespan "${ts}": use an ISO 8601 duration (PT1H) or interval (start/end)`,
    );
  if (parts.length === 1) {
    const d = durationMs(ts);
    if (d === undefined) throw bad();
    return { start: now - d, end: now + 1 };
  }
  if (parts.length !== 2) throw bad();
  const [a, b] = parts as [string, string];
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return { start: ta, end: tb };
  if (!Number.isNaN(ta) && durationMs(b) !== undefined) return { start: ta, end: ta + durationMs(b)! };
  if (durationMs(a) !== undefined && !Number.isNaN(tb)) return { start: tb - durationMs(a)!, end: tb };
  throw bad();
}

export function dataSource(store: WorkspaceStore): KqlDataSource {
  return {
    table: (name) => store.logTable(name),
    tableNames: () => Object.keys(LOG_TABLES),
    storedFunction: (name) => STORED_FUNCTIONS[name],
  };
}

function serialize(v: KqlValue, type: KqlType): unknown {
  if (v === null) return null;
  if (type === "datetime") return new Date(v as number).toISOString();
  if (type === "timespan") {
    const ms = v as number;
    const sign = ms < 0 ? "-" : "";
    const abs = Math.abs(ms);
    const days = Math.floor(abs / 86_400_000);
    const hms = new Date(abs % 86_400_000)
      .toISOString()
      .slice(11, 23)
      .replace(/\.000$/, "");
    return `${sign}${days ? `${days}.` : ""}${hms}`;
  }
  if (type === "dynamic") return typeof v === "string" ? v : JSON.stringify(v);
  return v;
}

/** POST /v1/workspaces/{id}/query: runs KQL with `timespan` as a hard bound; errors in the API's shape. */
export function runQuery(store: WorkspaceStore, body: unknown, now = Date.now()): unknown {
  const b = body as { query?: unknown; timespan?: unknown } | undefined;
  if (!b || typeof b.query !== "string" || !b.query.trim())
    throw new ArmError(400, "BadArgumentError", "body must include a non-empty query");
  const timespan = typeof b.timespan === "string" ? parseTimespan(b.timespan, now) : undefined;
  try {
    const res = executeKql(b.query, dataSource(store), {
      now,
      ...(timespan ? { timespan } : {}),
      maxResultRows: 500_000,
    });
    return {
      tables: [
        {
          name: "PrimaryResult",
          columns: res.columns.map((c) => ({ name: c.name, type: c.type })),
          rows: res.rows.map((r) => r.map((v, i) => serialize(v, res.columns[i]!.type))),
        },
      ],
    };
  } catch (e) {
    if (e instanceof KqlError) {
      const code =
        e.info.code === "syntax" ? "SyntaxError" : e.info.code === "unsupported" ? "UnsupportedError" : "SemanticError";
      const err = new ArmError(400, "BadArgumentError", `The request had some invalid properties: ${e.message}`);
      (err as ArmError & { inner?: unknown }).inner = {
        code,
        message: e.message,
        line: e.info.line,
        pos: e.info.column,
      };
      throw err;
    }
    throw e;
  }
}

/** POST /dataCollectionRules/{dcr}/streams/{stream}: appends JSON rows (optionally gzip) to the stream's table. */
export function ingest(store: WorkspaceStore, raw: Buffer, encoding: string | undefined, stream: string): void {
  const table = stream.replace(/^Custom-/, "");
  const columns = LOG_TABLES[table];
  if (!columns)
    throw new ArmError(404, "InvalidStream", `stream "${stream}" is not declared in this data collection rule`);
  const text = (encoding === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    throw new ArmError(400, "InvalidPayload", "body is not a JSON array");
  }
  if (!Array.isArray(rows)) throw new ArmError(400, "InvalidPayload", "body is not a JSON array");
  const out: KqlValue[][] = rows.map((r) => {
    const o = r as Record<string, unknown>;
    return columns.map((c) => {
      const v = o[c.name];
      if (v === undefined || v === null) return c.name === "TimeGenerated" ? Date.now() : null;
      if (c.type === "datetime") return Date.parse(String(v));
      if (c.type === "int" || c.type === "long" || c.type === "real") return Number(v);
      return v as KqlValue;
    });
  });
  store.appendLogs(table, out);
}
