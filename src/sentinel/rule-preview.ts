import { DEFAULT_MAX_QUERY_SECONDS, isoDurationMs } from "../governance/decide.js";
import { fires, lowerBound, runCount, TRIGGER_OPERATORS, type TriggerOperator } from "../kql/slide.js";
import type { QueryPool } from "../workspace/query-pool.js";
import type { QueryReads, SentinelBackend } from "./backend.js";
import { BackendError } from "./errors.js";

// "How often would this scheduled rule have fired over the last 7 days?" Locally the embedded engine replays the rule
// run by run (engine-slide: each run its own now() and data window). Sentinel has no such API, so against Azure the
// query runs once over the whole range and its output rows are counted per run window by TimeGenerated
// (single-query-client-slide), which is exact only for row-level queries; the result says so.

/** The fields of a scheduled rule the preview needs. */
export interface RulePreviewRule {
  query: string;
  /** ISO 8601 durations (PT5M … P14D). */
  queryFrequency: string;
  queryPeriod: string;
  triggerOperator: TriggerOperator;
  triggerThreshold: number;
}

export interface RulePreviewOptions {
  /** The newest run time (epoch ms). Default Date.now(). */
  now?: number;
  /** How far back runs are scheduled (ISO 8601 duration). Default P7D. */
  lookback?: string;
  /** Hard limit for the one evaluation (seconds). Default DEFAULT_MAX_QUERY_SECONDS. */
  timeoutSeconds?: number;
  /** Rows kept of the newest firing's result. Default 20. */
  sampleSize?: number;
  /** Firings listed (all are counted). Default 200. */
  maxFirings?: number;
  /** Local target: a running workspace's query pool (WorkspaceHandle.queryPool) instead of a one-off pool. */
  pool?: QueryPool;
  signal?: AbortSignal;
}

export type RulePreviewMethod = "engine-slide" | "single-query-client-slide" | "unavailable";

export interface RulePreview {
  method: RulePreviewMethod;
  runs: number;
  fired: number;
  /** Runs that fired, newest first (ISO times). */
  firings: { runTime: string; count: number }[];
  /** What the newest firing run would have raised: its result rows, capped. */
  sample?: { runTime: string; columns: { name: string; type: string }[]; rows: unknown[][] };
  /** What the engine read (embedded workspace only), for read ⊆ analysed. */
  reads?: QueryReads;
  /** How the numbers may differ from what Sentinel would have done. */
  caveat?: string;
  /** Why there are no numbers (method "unavailable"). */
  reason?: string;
  /** Data examined: from the oldest run's window start to the newest run time. */
  window: { from: string; to: string };
  frequency: string;
  period: string;
}

/** A local workspace directory, or a Sentinel backend (Azure). */
export type RulePreviewTarget = string | SentinelBackend;

const MIN_FREQUENCY_MS = 5 * 60_000;
const MAX_PERIOD_MS = 14 * 86_400_000;

export const CLIENT_SLIDE_CAVEAT =
  "Sentinel has no rule-preview API: the query ran once over the whole range (now() = the newest run) and its output " +
  "rows were counted per run window by TimeGenerated. Exact for queries that filter and project rows; aggregations " +
  "(summarize, count, distinct, top, join), dedup and now()/ago() filters were not re-evaluated per window, and a " +
  "result cut at the query API's row limit undercounts.";

/** The schedule in milliseconds; throws RangeError for durations Sentinel would not accept. */
export function ruleSchedule(
  rule: RulePreviewRule,
  lookback = "P7D",
): { frequencyMs: number; periodMs: number; lookbackMs: number } {
  const ms = (what: string, d: string) => {
    try {
      return isoDurationMs(d);
    } catch (e) {
      throw new RangeError(`${what}: ${(e as Error).message}`);
    }
  };
  const frequencyMs = ms("queryFrequency", rule.queryFrequency);
  const periodMs = ms("queryPeriod", rule.queryPeriod);
  const lookbackMs = ms("lookback", lookback);
  if (frequencyMs < MIN_FREQUENCY_MS) throw new RangeError("queryFrequency must be at least PT5M");
  if (periodMs <= 0 || periodMs > MAX_PERIOD_MS) throw new RangeError("queryPeriod must be between PT1S and P14D");
  if (lookbackMs <= 0 || lookbackMs > MAX_PERIOD_MS) throw new RangeError("lookback must be between PT1S and P14D");
  if (!TRIGGER_OPERATORS.includes(rule.triggerOperator))
    throw new RangeError(`triggerOperator must be one of ${TRIGGER_OPERATORS.join(", ")}`);
  if (!Number.isInteger(rule.triggerThreshold)) throw new RangeError("triggerThreshold must be an integer");
  return { frequencyMs, periodMs, lookbackMs };
}

