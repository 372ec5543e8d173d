import { describe, expect, it } from "vitest";
import {
  type AllowlistEntry,
  type DetectionRule,
  detectionSource,
  runDetection,
} from "../../src/telemetry/detections.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { alertedAgents, alertsOver, DELAY, ev, MIN, place, prng, rule, spread } from "./harness.js";

// Placement property of the hourly anomaly rule (make-series over seven days, run hourly): an agent with a steady,
// noisy baseline and one spike hour, the spike placed anywhere inside its clock hour (some of it in the hour's last
// minutes), every event arriving with its own ingestion delay (up to the expected 5 minutes), judged by consecutive
// hourly runs whose schedule phase is slid across the hour: exactly one alert, for the agent, in the run that judges
// that hour once all of its events have arrived (so the alert counts every call of the hour); a "spike" within the
// baseline's range, an allowlisted agent and a batch-tagged workload are quiet. Each run replays seven days, so each
// placement is judged by the three runs around the spike only.

const FILE = "agent-call-volume-anomaly.yaml";
const HOUR = 60 * MIN;
/** The spike hour is [H, H + 1h). */
const H = Date.parse("2026-06-08T10:00:00Z");
/** Run-schedule phases (minutes after the hour): every minute up to the delay, then every 5 minutes. */
const PHASES = [0, 1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55].map((m) => m * MIN);
const SPIKE = 60;
/** Within the baseline's range (3–8 calls an hour). */
const BENIGN = 8;

const call = (agent: string, t: number, over: Partial<AgentSecurityEvent> = {}) =>
  ev(agent, t, { PolicyDecision: "ALLOW", ToolName: "sentinel_kql_query", ErrorCode: 0, ...over });

/** 3–8 calls at random times in every hour of the seven days before the spike hour and the two after it. */
function baseline(agent: string, rand: () => number): AgentSecurityEvent[] {
  const out: AgentSecurityEvent[] = [];
  for (let h = H - 7 * 24 * HOUR; h < H + 3 * HOUR; h += HOUR) {
    if (h === H) continue;
    const n = 3 + Math.floor(rand() * 6);
    for (let k = 0; k < n; k++) out.push(call(agent, h + Math.floor(rand() * HOUR)));
  }
  return out;
}

interface Placement {
  name: string;
  /** Offsets from H of the first and the last call (both inside the hour). */
  first: number;
  last: number;
}

/** Where the spike falls inside its hour: most end in the hour's last minutes, where ingestion delay matters. */
function placements(rand: () => number): Placement[] {
  const endNear = (ms: number) => HOUR - 1 - Math.floor(rand() * ms);
  const out: Placement[] = [];
  for (const [name, span, end] of [
    ["whole hour", 59 * MIN, endNear(30_000)],
    ["last 10 min", 10 * MIN, endNear(10_000)],
    ["last 5 min", 5 * MIN, endNear(1_000)],
    ["last 2 min", 2 * MIN, endNear(1_000)],
    ["last minute", 50_000, endNear(500)],
    ["middle", 20 * MIN, 40 * MIN],
    ["first 10 min", 10 * MIN, 10 * MIN + Math.floor(rand() * MIN)],
  ] as const)
    out.push({ name, first: end - span, last: end });
  const span = MIN + Math.floor(rand() * 30 * MIN);
  const first = Math.floor(rand() * (HOUR - span - 1));
  out.push({ name: "random", first, last: first + span });
  return out;
}

/** n calls by `agent` from H + p.first to H + p.last (both ends included). */
function spikeOf(agent: string, n: number, p: Placement, rand: () => number, over: Partial<AgentSecurityEvent> = {}) {
  return place(
    spread(n, p.last - p.first, rand).map((t) => call(agent, t, over)),
    H + p.first,
  );
}

interface RunAlert {
  /** Index of the run (0, 1, 2) and its time. */
  run: number;
  at: number;
  agent: string;
  calls: number;
}

