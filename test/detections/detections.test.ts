import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderArm } from "../../scripts/gen-detections.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { detectionSource, ruleProblems, runDetection, shortDurationMs } from "../../src/telemetry/detections.js";
import { readEventsFile } from "../../src/telemetry/events-table.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../../src/workspace/schemas.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { alertedAgents, alertsOver, DELAY, MIN, place, prng, RULES, rule } from "./harness.js";

function synthetic(agent: string, times: number[], over: Partial<AgentSecurityEvent> = {}): AgentSecurityEvent[] {
  return times.map((t) => ({
    TimeGenerated: new Date(t).toISOString(),
    EventId: randomUUID(),
    AgentId: agent,
    TenantId: "t",
    EventType: "ToolInvocation",
    Action: "incidents.list",
    PolicyDecision: "ALLOW",
    ToolName: "sentinel_incidents_list",
    ErrorCode: 0,
    Severity: 1,
    SourceSystem: "test",
    ...over,
  }));
}

describe("detection content (examples/detections)", () => {
  it("every rule has valid fields, a unique id, and a query the Kusto language service accepts against the table schema", () => {
    expect(RULES).toHaveLength(7);
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    const schema = {
      tables: ["AgentSecurityEvent_CL", "Watchlist"].map((name) => ({ name, columns: LOG_TABLES[name]! })),
      functions: Object.entries(STORED_FUNCTIONS).map(([name, body]) => ({ name, body })),
    };
    for (const r of RULES) {
      expect(ruleProblems(r), r.file).toEqual([]);
      const a = analyzeKqlSync(r.query, schema);
      expect(
        a.diagnostics.filter((d) => d.severity === "Error"),
        r.file,
      ).toEqual([]);
      // Every rule reads the telemetry and the allowlist watchlist (its tuning).
      expect(a.tables, r.file).toEqual(["AgentSecurityEvent_CL", "Watchlist"]);
      expect(a.functions, r.file).toContain("_GetWatchlist");
    }
  });

  it("ARM templates are generated from the YAML and in sync (npx tsx scripts/gen-detections.ts)", () => {
    for (const [file, content] of renderArm()) expect(readFileSync(file, "utf8"), file).toBe(content);
  });
});

