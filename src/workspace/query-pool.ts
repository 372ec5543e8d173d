import { statSync } from "node:fs";
import { setPriority } from "node:os";
import { Worker } from "node:worker_threads";
import { workerUrl } from "../worker-url.js";
import { ArmError } from "./arm.js";
import type { QueryReply, QueryRequest, SlideRequest } from "./query-worker-impl.js";

// KQL runs off the main event loop: a runaway query (catastrophic regex, huge join, heavy string work) must not freeze
// the ARM API, ingestion or other sessions. A small pool of worker threads, each with its own copy of the log tables
// (read from workspace.db, see query-worker-impl.ts), answers queries one at a time per worker; requests beyond the
// pool wait in a bounded queue. Every query has a hard wall-clock limit (the API's server timeout): when it passes,
// the worker is terminated — not asked — and replaced. Memory is bounded per worker through resourceLimits.

export interface QueryPoolOptions {
  /** Worker threads (spawned lazily, as queries need them). Default 2. */
  workers?: number;
  /** Queries waiting for a worker beyond which new ones get 429. Default 16. */
  maxQueue?: number;
  /** Heap limit of each worker (V8 old generation, MB). Default: sized from workspace.db (see defaultMemoryMb). */
  maxOldGenerationSizeMb?: number;
  /** Passed to the engine (KqlExecuteOptions.maxIntermediateRows). Default: the engine's. */
  maxIntermediateRows?: number;
  /** Result rows beyond which a query fails. Default 500,000. */
  maxResultRows?: number;
}

/** Environment overrides, for the embedded workspace started by the server: GSMCP_QUERY_*. */
export function queryPoolOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): QueryPoolOptions {
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
  const o: QueryPoolOptions = {};
  const workers = num("GSMCP_QUERY_WORKERS");
  const maxQueue = num("GSMCP_QUERY_QUEUE");
  const mem = num("GSMCP_QUERY_MAX_MEMORY_MB");
  const inter = num("GSMCP_QUERY_MAX_INTERMEDIATE_ROWS");
  if (workers !== undefined) o.workers = workers;
  if (maxQueue !== undefined) o.maxQueue = maxQueue;
  if (mem !== undefined) o.maxOldGenerationSizeMb = mem;
  if (inter !== undefined) o.maxIntermediateRows = inter;
  return o;
}

/**
 * Default worker heap: room for every log table plus 384 MB of headroom for intermediate results; at least 512 MB.
 * Measured (all tables loaded, after GC): demo seed (541 rows, 0.3 MB file) 0.6 MB of heap; medium seed (100k rows,
 * 22.6 MB file, 15.9 MB of row JSON) 36 MB, i.e. ~1.6x the file — 2.5x the file errs high. A worker's baseline (tsx,
 * engine, SQLite) is ~35 MB RSS; bench/kql.ts reports the RSS per worker.
 */
export function defaultMemoryMb(dbPath: string): number {
  let bytes = 0;
  for (const p of [dbPath, `${dbPath}-wal`]) {
    try {
      bytes += statSync(p).size;
    } catch {
      // absent -wal: nothing to add
    }
  }
  return Math.max(512, Math.ceil((bytes * 2.5) / 2 ** 20) + 384);
}

export interface QueryAnswer {
  /** Response body (JSON text). */
  body: string;
  rows: number;
  /** Execution time in the worker, and the part of it spent loading/refreshing tables. */
  ms: number;
  loadMs: number;
}

export interface QueryPoolStats {
  workers: number;
  /** Each live worker's V8 heap in use after its last query (MB; 0 before its first). */
  heapMb: number[];
  busy: number;
  queued: number;
  /** Workers terminated (timeout, cancellation) whose thread has not exited yet: their query may still hold a core. */
  stopping: number;
  spawned: number;
  /** Workers terminated because a query passed its timeout or its client went away. */
  terminated: number;
  /** Workers that ran out of memory (or crashed). */
  failed: number;
  completed: number;
}

type Job = {
  req: Omit<QueryRequest, "id">;
  id: number;
  timeoutSeconds: number;
  timer: NodeJS.Timeout;
  slot?: Slot;
  resolve: (a: QueryAnswer) => void;
  reject: (e: Error) => void;
  onAbort?: () => void;
  signal?: AbortSignal;
};

type Slot = {
  worker: Worker;
  job?: Job;
  gone: boolean;
  exited: Promise<void>;
  heapUsed: number;
  /** Linux thread id of the worker (for setpriority), once it has said it. */
  tid?: number;
  /** Lowers the worker's priority when its query runs long. */
  niceTimer?: NodeJS.Timeout;
  reniced?: boolean;
};

