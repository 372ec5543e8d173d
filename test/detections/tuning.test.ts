import { describe, expect, it } from "vitest";
import {
  type AllowlistEntry,
  type DetectionRule,
  detectionSource,
  runDetection,
} from "../../src/telemetry/detections.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { alertsOver, CASES, ev, MIN, place, prng, RULES, rule } from "./harness.js";

// The seed's tuning, in every rule: the AgentAllowlist watchlist excludes listed activity (agent, tool, job pattern)
// until its expiry, and workloads are excluded by job tag or tenant. Each rule's attack alerts untuned; each form of
// tuning silences it; an expired entry, another tool, or a job outside the pattern does not.

const T0 = Date.parse("2026-06-01T00:00:00Z");
const HOUR = 60 * MIN;

interface Scenario {
  /** The attack by `agent` in job `job` of tenant `tenant`, starting at T0. */
  events: (o: { job: string; tenant: string }) => AgentSecurityEvent[];
  /** The agent and tool the attack is by. */
  agent: string;
  tool: string;
  /** Alerts for the events: over scheduled runs (default), or one run at a fixed time (hourly rules). */
  alerts?: (r: DetectionRule, events: AgentSecurityEvent[], allowlist: AllowlistEntry[]) => number;
  window: number;
}

const withJob = (events: AgentSecurityEvent[], o: { job: string; tenant: string }) =>
  events.map((e) => ({ ...e, JobId: o.job, TenantId: o.tenant }));

const rand = prng(99);
const SCENARIOS: Record<string, Scenario> = {};
for (const c of CASES) {
  const attack = c.attack(rand);
  SCENARIOS[c.file] = {
    agent: attack[0]!.AgentId,
    tool: attack[0]!.ToolName,
    window: c.window,
    events: (o) => withJob(place(attack, T0), o),
  };
}
SCENARIOS["agent-auth-failure-then-blocked-call.yaml"] = {
  agent: "eve",
  tool: "sentinel_incidents_close",
  window: MIN,
  events: (o) =>
    withJob(
      [
        ev("unverified:eve", T0, {
          EventType: "AuthFailure",
          ToolName: "sentinel_incidents_list",
          PolicyDecision: "BLOCK",
          ErrorCode: 401,
        }),
        ev("eve", T0 + 10_000),
      ],
      o,
    ),
};
SCENARIOS["agent-call-rate-spike.yaml"] = {
  agent: "ivan",
  tool: "sentinel_kql_query",
  window: MIN,
  events: (o) =>
    withJob(
      [
        ...Array.from({ length: 90 }, (_, m) => [T0 - (m + 2) * MIN, T0 - (m + 2) * MIN + 20_000]).flat(),
        ...Array.from({ length: 25 }, (_, k) => T0 + k * 1500),
      ].map((t) => ev("ivan", t, { PolicyDecision: "ALLOW", ToolName: "sentinel_kql_query", ErrorCode: 0 })),
      o,
    ),
};
SCENARIOS["agent-call-volume-anomaly.yaml"] = {
  agent: "mallet",
  tool: "sentinel_kql_query",
  window: HOUR,
  events: (o) =>
    withJob(
      Array.from({ length: 7 * 24 }, (_, i) => T0 - (i + 1) * HOUR).flatMap((t, i) =>
        Array.from({ length: i === 0 ? 80 : 4 + (i % 3) }, (_, k) =>
          ev("mallet", t + k * 1000, { PolicyDecision: "ALLOW", ToolName: "sentinel_kql_query", ErrorCode: 0 }),
        ),
      ),
      o,
    ),
  // An hourly rule: the run just after the hour it judges.
  alerts: (r, events, allowlist) => runDetection(r, detectionSource(events, { allowlist }), T0 + 5 * MIN).alerts,
};
SCENARIOS["agent-checkpoint-stream-stopped.yaml"] = {
  agent: "carol",
  tool: "sentinel_incidents_list",
  window: 45 * MIN,
  // Checkpoints every 10 s for 10 minutes, then none while carol keeps calling for half an hour.
  events: (o) => [
    ...Array.from({ length: 60 }, (_, i) =>
      ev("-", T0 + i * 10_000, {
        EventType: "Checkpoint",
        PolicyDecision: "LOG",
        ToolName: "-",
        TenantId: o.tenant,
        ToolParameters: { checkpoint: "note", origin: "gsmcp/receipts", tree_size: 10 + i, root_hash: `sha256:${i}` },
      }),
    ),
    ...withJob(
      Array.from({ length: 30 }, (_, i) =>
        ev("carol", T0 + 10 * MIN + i * MIN, {
          PolicyDecision: "ALLOW",
          ToolName: "sentinel_incidents_list",
          ErrorCode: 0,
        }),
      ),
      o,
    ),
  ],
};

const count = (file: string, events: AgentSecurityEvent[], allowlist: AllowlistEntry[] = [], r = rule(file)) => {
  const s = SCENARIOS[file]!;
  if (s.alerts) return s.alerts(r, events, allowlist);
  return alertsOver(r, events, { from: T0, to: T0 + s.window }, { allowlist }).alerts;
};

const entry = (o: Partial<AllowlistEntry>): AllowlistEntry => ({
  Agent: "",
  Tool: "*",
  JobPattern: "*",
  Expiry: new Date(T0 + 30 * 24 * HOUR).toISOString(),
  ...o,
});

