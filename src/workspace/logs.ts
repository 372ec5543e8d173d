import { gunzipSync } from "node:zlib";
import type { KqlDataSource, KqlValue } from "../kql/types.js";
import { ArmError } from "./arm.js";
import type { QueryAnswer, QueryPool } from "./query-pool.js";
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

/** The main thread's view of the log tables (ARM handlers use it; queries run in query-pool workers). */
export function dataSource(store: WorkspaceStore): KqlDataSource {
  return {
    table: (name) => store.logTable(name),
    tableNames: () => Object.keys(LOG_TABLES),
    storedFunction: (name) => STORED_FUNCTIONS[name],
  };
}

/** How a query request asks to be run: the API's Prefer header (wait=N, include-statistics=true). */
export interface QueryRunOptions {
  /** Server timeout in seconds (Prefer: wait=N). */
  timeoutSeconds: number;
  /** Prefer: include-statistics=true → `statistics.query` in the response. */
  statistics: boolean;
  /** Fires when the client goes away: the query is dropped or its worker terminated. */
  signal?: AbortSignal;
  now?: number;
}

/**
 * POST /v1/workspaces/{id}/query: runs KQL with `timespan` as a hard bound, in a pool worker (off the main event
 * loop); resolves to the response body as JSON text; errors in the API's shape (ArmError).
 */
export async function runQuery(pool: QueryPool, body: unknown, opts: QueryRunOptions): Promise<QueryAnswer> {
  const now = opts.now ?? Date.now();
  const b = body as { query?: unknown; timespan?: unknown } | undefined;
  if (!b || typeof b.query !== "string" || !b.query.trim())
    throw new ArmError(400, "BadArgumentError", "body must include a non-empty query");
  const timespan = typeof b.timespan === "string" ? parseTimespan(b.timespan, now) : undefined;
  return pool.run(
    { query: b.query, ...(timespan ? { timespan } : {}), now, statistics: opts.statistics },
    opts.timeoutSeconds,
    opts.signal,
  );
}

/**
 * POST /dataCollectionRules/{dcr}/streams/{stream}: appends JSON rows (optionally gzip) to the stream's table, each
 * stamped with the workspace's receive time `now` as its ingestion time (ingestion_time(); not the sender's
 * TimeGenerated).
 */
export function ingest(
  store: WorkspaceStore,
  raw: Buffer,
  encoding: string | undefined,
  stream: string,
  now = Date.now(),
): void {
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
      if (v === undefined || v === null) return c.name === "TimeGenerated" ? now : null;
      if (c.type === "datetime") return Date.parse(String(v));
      if (c.type === "int" || c.type === "long" || c.type === "real") return Number(v);
      return v as KqlValue;
    });
  });
  store.appendLogs(table, out, now);
}