describe("detections fire on attacks driven through the real server, and stay quiet on benign load", () => {
  let h: TestHome;
  let policy: string;
  const runtimes: Runtime[] = [];

  const session = async (agent: string, job: string, tokenOverride?: string) => {
    const token = tokenOverride ?? (await issueCst(h.home, { policy, job, agent })).token;
    const rt = await openRuntime({ home: h.home, tokenRef: token, policyRef: policy });
    runtimes.push(rt);
    return rt.governor;
  };
  const eventsOf = (agent: string) =>
    readEventsFile(join(h.paths.telemetry, "events.jsonl")).filter(
      (e) => e.AgentId === agent || e.AgentId === `unverified:${agent}`,
    );

  beforeAll(async () => {
    h = await makeHome();
    policy = h.policyFile("triage-readonly");
  });

  const close = { incidentId: "00000000-0000-4000-a000-000000000001", classification: "FalsePositive", comment: "c" };

  /**
   * The recorded events of each agent placed at every start across a run period plus the window (steps of a 16th of
   * the smaller), each event arriving up to the expected delay late: exactly `expected` alerts, all for `attacker`.
   */
  const slidePlacements = (
    file: string,
    groups: AgentSecurityEvent[][],
    window: number,
    expected: { alerts: number; agents: string[] },
    extra: (start: number) => AgentSecurityEvent[] = () => [],
  ): number => {
    const r = rule(file);
    const f = shortDurationMs(r.queryFrequency);
    const rand = prng(groups.flat().length);
    const T0 = Date.parse("2026-06-01T00:00:00Z");
    const step = Math.min(f, window) / 16;
    const failures: string[] = [];
    let placements = 0;
    for (let s = T0; s < T0 + f + window; s += step) {
      const events = [...groups.flatMap((g) => place(g, s)), ...extra(s)];
      const got = alertsOver(r, events, { from: s, to: s + window }, { delay: () => Math.floor(rand() * DELAY) });
      placements++;
      const agents = alertedAgents(got.slide);
      if (got.alerts !== expected.alerts || JSON.stringify(agents) !== JSON.stringify(expected.agents))
        failures.push(`+${(s - T0) / 1000}s: ${got.alerts} alerts for ${agents.join(",")}`);
    }
    expect(failures).toEqual([]);
    return placements;
  };

  it("blocked tool attempts: 3 in a minute alert once wherever they fall, 2 do not; benign calls are quiet", async () => {
    const mallory = await session("mallory", "job-m");
    for (let i = 0; i < 3; i++) await mallory.call("sentinel_incidents_close", close);
    const trudy = await session("trudy", "job-t");
    for (let i = 0; i < 2; i++) await trudy.call("sentinel_incidents_close", close);
    const alice = await session("alice", "job-a");
    for (let i = 0; i < 3; i++)
      await alice.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    const n = slidePlacements(
      "agent-blocked-tool-attempts.yaml",
      [eventsOf("mallory"), eventsOf("trudy"), eventsOf("alice")],
      MIN,
      { alerts: 1, agents: ["mallory"] },
    );
    expect(n).toBeGreaterThanOrEqual(16);
  });

  it("repeated violations: 5 BLOCKs (weight 15) alert once wherever they fall, 4 (weight 12) do not", async () => {
    const a = await session("victor", "job-v");
    for (let i = 0; i < 5; i++) await a.call("sentinel_incidents_close", close);
    const b = await session("wendy", "job-w");
    for (let i = 0; i < 4; i++) await b.call("sentinel_incidents_close", close);
    expect(
      eventsOf("victor").filter((e) => e.EventType === "PolicyEvaluation" && e.PolicyDecision === "BLOCK"),
    ).toHaveLength(5);
    slidePlacements("agent-repeated-policy-violations.yaml", [eventsOf("victor"), eventsOf("wendy")], 5 * MIN, {
      alerts: 1,
      agents: ["victor"],
    });
  });

  it("auth failure then a blocked call within 30 s alerts once wherever it falls; the reverse order does not", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-eve", agent: "eve" });
    const forged = `${token.slice(0, -4)}AAAA`;
    await (await session("eve", "job-eve", forged)).call("sentinel_incidents_list", {});
    await (await session("eve", "job-eve", token)).call("sentinel_incidents_close", close);
    // frank: blocked first, auth failure afterwards.
    const ft = (await issueCst(h.home, { policy, job: "job-frank", agent: "frank" })).token;
    await (await session("frank", "job-frank", ft)).call("sentinel_incidents_close", close);
    await (await session("frank", "job-frank", `${ft.slice(0, -4)}AAAA`)).call("sentinel_incidents_list", {});
    const eve = eventsOf("eve");
    expect(eve.some((e) => e.EventType === "AuthFailure" && e.AgentId === "unverified:eve")).toBe(true);
    slidePlacements("agent-auth-failure-then-blocked-call.yaml", [eve, eventsOf("frank")], 30_000, {
      alerts: 1,
      agents: ["eve"],
    });
  });

  it("prompt-injection burst: an agent that read injected incidents and keeps calling alerts once; a clean one does not", async () => {
    const g = await session("grace", "job-g");
    await g.call("sentinel_incidents_list", { top: 5 }); // the seeded incidents carry injection text
    for (let i = 0; i < 10; i++) await g.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    const hc = await session("heidi", "job-h");
    for (let i = 0; i < 11; i++) await hc.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    expect(eventsOf("grace").filter((e) => e.EventType === "Anomaly").length).toBeGreaterThan(0);
    slidePlacements("agent-suspicious-prompt-burst.yaml", [eventsOf("grace"), eventsOf("heidi")], 10 * MIN, {
      alerts: 1,
      agents: ["grace"],
    });
  });

  it(
    "call-rate spike against the agent's own baseline alerts once wherever it falls; the usual rate does not",
    { timeout: 180_000 },
    async () => {
      const ivan = await session("ivan", "job-i");
      const judy = await session("judy", "job-j");
      for (let i = 0; i < 25; i++) {
        await ivan.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
        await judy.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
      }
      // Two hours of history before the burst (the baseline is per active minute, so the rule's day is not needed to
      // set it, and the engine replays each run in well under a second): ivan makes 2 calls a minute, judy 25.
      const hist = (agent: string, perMin: number, start: number) =>
        synthetic(
          agent,
          Array.from({ length: 2 * 60 }, (_, m) =>
            Array.from({ length: perMin }, (_, k) => start - (m + 2) * MIN + k * 2000),
          ).flat(),
        );
      const r = rule("agent-call-rate-spike.yaml");
      const rand = prng(1);
      const T0 = Date.parse("2026-06-01T00:00:00Z");
      for (const s of [T0, T0 + 37_000, T0 + 2 * MIN + 11_000, T0 + 4 * MIN + 50_000]) {
        const events = [
          ...hist("ivan", 2, s),
          ...hist("judy", 25, s),
          ...place(eventsOf("ivan"), s),
          ...place(eventsOf("judy"), s),
        ];
        const got = alertsOver(r, events, { from: s, to: s + MIN }, { delay: () => Math.floor(rand() * DELAY) });
        expect(got.alerts, `start ${s - T0}`).toBe(1);
        expect(alertedAgents(got.slide)).toEqual(["ivan"]);
      }
    },
  );

  it("make-series anomaly: last hour far above the hourly series fires; a steady series does not", () => {
    const hour = 3_600_000;
    const now = Math.floor(Date.now() / hour) * hour + 5 * 60_000;
    const lastComplete = Math.floor(now / hour) * hour - hour;
    const series = (agent: string, perHour: (i: number) => number) =>
      synthetic(
        agent,
        Array.from({ length: 7 * 24 }, (_, i) => lastComplete - i * hour).flatMap((t, i) =>
          Array.from({ length: perHour(i) }, (_, k) => t + k * 1000),
        ),
      );
    const events = [...series("mallet", (i) => (i === 0 ? 80 : 4 + (i % 3))), ...series("oscar", (i) => 40 + (i % 3))];
    const run = runDetection(rule("agent-call-volume-anomaly.yaml"), detectionSource(events), now);
    expect(run.entities).toEqual(["mallet"]);
  });

  it.each(RULES.map((r) => r.file))("%s is quiet on an empty workspace", (file) => {
    expect(runDetection(rule(file), detectionSource([]), Date.now()).fired).toBe(false);
  });

  afterAll(async () => {
    for (const r of runtimes) await r.close();
  });
});
