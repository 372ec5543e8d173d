import { prepareKql } from "./engine.js";
import { KqlError } from "./errors.js";
import { adoptIngestionTimes } from "./ingestion.js";
import type { KqlColumn, KqlDataSource, KqlTable, KqlValue } from "./types.js";

// A scheduled analytics rule replayed over a past range, as Sentinel would have scheduled it: runs at
// t_k = end - k·frequency (k = 0, 1, … while t_k > end - lookback), each run seeing now() = t_k and only the rows with
// TimeGenerated in [t_k - period, t_k), firing when (result row count) <operator> threshold. The query is parsed once;
// each run slices the tables to its window through a time index built once per table.

export type TriggerOperator = "GreaterThan" | "LessThan" | "Equal" | "NotEqual";

export const TRIGGER_OPERATORS: readonly TriggerOperator[] = ["GreaterThan", "LessThan", "Equal", "NotEqual"];

export interface SlideOptions {
  /** The newest run time (epoch ms). */
  end: number;
  /** How far back runs are scheduled: runs at t_k > end - lookbackMs. */
  lookbackMs: number;
  /** queryFrequency. */
  frequencyMs: number;
  /** queryPeriod: each run's data window [t_k - periodMs, t_k). */
  periodMs: number;
  operator: TriggerOperator;
  threshold: number;
  /** Rows kept of the sample (the newest firing's result). */
  sampleSize: number;
  /** Wall-clock deadline (epoch ms, Date.now()); checked between runs, throws SlideDeadlineError. */
  deadline?: number;
  /** Firings listed (all are counted in `fired`). Default 200. */
  maxFirings?: number;
  /** Per run, as KqlExecuteOptions. */
  maxResultRows?: number;
  maxIntermediateRows?: number;
  /** Each run sees only the rows ingested by its run time (KqlExecuteOptions.ingestedBy), as Sentinel would have. */
  asIngested?: boolean;
  /** Tables the rule's window does not bound (KqlExecuteOptions.unboundedTables), e.g. ["Watchlist"]. */
  unboundedTables?: readonly string[];
}

export interface SlideFiring {
  runTime: number;
  count: number;
}

export interface SlideResult {
  runs: number;
  fired: number;
  /** Runs that fired, newest first, at most maxFirings. */
  firings: SlideFiring[];
  /** The newest firing's result rows (engine values: datetimes as epoch ms), at most sampleSize. */
  sample: { runTime: number; columns: KqlColumn[]; rows: KqlValue[][] } | undefined;
  /** Everything any run read. */
  reads: { tables: string[]; storedFunctions: string[] };
}

/** A slide that passed its deadline between runs; nothing partial is returned (a partial count would mislead). */
export class SlideDeadlineError extends Error {
  override readonly name = "SlideDeadlineError";
  constructor(
    readonly runsEvaluated: number,
    readonly runs: number,
  ) {
    super(`rule preview passed its time limit after ${runsEvaluated} of ${runs} runs`);
  }
}

/** More runs than this is not a rule schedule (Sentinel's minimum frequency gives 2,016 over 7 days). */
export const MAX_SLIDE_RUNS = 50_000;

export function fires(count: number, op: TriggerOperator, threshold: number): boolean {
  switch (op) {
    case "GreaterThan":
      return count > threshold;
    case "LessThan":
      return count < threshold;
    case "Equal":
      return count === threshold;
    case "NotEqual":
      return count !== threshold;
  }
}

/** Number of runs a schedule has: t_k = end - k·frequency > end - lookback. */
export function runCount(lookbackMs: number, frequencyMs: number): number {
  return Math.ceil(lookbackMs / frequencyMs);
}