/**
 * Three consecutive hourly runs at `phase` after the hour, the first at or after H + DELAY: with the rule judging the
 * last complete hour as of now() - DELAY, they judge the hours before, of and after the spike. Each run sees only the
 * events ingested by its time.
 */
function hourlyRuns(
  r: DetectionRule,
  events: AgentSecurityEvent[],
  delays: number[],
  phase: number,
  allowlist: AllowlistEntry[] = [],
): { alerts: RunAlert[]; runTimes: number[] } {
  const source = detectionSource(events, { allowlist, ingestionDelayMs: (_e, i) => delays[i]! });
  const first = H + phase + (phase < DELAY ? HOUR : 0);
  const runTimes = [first, first + HOUR, first + 2 * HOUR];
  const alerts: RunAlert[] = [];
  runTimes.forEach((at, run) => {
    const out = runDetection(r, source, at);
    const col = (n: string) => out.result.columns.findIndex((c) => c.name === n);
    for (const row of out.result.rows)
      alerts.push({ run, at, agent: String(row[col("AgentId")]), calls: Number(row[col("LastHourCalls")]) });
  });
  return { alerts, runTimes };
}

/** The run that judges the spike hour: the first at or after H + 1h + DELAY (all of its events have arrived). */
const RIGHT_RUN = 1;

interface Tally {
  cases: number;
  runs: number;
  failures: string[];
  /** Failures by kind: missed, double, entity, incomplete (alerted counting only part of the hour), early, late, benign. */
  kinds: Record<string, number>;
}

/** Slides every placement across every phase: the spike must alert once, in the right run, with all its calls. */
function property(r: DetectionRule, seed: number, phases = PHASES, only?: (p: Placement) => boolean): Tally {
  const rand = prng(seed);
  const base = baseline("mallet", rand);
  const t: Tally = { cases: 0, runs: 0, failures: [], kinds: {} };
  for (const p of placements(rand).filter((p) => !only || only(p))) {
    const spike = spikeOf("mallet", SPIKE, p, rand);
    const benign = spikeOf("mallet", BENIGN, p, rand);
    const events = [...base, ...spike];
    const quiet = [...base, ...benign];
    const delays = events.map(() => Math.floor(rand() * DELAY));
    const quietDelays = quiet.map(() => Math.floor(rand() * DELAY));
    for (const phase of phases) {
      const where = `${p.name} (+${Math.round(p.first / 1000)}s..+${Math.round(p.last / 1000)}s), phase +${phase / MIN} min`;
      t.cases++;
      const got = hourlyRuns(r, events, delays, phase);
      t.runs += got.runTimes.length;
      const a = got.alerts;
      const fail = (kind: string, what: string) => {
        t.failures.push(`${kind}: ${where}: ${what}`);
        t.kinds[kind] = (t.kinds[kind] ?? 0) + 1;
      };
      const one = a[0]!;
      const at = () => `run ${one.run} (${(one.at - H) / MIN} min after the hour began)`;
      if (a.length === 0) fail("missed", "0 alerts");
      else if (a.length > 1)
        fail("double", `${a.length} alerts (run:calls ${a.map((x) => `${x.run}:${x.calls}`).join(", ")})`);
      else if (one.agent !== "mallet") fail("entity", `the alert names ${one.agent}`);
      else if (one.calls !== SPIKE) fail("incomplete", `${at()} counted ${one.calls} of ${SPIKE} calls`);
      else if (one.run < RIGHT_RUN) fail("early", `${at()}, before the hour's events could all have arrived`);
      else if (one.run > RIGHT_RUN) fail("late", `${at()}, an hour after the run that judges the hour`);
      const q = hourlyRuns(r, quiet, quietDelays, phase);
      t.runs += q.runTimes.length;
      if (q.alerts.length !== 0) fail("benign", `${BENIGN} calls raised ${q.alerts.length} alerts`);
    }
  }
  return t;
}