describe("tuning from the seed, in every rule", () => {
  it("every shipped rule has a scenario here", () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(RULES.map((r) => r.file).sort());
  });

  it.each(RULES.map((r) => r.file))(
    "%s: allowlisted activity is quiet until its entry expires",
    { timeout: 120_000 },
    (file) => {
      const s = SCENARIOS[file]!;
      const events = s.events({ job: "hunt-nightly-0601", tenant: "t" });
      const base = count(file, events);
      expect(base, "the untuned attack alerts").toBeGreaterThanOrEqual(1);
      // Listed: the agent (any tool, any job), the agent and its tool, the agent and its job by pattern.
      expect(count(file, events, [entry({ Agent: s.agent })])).toBe(0);
      expect(count(file, events, [entry({ Agent: s.agent, Tool: s.tool })])).toBe(0);
      expect(count(file, events, [entry({ Agent: s.agent, JobPattern: "hunt-nightly-*" })])).toBe(0);
      // Not listed: an expired entry, another tool, a job outside the pattern, another agent.
      const expired = entry({ Agent: s.agent, Expiry: new Date(T0 - 24 * HOUR).toISOString() });
      expect(count(file, events, [expired])).toBe(base);
      expect(count(file, events, [entry({ Agent: s.agent, Tool: "sentinel_watchlists_list" })])).toBe(base);
      expect(count(file, events, [entry({ Agent: s.agent, JobPattern: "hunt-weekly-*" })])).toBe(base);
      expect(count(file, events, [entry({ Agent: "someone-else" })])).toBe(base);
    },
  );

  it.each(RULES.map((r) => r.file))(
    "%s: workloads excluded by job tag or tenant are quiet",
    { timeout: 120_000 },
    (file) => {
      const s = SCENARIOS[file]!;
      // A job tagged "batch" (JobId "batch:<id>") is excluded by default.
      expect(count(file, s.events({ job: "batch:nightly-1", tenant: "t" }))).toBe(0);
      expect(count(file, s.events({ job: "interactive:1", tenant: "t" }))).toBeGreaterThanOrEqual(1);
      // A tenant listed in ExcludedTenants.
      const r = rule(file);
      const tuned = {
        ...r,
        query: r.query.replace("let ExcludedTenants = dynamic([]);", 'let ExcludedTenants = dynamic(["lab"]);'),
      };
      expect(tuned.query).not.toBe(r.query);
      expect(count(file, s.events({ job: "j", tenant: "lab" }), [], tuned)).toBe(0);
      expect(count(file, s.events({ job: "j", tenant: "prod" }), [], tuned)).toBeGreaterThanOrEqual(1);
    },
  );

  it.each([
    "agent-blocked-tool-attempts.yaml",
    "agent-repeated-policy-violations.yaml",
    "agent-auth-failure-then-blocked-call.yaml",
  ])("%s: calls the client cancelled before their decision (BLOCK, ErrorCode 499) are not refusals", (file) => {
    const events = SCENARIOS[file]!.events({ job: "j", tenant: "t" });
    expect(count(file, events)).toBeGreaterThanOrEqual(1);
    const cancelled = events.map((e) =>
      e.PolicyDecision === "BLOCK" && e.EventType !== "AuthFailure" ? { ...e, ErrorCode: 499 } : e,
    );
    expect(count(file, cancelled)).toBe(0);
  });

  it("an entry expiring mid-burst suppresses the events before its expiry only", () => {
    // Six blocked calls 10 s apart; the entry expires after the third: the last three still make a burst.
    const file = "agent-blocked-tool-attempts.yaml";
    const events = Array.from({ length: 6 }, (_, i) => ev("mallory", T0 + i * 10_000));
    const at = (ms: number) => [entry({ Agent: "mallory", Expiry: new Date(T0 + ms).toISOString() })];
    expect(count(file, events, at(25_000))).toBe(1);
    expect(count(file, events, at(35_000))).toBe(0);
  });
});

describe("weights in the violation rule: BLOCK 3, CONSTRAIN 1, LOG not a refusal", () => {
  const file = "agent-repeated-policy-violations.yaml";
  const v = (decision: string, i: number) =>
    ev("victor", T0 + i * 10_000, { EventType: "PolicyEvaluation", PolicyDecision: decision as "BLOCK", ErrorCode: 0 });
  const seq = (ds: string[]) => ds.map((d, i) => v(d, i));

  it("the alert fires exactly when the weighted sum reaches 15", () => {
    const r = rule(file);
    for (let blocks = 0; blocks <= 5; blocks++)
      for (const constrains of [0, 2, 3, 5, 6, 9, 14, 15]) {
        for (const logs of [0, 20]) {
          const ds = [
            ...Array(blocks).fill("BLOCK"),
            ...Array(constrains).fill("CONSTRAIN"),
            ...Array(logs).fill("LOG"),
          ];
          if (ds.length * 10_000 > 4 * MIN) continue; // keep the burst inside the window
          const want = 3 * blocks + constrains >= 15 ? 1 : 0;
          const got = alertsOver(r, seq(ds), { from: T0, to: T0 + 5 * MIN }).alerts;
          expect(got, `${blocks} BLOCK, ${constrains} CONSTRAIN, ${logs} LOG`).toBe(want);
        }
      }
  });

  it("the score and severity are in the alert: High when BLOCKs alone reach the threshold", () => {
    const r = rule(file);
    const row = (ds: string[]) => {
      const out = runDetection(r, detectionSource(seq(ds)), T0 + 10 * MIN);
      const col = (n: string) => out.result.columns.findIndex((c) => c.name === n);
      return out.result.rows.map((x) => [x[col("WeightedScore")], x[col("Blocks")], x[col("AlertSeverity")]]);
    };
    expect(row(Array(10).fill("BLOCK"))).toEqual([[15, 5, "High"]]);
    expect(
      row(["BLOCK", "CONSTRAIN", "CONSTRAIN", "BLOCK", "CONSTRAIN", "CONSTRAIN", "BLOCK", "CONSTRAIN", "CONSTRAIN"]),
    ).toEqual([[15, 3, "Medium"]]);
  });
});