/** A query running longer than this yields the CPU to everything else (other queries, the MCP server itself). */
const DEPRIORITISE_AFTER_MS = 500;
const LOW_PRIORITY = 19;

/** The message of a 504, with what to do about it. */
export function timeoutMessage(seconds: number): string {
  return (
    `query exceeded the server timeout of ${seconds}s; narrow the timespan, filter early (where before join, ` +
    "summarize or extend), avoid cross joins and per-row regex/string work over large tables, or raise the timeout " +
    "(Prefer: wait=N, policy max_query_seconds) if the query is meant to be slow"
  );
}

export class QueryPool {
  private readonly size: number;
  private readonly maxQueue: number;
  readonly memoryMb: number;
  private readonly maxIntermediateRows: number | undefined;
  private readonly maxResultRows: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Terminated workers until their thread has exited. */
  private readonly stopping = new Set<Slot>();
  private readonly counters = { spawned: 0, terminated: 0, failed: 0, completed: 0 };
  /** Tables some worker has loaded: a replacement worker preloads them. */
  private readonly tablesInUse = new Set<string>();

  constructor(
    private readonly dbPath: string,
    opts: QueryPoolOptions = {},
  ) {
    this.size = Math.max(1, opts.workers ?? 2);
    this.maxQueue = Math.max(0, opts.maxQueue ?? 16);
    this.memoryMb = opts.maxOldGenerationSizeMb || defaultMemoryMb(dbPath);
    this.maxIntermediateRows = opts.maxIntermediateRows || undefined;
    this.maxResultRows = opts.maxResultRows ?? 500_000;
  }

  stats(): QueryPoolStats {
    return {
      workers: this.slots.length,
      heapMb: this.slots.map((s) => Math.round((s.heapUsed / 2 ** 20) * 10) / 10),
      busy: this.slots.filter((s) => s.job).length,
      queued: this.queue.length,
      stopping: this.stopping.size,
      ...this.counters,
    };
  }

