// A query worker: runs KQL off the main event loop over its own copy of the log tables. It opens workspace.db
// read-only (WAL: readers coexist with the main thread's writer), loads each table on first use and, before every
// query, picks up the rows appended since (ingestion writes SQLite first, so the next query sees them). The pool
// (query-pool.ts) bounds it from outside: wall-clock timeout → terminate(), memory → resourceLimits.
import { readlinkSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { executeKql } from "../kql/engine.js";
import { KqlError } from "../kql/errors.js";
import { SlideDeadlineError, type SlideOptions, slideRule } from "../kql/slide.js";
import type { KqlDataSource, KqlTable, KqlType, KqlValue } from "../kql/types.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "./schemas.js";

/** One query, as the pool sends it. */
export interface QueryRequest {
  id: number;
  query: string;
  timespan?: { start: number; end: number };
  now: number;
  maxResultRows: number;
  maxIntermediateRows?: number;
  /** Add `statistics` to the response body (Prefer: include-statistics=true). */
  statistics: boolean;
  /** Set: replay `query` as a scheduled rule (src/kql/slide.ts) instead of running it once; the body is the slide. */
  slide?: SlideRequest;
}

/** A rule replay as the pool sends it; the worker adds its own row limits. */
export type SlideRequest = Omit<SlideOptions, "maxResultRows" | "maxIntermediateRows">;

/** The worker's answer: the response body as JSON text (serialised here, off the main thread), or an API error. */
export type QueryReply =
  | {
      id: number;
      ok: true;
      body: string;
      rows: number;
      ms: number;
      loadMs: number;
      loaded: string[];
      /** This worker's V8 heap in use after the query (bytes). */
      heapUsed: number;
    }
  | {
      id: number;
      ok: false;
      status: number;
      code: string;
      message: string;
      inner?: { code: string; message: string; line?: number; pos?: number };
    };

interface Loaded {
  table: KqlTable;
  lastId: number;
  /** Raw text of the row with lastId: if it changed or vanished, the table was cleared/reseeded; reload it. */
  lastRow: string;
}

/** The log tables as this worker sees them: lazily loaded from SQLite, kept current by appended-row id. */
export class TableCache {
  private readonly db: Database.Database;
  private readonly loaded = new Map<string, Loaded>();
  private version: number;
  private readonly since: Database.Statement<[string, number], { id: number; row: string }>;
  private readonly rowById: Database.Statement<[number], { tbl: string; row: string }>;
  /** Milliseconds spent loading/refreshing tables during the current query. */
  loadMs = 0;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma("busy_timeout = 5000");
    this.since = this.db.prepare("SELECT id, row FROM logs WHERE tbl = ? AND id > ? ORDER BY id");
    this.rowById = this.db.prepare("SELECT tbl, row FROM logs WHERE id = ?");
    this.version = this.dataVersion();
  }

  private dataVersion(): number {
    return this.db.pragma("data_version", { simple: true }) as number;
  }

  /** Before each query: when another connection committed since the last check, append new rows to loaded tables. */
  sync(): void {
    this.loadMs = 0;
    const v = this.dataVersion();
    if (v === this.version) return;
    this.version = v;
    const t = performance.now();
    for (const [name, l] of this.loaded) {
      if (l.lastId > 0) {
        const last = this.rowById.get(l.lastId);
        if (!last || last.tbl !== name || last.row !== l.lastRow) {
          this.loaded.delete(name); // cleared or reseeded (gsmcp workspace seed/reset): load afresh on next use
          continue;
        }
      }
      this.append(l);
    }
    this.loadMs += performance.now() - t;
  }

  private append(l: Loaded): void {
    for (const r of this.since.iterate(l.table.name, l.lastId)) {
      l.table.rows.push(JSON.parse(r.row) as KqlValue[]);
      l.lastId = r.id;
      l.lastRow = r.row;
    }
  }

  table(name: string): KqlTable | undefined {
    const columns = LOG_TABLES[name];
    if (!columns) return undefined;
    let l = this.loaded.get(name);
    if (!l) {
      const t = performance.now();
      l = { table: { name, columns, rows: [] }, lastId: 0, lastRow: "" };
      this.append(l);
      this.loaded.set(name, l);
      this.loadMs += performance.now() - t;
    }
    return l.table;
  }

  /** Names of the tables this worker holds. */
  loadedTables(): string[] {
    return [...this.loaded.keys()];
  }

  source(): KqlDataSource {
    return {
      table: (name) => this.table(name),
      tableNames: () => Object.keys(LOG_TABLES),
      storedFunction: (name) => STORED_FUNCTIONS[name],
    };
  }

  close(): void {
    this.db.close();
  }
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

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/** Runs one query against the cache; the reply carries the response body in the Log Analytics API's shape. */
export function answer(cache: TableCache, req: QueryRequest): QueryReply {
  const started = performance.now();
  try {
    cache.sync();
    if (req.slide) return answerSlide(cache, req, req.slide, started);
    const res = executeKql(req.query, cache.source(), {
      now: req.now,
      ...(req.timespan ? { timespan: req.timespan } : {}),
      maxResultRows: req.maxResultRows,
      ...(req.maxIntermediateRows !== undefined ? { maxIntermediateRows: req.maxIntermediateRows } : {}),
    });
    const ms = performance.now() - started;
    // The engine may not report reads (older engines): then tablesRead/storedFunctionsRead are left out rather than
    // claiming nothing was read.
    const reads = res.reads as Partial<typeof res.reads> | undefined;
    const body = {
      tables: [
        {
          name: "PrimaryResult",
          columns: res.columns.map((c) => ({ name: c.name, type: c.type })),
          rows: res.rows.map((r) => r.map((v, i) => serialize(v, res.columns[i]!.type))),
        },
      ],
      ...(req.statistics
        ? {
            // Log Analytics' `statistics.query` (executionTime in seconds). tablesRead / storedFunctionsRead are a
            // local extension: what the engine actually read, so the server can check read ⊆ analysed ⊆ allowed.
            statistics: {
              query: {
                executionTime: ms / 1000,
                ...(isStrings(reads?.tables) ? { tablesRead: reads.tables } : {}),
                ...(isStrings(reads?.storedFunctions) ? { storedFunctionsRead: reads.storedFunctions } : {}),
              },
            },
          }
        : {}),
    };
    return {
      id: req.id,
      ok: true,
      body: JSON.stringify(body),
      rows: res.rows.length,
      ms,
      loadMs: cache.loadMs,
      loaded: cache.loadedTables(),
      heapUsed: getHeapStatistics().used_heap_size,
    };
  } catch (e) {
    if (e instanceof SlideDeadlineError)
      return { id: req.id, ok: false, status: 504, code: "GatewayTimeout", message: e.message };
    if (e instanceof KqlError && e.info.code === "limit") {
      // A size limit, not a bad query: the same code as running out of worker memory.
      return { id: req.id, ok: false, status: 400, code: "QueryResourceLimitError", message: e.message };
    }
    if (e instanceof KqlError) {
      const code =
        e.info.code === "syntax" ? "SyntaxError" : e.info.code === "unsupported" ? "UnsupportedError" : "SemanticError";
      return {
        id: req.id,
        ok: false,
        status: 400,
        code: "BadArgumentError",
        message: `The request had some invalid properties: ${e.message}`,
        inner: {
          code,
          message: e.message,
          ...(e.info.line !== undefined ? { line: e.info.line } : {}),
          ...(e.info.column !== undefined ? { pos: e.info.column } : {}),
        },
      };
    }
    return { id: req.id, ok: false, status: 500, code: "InternalServerError", message: (e as Error).message };
  }
}

/** A rule replay: the body is the slide result, the sample serialised as query rows are. */
function answerSlide(cache: TableCache, req: QueryRequest, slide: SlideRequest, started: number): QueryReply {
  const res = slideRule(req.query, cache.source(), {
    ...slide,
    maxResultRows: req.maxResultRows,
    ...(req.maxIntermediateRows !== undefined ? { maxIntermediateRows: req.maxIntermediateRows } : {}),
  });
  const ms = performance.now() - started;
  const s = res.sample;
  const body = {
    ...res,
    sample: s
      ? {
          runTime: s.runTime,
          columns: s.columns.map((c) => ({ name: c.name, type: c.type })),
          rows: s.rows.map((r) => r.map((v, i) => serialize(v, s.columns[i]!.type))),
        }
      : undefined,
    executionTime: ms / 1000,
  };
  return {
    id: req.id,
    ok: true,
    body: JSON.stringify(body),
    rows: res.runs,
    ms,
    loadMs: cache.loadMs,
    loaded: cache.loadedTables(),
    heapUsed: getHeapStatistics().used_heap_size,
  };
}

if (!isMainThread && parentPort && (workerData as { kind?: string } | undefined)?.kind === "gsmcp-query-worker") {
  const port = parentPort;
  const { dbPath, preload } = workerData as { dbPath: string; preload?: string[] };
  // The Linux thread id, so the pool can lower this thread's CPU priority while a query runs long (setpriority on a
  // thread id affects that thread only). Elsewhere there is none and nothing is deprioritised.
  try {
    port.postMessage({ kind: "tid", tid: Number(readlinkSync("/proc/thread-self").split("/").pop()) });
  } catch {}
  const cache = new TableCache(dbPath);
  // A replacement worker loads up front the tables its predecessors held, so the next query does not pay for it.
  for (const name of preload ?? []) cache.table(name);
  port.on("message", (req: QueryRequest) => port.postMessage(answer(cache, req)));
}
