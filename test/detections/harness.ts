import { randomUUID } from "node:crypto";
import { type SlideResult, slideRule } from "../../src/kql/slide.js";
import {
  type AllowlistEntry,
  type DetectionRule,
  detectionSource,
  loadDetections,
  shortDurationMs,
  UNBOUNDED_TABLES,
} from "../../src/telemetry/detections.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { mulberry32 } from "../../src/workspace/seed-determinism.js";

// Helpers for the detection tests: rules by file, synthetic events, placing a recorded attack anywhere, and running a
// rule over consecutive scheduled runs (src/kql/slide.ts) that each see only what had been ingested by then.

export const RULES = loadDetections("examples/detections");
export const rule = (file: string): DetectionRule => RULES.find((r) => r.file === file)!;

export const MIN = 60_000;
/** Every rule's expected ingestion delay (the `Delay` let of its query). */
export const DELAY = 5 * MIN;

/** Deterministic PRNG (mulberry32), so a failing placement can be re-run. */
export const prng = mulberry32;

export function ev(agent: string, t: number, over: Partial<AgentSecurityEvent> = {}): AgentSecurityEvent {
  return {
    TimeGenerated: new Date(t).toISOString(),
    EventId: randomUUID(),
    AgentId: agent,
    TenantId: "t",
    EventType: "ToolInvocation",
    Action: "incidents.close",
    PolicyDecision: "BLOCK",
    ToolName: "sentinel_incidents_close",
    ErrorCode: 403,
    Severity: 3,
    SourceSystem: "test",
    JobId: "job-1",
    PolicyHash: "sha256:p",
    ...over,
  };
}

/** Moves events so the earliest is at `start`, keeping their spacing. */
export function place(events: AgentSecurityEvent[], start: number): AgentSecurityEvent[] {
  const t0 = Math.min(...events.map((e) => Date.parse(e.TimeGenerated)));
  return events.map((e) => ({
    ...e,
    EventId: randomUUID(),
    TimeGenerated: new Date(Date.parse(e.TimeGenerated) - t0 + start).toISOString(),
  }));
}

/** Total alerts over consecutive runs covering [from, to] (+ the delay and one period after), AlertPerResult. */
export function alertsOver(
  r: DetectionRule,
  events: AgentSecurityEvent[],
  window: { from: number; to: number },
  opts: { allowlist?: AllowlistEntry[]; delay?: (i: number) => number; phase?: number } = {},
): { alerts: number; runs: number; slide: SlideResult } {
  const f = shortDurationMs(r.queryFrequency);
  const p = shortDurationMs(r.queryPeriod);
  // Runs on a fixed schedule (multiples of the frequency, shifted by `phase`) from before the events to after the
  // last one has arrived and been judged.
  const phase = opts.phase ?? 0;
  const end = Math.ceil((window.to + DELAY + 2 * f - phase) / f) * f + phase;
  const start = window.from - f;
  const source = detectionSource(events, {
    ...(opts.allowlist ? { allowlist: opts.allowlist } : {}),
    ...(opts.delay ? { ingestionDelayMs: (_e, i) => opts.delay!(i) } : {}),
  });
  const slide = slideRule(r.query, source, {
    end,
    lookbackMs: end - start,
    frequencyMs: f,
    periodMs: p,
    operator: "GreaterThan",
    threshold: 0,
    sampleSize: 5,
    asIngested: true,
    unboundedTables: UNBOUNDED_TABLES,
    maxFirings: 10_000,
  });
  return { alerts: slide.firings.reduce((n, x) => n + x.count, 0), runs: slide.runs, slide };
}

/** The AgentId of every alert row of the newest firing run. */
export function alertedAgents(slide: SlideResult): string[] {
  const s = slide.sample;
  if (!s) return [];
  const i = s.columns.findIndex((c) => c.name === "AgentId");
  return [...new Set(s.rows.map((r) => String(r[i])))].sort();
}

export interface ThresholdCase {
  file: string;
  window: number;
  /** The attack: events relative to 0, within the window. */
  attack: (rand: () => number) => AgentSecurityEvent[];
  /** The same traffic at 90 % of the threshold (rounded down). */
  benign: (rand: () => number) => AgentSecurityEvent[];
}

/** n times spread over [0, span] in random order-preserving gaps, first at 0 and last at `span`. */
export function spread(n: number, span: number, rand: () => number): number[] {
  const cuts = Array.from({ length: n - 2 }, () => rand() * span).sort((a, b) => a - b);
  return [0, ...cuts, span].slice(0, n).map(Math.round);
}

const violation = (agent: string, t: number, decision: "BLOCK" | "CONSTRAIN") =>
  ev(agent, t, {
    EventType: "PolicyEvaluation",
    PolicyDecision: decision,
    Severity: decision === "BLOCK" ? 3 : 2,
    ErrorCode: 0,
  });
const injected = (agent: string, t: number) =>
  ev(agent, t, {
    EventType: "PolicyEvaluation",
    PolicyDecision: "LOG",
    Severity: 3,
    ErrorCode: 0,
    ToolName: "sentinel_kql_query",
  });

export const CASES: ThresholdCase[] = [
  {
    file: "agent-blocked-tool-attempts.yaml",
    window: MIN,
    attack: (rand) => spread(3, 0.95 * MIN * rand(), rand).map((t) => ev("mallory", t)),
    benign: (rand) => spread(2, 0.95 * MIN * rand(), rand).map((t) => ev("mallory", t)),
  },
  {
    file: "agent-repeated-policy-violations.yaml",
    window: 5 * MIN,
    // 15 weight units: five BLOCKs, or three BLOCKs and six CONSTRAINs.
    attack: (rand) =>
      rand() < 0.5
        ? spread(5, 4.8 * MIN * rand(), rand).map((t) => violation("victor", t, "BLOCK"))
        : spread(9, 4.8 * MIN * rand(), rand).map((t, i) =>
            violation("victor", t, i % 3 === 0 ? "BLOCK" : "CONSTRAIN"),
          ),
    // 13 units (90 % of 15, rounded down): four BLOCKs and a CONSTRAIN.
    benign: (rand) =>
      spread(5, 4.8 * MIN * rand(), rand).map((t, i) => violation("victor", t, i === 2 ? "CONSTRAIN" : "BLOCK")),
  },
  {
    file: "agent-suspicious-prompt-burst.yaml",
    window: 10 * MIN,
    attack: (rand) => spread(10, 9.8 * MIN * rand(), rand).map((t) => injected("grace", t)),
    benign: (rand) => spread(9, 9.8 * MIN * rand(), rand).map((t) => injected("grace", t)),
  },
];