  /** Thread ids of the live workers (tests and the bench watch replacements). */
  threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  /**
   * Runs one query. Rejects with an ArmError in the API's shape: 429 when the queue is full, 504 when the query
   * passes `timeoutSeconds` (counted from now, queueing included), 400 when its worker runs out of memory.
   * `signal` (the client went away) drops a queued query or terminates its worker.
   */
  run(
    req: {
      query: string;
      timespan?: { start: number; end: number };
      now: number;
      statistics: boolean;
      /** A rule replay instead of one run (src/workspace/preview.ts). */
      slide?: SlideRequest;
    },
    timeoutSeconds: number,
    signal?: AbortSignal,
  ): Promise<QueryAnswer> {
    if (this.closed) return Promise.reject(new ArmError(503, "ServiceUnavailable", "the workspace is shutting down"));
    const idle = this.slots.some((s) => !s.job) || this.slots.length < this.size;
    if (!idle && this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new ArmError(
          429,
          "TooManyRequests",
          `all ${this.size} query workers are busy and ${this.queue.length} queries are waiting; retry later, or ` +
            "raise GSMCP_QUERY_WORKERS / GSMCP_QUERY_QUEUE",
          undefined,
          1,
        ),
      );
    }
    return new Promise<QueryAnswer>((resolve, reject) => {
      const job: Job = {
        req: {
          ...req,
          maxResultRows: this.maxResultRows,
          ...(this.maxIntermediateRows !== undefined ? { maxIntermediateRows: this.maxIntermediateRows } : {}),
        },
        id: this.nextId++,
        timeoutSeconds,
        timer: setTimeout(() => this.timedOut(job), timeoutSeconds * 1000),
        resolve,
        reject,
      };
      if (signal) {
        job.signal = signal;
        job.onAbort = () => this.cancel(job, new ArmError(499, "ClientClosedRequest", "the client went away"));
        if (signal.aborted) return job.onAbort();
        signal.addEventListener("abort", job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  private settle(job: Job): void {
    clearTimeout(job.timer);
    if (job.onAbort) job.signal?.removeEventListener("abort", job.onAbort);
    const q = this.queue.indexOf(job);
    if (q >= 0) this.queue.splice(q, 1);
  }

  private timedOut(job: Job): void {
    this.cancel(job, new ArmError(504, "GatewayTimeout", timeoutMessage(job.timeoutSeconds)));
  }

  /** Ends a job that has not answered: dropped from the queue, or its worker terminated and replaced. */
  private cancel(job: Job, err: Error): void {
    this.settle(job);
    const slot = job.slot;
    if (slot && slot.job === job) {
      this.counters.terminated++;
      this.stop(slot);
      this.replace();
    }
    job.reject(err);
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl("query-worker", import.meta.url), {
      workerData: { kind: "gsmcp-query-worker", dbPath: this.dbPath, preload: [...this.tablesInUse] },
      resourceLimits: { maxOldGenerationSizeMb: this.memoryMb },
      // The worker's stdout must not end up in the MCP stdio stream (stderr is inherited).
      stdout: true,
    });
    worker.stdout.resume();
    worker.unref();
    const slot: Slot = {
      worker,
      gone: false,
      heapUsed: 0,
      exited: new Promise((r) => worker.once("exit", () => r())),
    };
    this.counters.spawned++;
    worker.on("message", (reply: QueryReply | { kind: "tid"; tid: number }) => {
      if ("kind" in reply) {
        if (Number.isInteger(reply.tid) && reply.tid > 0) slot.tid = reply.tid;
        return;
      }
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = undefined;
      this.restorePriority(slot);
      this.settle(job);
      this.counters.completed++;
      if (reply.ok) {
        slot.heapUsed = reply.heapUsed;
        for (const t of reply.loaded) this.tablesInUse.add(t);
      }
      if (reply.ok) job.resolve({ body: reply.body, rows: reply.rows, ms: reply.ms, loadMs: reply.loadMs });
      else {
        job.reject(new ArmError(reply.status, reply.code, reply.message, reply.inner));
      }
      this.dispatch();
    });
    const failed = (err: (Error & { code?: string }) | undefined) => {
      if (slot.gone) return;
      this.counters.failed++;
      this.retire(slot);
      const job = slot.job;
      if (job) {
        this.settle(job);
        job.reject(
          err?.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? new ArmError(
                400,
                "QueryResourceLimitError",
                `query exceeded the query worker memory limit of ${this.memoryMb} MB; narrow the timespan, filter ` +
                  "early, project fewer columns, summarize or take fewer rows, or raise GSMCP_QUERY_MAX_MEMORY_MB",
              )
            : new ArmError(500, "InternalServerError", `query worker failed: ${err?.message ?? "exited unexpectedly"}`),
        );
      }
      // No eager respawn here: a worker that cannot start would crash in a loop. Waiting queries spawn one lazily.
      this.dispatch();
    };
    worker.on("error", failed);
    worker.on("exit", () => failed(undefined));
    this.slots.push(slot);
    return slot;
  }

  /**
   * A long query runs at the lowest CPU priority, so it cannot slow the calls that arrive meanwhile (on two cores the
   * runaway, the MCP server and a small query otherwise share the CPU evenly). Raising the priority back needs
   * CAP_SYS_NICE; without it the worker is replaced once its query ends.
   */
  private watchPriority(slot: Slot): void {
    clearTimeout(slot.niceTimer);
    slot.niceTimer = setTimeout(() => {
      if (!slot.tid || slot.gone) return;
      try {
        setPriority(slot.tid, LOW_PRIORITY);
        slot.reniced = true;
      } catch {}
    }, DEPRIORITISE_AFTER_MS);
    slot.niceTimer.unref();
  }

  private restorePriority(slot: Slot): void {
    clearTimeout(slot.niceTimer);
    if (!slot.reniced || !slot.tid) return;
    try {
      setPriority(slot.tid, 0);
      slot.reniced = false;
    } catch {
      this.stop(slot);
      this.replace();
    }
  }

  /** Terminates a worker now (not asked: its query may be in a tight loop); counted as stopping until it has exited. */
  private stop(slot: Slot): void {
    this.retire(slot);
    this.stopping.add(slot);
    void slot.exited.then(() => this.stopping.delete(slot));
    void slot.worker.terminate();
  }

  private retire(slot: Slot): void {
    clearTimeout(slot.niceTimer);
    slot.gone = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  /** After a healthy worker was terminated: a fresh one takes its place at once (and the next waiting query). */
  private replace(): void {
    if (this.closed) return;
    if (this.slots.length < this.size) this.spawn();
    this.dispatch();
  }

  private dispatch(): void {
    while (this.queue.length && !this.closed) {
      const slot = this.slots.find((s) => !s.job) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.queue.shift()!;
      job.slot = slot;
      slot.job = job;
      slot.worker.postMessage({ ...job.req, id: job.id } satisfies QueryRequest);
      this.watchPriority(slot);
    }
  }

  /** Rejects waiting and running queries and terminates every worker. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const job of [...this.queue, ...slots.flatMap((s) => (s.job ? [s.job] : []))]) {
      this.settle(job);
      job.reject(new ArmError(503, "ServiceUnavailable", "the workspace is shutting down"));
    }
    for (const s of slots) s.gone = true;
    await Promise.all(slots.map((s) => s.worker.terminate().then(() => s.exited)));
  }
}