describe("hourly anomaly rule: one alert per spike hour, wherever the spike and the schedule fall", () => {
  const r = rule(FILE);
  const numbers: Record<string, unknown> = {};

  it("every placement inside the hour and every schedule phase: exactly one alert, for the agent, in the run that judges the hour with all its calls; 8 calls are quiet", () => {
    const t = property(r, 4242);
    numbers.property = { phases: PHASES.length, placements: t.cases / PHASES.length, cases: t.cases, runs: t.runs };
    numbers.failures = { total: t.failures.length, ...t.kinds };
    expect(t.failures).toEqual([]);
    expect(t.cases).toBe(PHASES.length * 8);
  });

  it("the harness's schedule (alertsOver) agrees: one alert naming the spiking agent, none for 8 calls", () => {
    const rand = prng(7);
    // Another agent with the same noisy baseline: only the spiking one is named.
    const base = [...baseline("mallet", rand), ...baseline("oscar", rand)];
    const [whole, , last5] = placements(rand);
    for (const [p, phase] of [
      [last5!, 0],
      [last5!, 3 * MIN],
      [whole!, 17 * MIN],
    ] as const) {
      const events = [...base, ...spikeOf("mallet", SPIKE, p, rand)];
      const delays = events.map(() => Math.floor(rand() * DELAY));
      const got = alertsOver(r, events, { from: H, to: H + HOUR }, { delay: (i) => delays[i]!, phase });
      expect(got.alerts, `${p.name}, phase ${phase / MIN} min`).toBe(1);
      expect(alertedAgents(got.slide)).toEqual(["mallet"]);
      const quiet = [...base, ...spikeOf("mallet", BENIGN, p, rand)];
      expect(alertsOver(r, quiet, { from: H, to: H + HOUR }, { delay: (i) => delays[i] ?? 0, phase }).alerts).toBe(0);
    }
  });

  it("an allowlisted agent and a batch-tagged workload are quiet; another job tag still alerts", () => {
    const rand = prng(31);
    const base = baseline("mallet", rand);
    const ps = placements(rand).filter((p) => ["whole hour", "last 2 min"].includes(p.name));
    const listed: AllowlistEntry = {
      Agent: "mallet",
      Tool: "*",
      JobPattern: "*",
      Expiry: new Date(H + 30 * 24 * HOUR).toISOString(),
    };
    for (const p of ps)
      for (const phase of [0, 3 * MIN, 30 * MIN]) {
        const where = `${p.name}, phase ${phase / MIN} min`;
        const events = [...base, ...spikeOf("mallet", SPIKE, p, rand)];
        const delays = events.map(() => Math.floor(rand() * DELAY));
        expect(hourlyRuns(r, events, delays, phase, [listed]).alerts, `allowlisted, ${where}`).toEqual([]);
        const batch = [...base, ...spikeOf("mallet", SPIKE, p, rand, { JobId: "batch:reindex-7" })];
        expect(hourlyRuns(r, batch, delays, phase).alerts, `batch, ${where}`).toEqual([]);
        const interactive = [...base, ...spikeOf("mallet", SPIKE, p, rand, { JobId: "interactive:7" })];
        expect(
          hourlyRuns(r, interactive, delays, phase).alerts.map((a) => [a.run, a.agent, a.calls]),
          `interactive, ${where}`,
        ).toEqual([[RIGHT_RUN, "mallet", SPIKE]]);
      }
  });

  it("the property has teeth: judging the hour as of now() (Delay 0m), runs just after the hour miss or undercount it", () => {
    const early = { ...r, query: r.query.replace("let Delay = 5m;", "let Delay = 0m;") };
    expect(early.query).not.toBe(r.query);
    const t = property(early, 4242, [0, 2 * MIN, 30 * MIN], (p) => ["last 2 min", "last minute"].includes(p.name));
    numbers.withoutDelay = { cases: t.cases, failures: t.failures.length };
    expect(t.failures.length).toBeGreaterThan(0);
    // Only the runs less than the delay after the hour go wrong.
    expect(t.failures.filter((f) => f.includes("phase +30 min"))).toEqual([]);
  });

  it("reports the numbers", () => {
    console.log(`anomaly placement property: ${JSON.stringify(numbers)}`);
  });
});