export function slideRule(query: string, source: KqlDataSource, opts: SlideOptions): SlideResult {
  const { end, lookbackMs, frequencyMs, periodMs } = opts;
  for (const [k, v] of Object.entries({ lookbackMs, frequencyMs, periodMs }))
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${k} must be a positive number of milliseconds`);
  if (!TRIGGER_OPERATORS.includes(opts.operator)) throw new RangeError(`unknown trigger operator "${opts.operator}"`);
  const runs = runCount(lookbackMs, frequencyMs);
  if (runs > MAX_SLIDE_RUNS)
    throw new KqlError({
      code: "limit",
      message: `the schedule has ${runs} runs, over the limit of ${MAX_SLIDE_RUNS}; use a larger queryFrequency`,
    });
  const run = prepareKql(query);
  const windowed = new WindowedSource(source, opts.unboundedTables ?? []);
  const maxFirings = opts.maxFirings ?? 200;
  const tables = new Set<string>();
  const functions = new Set<string>();
  const firings: SlideFiring[] = [];
  let fired = 0;
  let sample: SlideResult["sample"];
  for (let k = 0; k < runs; k++) {
    if (opts.deadline !== undefined && Date.now() > opts.deadline) throw new SlideDeadlineError(k, runs);
    const t = end - k * frequencyMs;
    const span = { start: t - periodMs, end: t };
    windowed.window = span;
    const res = run(windowed, {
      now: t,
      timespan: span,
      ...(opts.maxResultRows !== undefined ? { maxResultRows: opts.maxResultRows } : {}),
      ...(opts.maxIntermediateRows !== undefined ? { maxIntermediateRows: opts.maxIntermediateRows } : {}),
      ...(opts.unboundedTables ? { unboundedTables: opts.unboundedTables } : {}),
      ...(opts.asIngested ? { ingestedBy: t } : {}),
    });
    for (const x of res.reads.tables) tables.add(x);
    for (const x of res.reads.storedFunctions) functions.add(x);
    const count = res.rows.length;
    if (!fires(count, opts.operator, opts.threshold)) continue;
    fired++;
    if (firings.length < maxFirings) firings.push({ runTime: t, count });
    sample ??= { runTime: t, columns: res.columns, rows: res.rows.slice(0, Math.max(0, opts.sampleSize)) };
  }
  return {
    runs,
    fired,
    firings,
    sample,
    reads: { tables: [...tables].sort(), storedFunctions: [...functions].sort() },
  };
}

/** Rows of one table by TimeGenerated: `rows[order[i]]` has time `times[i]`, ascending; rows without one are left out. */
interface TimeIndex {
  times: Float64Array;
  /** Absent when the table's rows are already in time order (then order[i] = i and a window is one slice). */
  order?: Uint32Array;
}

/**
 * The source as one run sees it: every table with a TimeGenerated column holds only the rows in the current window,
 * in the table's own order (so take/order-sensitive operators see what a timespan-bounded query would). The engine
 * still applies the timespan on every scan; this only saves it from scanning the whole table once per run.
 */
class WindowedSource implements KqlDataSource {
  window = { start: 0, end: 0 };
  private readonly indexes = new Map<KqlTable, { rows: number; index: TimeIndex | undefined }>();

  constructor(
    private readonly base: KqlDataSource,
    private readonly unbounded: readonly string[],
  ) {}

  tableNames(): string[] {
    return this.base.tableNames();
  }

  storedFunction(name: string): string | undefined {
    return this.base.storedFunction?.(name);
  }

  table(name: string): KqlTable | undefined {
    const t = this.base.table(name);
    if (!t || this.unbounded.includes(name)) return t;
    let hit = this.indexes.get(t);
    if (!hit || hit.rows !== t.rows.length) {
      hit = { rows: t.rows.length, index: buildIndex(t) };
      this.indexes.set(t, hit);
    }
    const ix = hit.index;
    if (!ix) return t;
    const a = lowerBound(ix.times, this.window.start);
    const b = lowerBound(ix.times, this.window.end);
    if (!ix.order) return { name: t.name, columns: t.columns, rows: t.rows.slice(a, b) };
    const picked = ix.order.slice(a, b).sort();
    const rows: KqlValue[][] = new Array(picked.length);
    for (let i = 0; i < picked.length; i++) rows[i] = t.rows[picked[i]!]!;
    return { name: t.name, columns: t.columns, rows };
  }
}

function buildIndex(t: KqlTable): TimeIndex | undefined {
  const ti = t.columns.findIndex((c) => c.name === "TimeGenerated");
  if (ti < 0) return undefined;
  // Stored rows carry their ingestion time as an extra element until first scanned; adopt once, not per window.
  adoptIngestionTimes(t);
  const n = t.rows.length;
  let sorted = true;
  let prev = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = t.rows[i]![ti];
    if (typeof v !== "number" || !(v >= prev)) {
      sorted = false;
      break;
    }
    prev = v;
  }
  if (sorted) return { times: Float64Array.from(t.rows, (r) => r[ti] as number) };
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = t.rows[i]![ti];
    if (typeof v === "number" && !Number.isNaN(v)) idx.push(i);
  }
  // Stable by (time, position): equal times keep table order.
  idx.sort((x, y) => (t.rows[x]![ti] as number) - (t.rows[y]![ti] as number) || x - y);
  return { times: Float64Array.from(idx, (i) => t.rows[i]![ti] as number), order: Uint32Array.from(idx) };
}

/** First index of a sorted array whose value is ≥ x. */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