export async function previewRuleImpact(
  target: RulePreviewTarget,
  rule: RulePreviewRule,
  opts: RulePreviewOptions = {},
): Promise<RulePreview> {
  const sched = ruleSchedule(rule, opts.lookback);
  const end = opts.now ?? Date.now();
  const runs = runCount(sched.lookbackMs, sched.frequencyMs);
  const oldest = end - (runs - 1) * sched.frequencyMs;
  const common = {
    window: { from: iso(oldest - sched.periodMs), to: iso(end) },
    frequency: rule.queryFrequency,
    period: rule.queryPeriod,
  };
  const seconds = opts.timeoutSeconds ?? DEFAULT_MAX_QUERY_SECONDS;
  const sampleSize = opts.sampleSize ?? 20;
  const maxFirings = opts.maxFirings ?? 200;
  if (typeof target === "string") {
    const { previewInWorkspace } = await import("../workspace/preview.js");
    let s: Awaited<ReturnType<typeof previewInWorkspace>>;
    try {
      s = await previewInWorkspace(
        target,
        rule.query,
        {
          end,
          ...sched,
          operator: rule.triggerOperator,
          threshold: rule.triggerThreshold,
          sampleSize,
          maxFirings,
        },
        {
          timeoutSeconds: seconds,
          ...(opts.pool ? { pool: opts.pool } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      );
    } catch (e) {
      throw localError(e, seconds);
    }
    return {
      method: "engine-slide",
      runs: s.runs,
      fired: s.fired,
      firings: s.firings.map((f) => ({ runTime: iso(f.runTime), count: f.count })),
      ...(s.sample ? { sample: { ...s.sample, runTime: iso(s.sample.runTime) } } : {}),
      reads: s.reads,
      ...common,
    };
  }
  // One query over every run's window (lookback + period: a little more than [oldest - period, end]).
  const table = await target.queryLogs(rule.query, duration(sched.lookbackMs + sched.periodMs), {
    serverTimeoutSeconds: seconds,
    ...(opts.signal ? { abortSignal: opts.signal } : {}),
  });
  const ti = table.columns.findIndex((c) => c.name === "TimeGenerated");
  if (ti < 0)
    return {
      method: "unavailable",
      runs,
      fired: 0,
      firings: [],
      reason:
        "the query's output has no TimeGenerated column (it aggregates or projects it away), so its rows cannot be " +
        "placed in run windows, and Sentinel has no API to replay a rule run by run",
      ...(table.reads ? { reads: table.reads } : {}),
      ...common,
    };
  const s = clientSlide(table.rows, ti, { end, runs, ...sched, rule, sampleSize, maxFirings });
  return {
    method: "single-query-client-slide",
    runs,
    fired: s.fired,
    firings: s.firings,
    ...(s.sample ? { sample: { runTime: s.sample.runTime, columns: table.columns, rows: s.sample.rows } } : {}),
    ...(table.reads ? { reads: table.reads } : {}),
    caveat: CLIENT_SLIDE_CAVEAT,
    ...common,
  };
}

/**
 * Counts result rows per run window [t_k - period, t_k) by their TimeGenerated (ISO text or epoch ms; rows without a
 * readable one are in no window). The sample is the newest firing window's rows, in result order.
 */
export function clientSlide(
  rows: unknown[][],
  ti: number,
  o: {
    end: number;
    runs: number;
    frequencyMs: number;
    periodMs: number;
    rule: Pick<RulePreviewRule, "triggerOperator" | "triggerThreshold">;
    sampleSize: number;
    maxFirings: number;
  },
): { fired: number; firings: { runTime: string; count: number }[]; sample?: { runTime: string; rows: unknown[][] } } {
  const timed: { t: number; i: number }[] = [];
  rows.forEach((r, i) => {
    const v = r[ti];
    const t = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : Number.NaN;
    if (!Number.isNaN(t)) timed.push({ t, i });
  });
  timed.sort((a, b) => a.t - b.t || a.i - b.i);
  const times = timed.map((x) => x.t);
  const firings: { runTime: string; count: number }[] = [];
  let fired = 0;
  let sample: { runTime: string; rows: unknown[][] } | undefined;
  for (let k = 0; k < o.runs; k++) {
    const t = o.end - k * o.frequencyMs;
    const a = lowerBound(times, t - o.periodMs);
    const b = lowerBound(times, t);
    if (!fires(b - a, o.rule.triggerOperator, o.rule.triggerThreshold)) continue;
    fired++;
    if (firings.length < o.maxFirings) firings.push({ runTime: iso(t), count: b - a });
    if (!sample) {
      const picked = timed
        .slice(a, b)
        .map((x) => x.i)
        .sort((x, y) => x - y);
      sample = { runTime: iso(t), rows: picked.slice(0, Math.max(0, o.sampleSize)).map((i) => rows[i]!) };
    }
  }
  return { fired, firings, ...(sample ? { sample } : {}) };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Milliseconds as an ISO 8601 duration the query API takes (whole seconds, rounded up). */
export function duration(ms: number): string {
  let s = Math.ceil(ms / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
  const out = `P${d ? `${d}D` : ""}${time ? `T${time}` : ""}`;
  return out === "P" ? "PT0S" : out;
}

/** The pool's API-shaped errors as backend failures, so the caller maps them like a query's (toGovernanceError). */
function localError(e: unknown, seconds: number): unknown {
  const a = e as { status?: number; code?: string; message?: string };
  if (typeof a?.status !== "number") return e;
  const msg = a.message ?? "rule preview failed";
  const extra = { status: a.status, cause: e };
  if (a.status === 504)
    return new BackendError("timeout", `rule preview exceeded the time limit of ${seconds}s: ${msg}`, extra);
  if (a.status === 499) return new BackendError("cancelled", msg, extra);
  if (a.code === "QueryResourceLimitError") return new BackendError("limit", msg, extra);
  return new BackendError("failed", msg, extra);
}
