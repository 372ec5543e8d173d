import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderArm } from "../../scripts/gen-detections.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { type DetectionRule, loadDetections, ruleProblems, runDetection } from "../../src/telemetry/detections.js";
import { eventsSource, readEventsFile } from "../../src/telemetry/events-table.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../../src/workspace/schemas.js";
import { makeHome, type TestHome } from "../helpers/home.js";

const RULES = loadDetections("examples/detections");
const rule = (file: string): DetectionRule => RULES.find((r) => r.file === file)!;

/** Shifts a burst so it starts 1 s into a minute: real calls take ~a second and must not straddle a bin edge. */
function rebase(events: AgentSecurityEvent[], startAt: number): AgentSecurityEvent[] {
  const t0 = Math.min(...events.map((e) => Date.parse(e.TimeGenerated)));
  return events.map((e) => ({
    ...e,
    TimeGenerated: new Date(Date.parse(e.TimeGenerated) - t0 + startAt).toISOString(),
  }));
}

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
    expect(RULES).toHaveLength(6);
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    const schema = {
      tables: [{ name: "AgentSecurityEvent_CL", columns: LOG_TABLES.AgentSecurityEvent_CL! }],
      functions: Object.entries(STORED_FUNCTIONS).map(([name, body]) => ({ name, body })),
    };
    for (const r of RULES) {
      expect(ruleProblems(r), r.file).toEqual([]);
      const a = analyzeKqlSync(r.query, schema);
      expect(
        a.diagnostics.filter((d) => d.severity === "Error"),
        r.file,
      ).toEqual([]);
      expect(a.tables, r.file).toEqual(["AgentSecurityEvent_CL"]);
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
  const minuteStart = (t: number) => Math.floor(t / 60_000) * 60_000;

  beforeAll(async () => {
    h = await makeHome();
    policy = h.policyFile("triage-readonly");
  });

  const close = { incidentId: "00000000-0000-4000-a000-000000000001", classification: "FalsePositive", comment: "c" };

  it("blocked tool attempts: 3 in a minute fires (exactly at threshold), 2 does not; benign calls are quiet", async () => {
    const mallory = await session("mallory", "job-m");
    for (let i = 0; i < 3; i++) await mallory.call("sentinel_incidents_close", close);
    const trudy = await session("trudy", "job-t");
    for (let i = 0; i < 2; i++) await trudy.call("sentinel_incidents_close", close);
    const alice = await session("alice", "job-a");
    for (let i = 0; i < 3; i++)
      await alice.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    const now = minuteStart(Date.now()) + 1000;
    const events = [
      ...rebase(eventsOf("mallory"), now),
      ...rebase(eventsOf("trudy"), now),
      ...rebase(eventsOf("alice"), now),
    ];
    const run = runDetection(rule("agent-blocked-tool-attempts.yaml"), eventsSource(events), now + 30_000);
    expect(run.fired).toBe(true);
    expect(run.entities).toEqual(["mallory"]);
  });

  it("repeated violations: 5 BLOCKs in five minutes fires, 4 do not", async () => {
    const a = await session("victor", "job-v");
    for (let i = 0; i < 5; i++) await a.call("sentinel_incidents_close", close);
    const b = await session("wendy", "job-w");
    for (let i = 0; i < 4; i++) await b.call("sentinel_incidents_close", close);
    const now = Math.floor(Date.now() / 300_000) * 300_000 + 1000;
    const events = [...rebase(eventsOf("victor"), now), ...rebase(eventsOf("wendy"), now)];
    const run = runDetection(rule("agent-repeated-policy-violations.yaml"), eventsSource(events), now + 60_000);
    expect(run.entities).toEqual(["victor"]);
  });

  it("auth failure then a blocked call within 30 s fires; the reverse order does not", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-eve", agent: "eve" });
    const forged = `${token.slice(0, -4)}AAAA`;
    await (await session("eve", "job-eve", forged)).call("sentinel_incidents_list", {});
    await (await session("eve", "job-eve", token)).call("sentinel_incidents_close", close);
    // frank: blocked first, auth failure afterwards.
    const ft = (await issueCst(h.home, { policy, job: "job-frank", agent: "frank" })).token;
    await (await session("frank", "job-frank", ft)).call("sentinel_incidents_close", close);
    await (await session("frank", "job-frank", `${ft.slice(0, -4)}AAAA`)).call("sentinel_incidents_list", {});
    const now = Date.now();
    const events = [...eventsOf("eve"), ...eventsOf("frank")];
    expect(events.some((e) => e.EventType === "AuthFailure" && e.AgentId === "unverified:eve")).toBe(true);
    const run = runDetection(rule("agent-auth-failure-then-blocked-call.yaml"), eventsSource(events), now + 1000);
    expect(run.entities).toEqual(["eve"]);
  });

  it("prompt-injection burst: an agent that read injected incidents and keeps calling fires; a clean agent does not", async () => {
    const g = await session("grace", "job-g");
    await g.call("sentinel_incidents_list", { top: 5 }); // the seeded incidents carry injection text
    for (let i = 0; i < 10; i++) await g.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    const hc = await session("heidi", "job-h");
    for (let i = 0; i < 11; i++) await hc.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    const now = Math.floor(Date.now() / 600_000) * 600_000 + 1000;
    const events = [...rebase(eventsOf("grace"), now), ...rebase(eventsOf("heidi"), now)];
    expect(events.filter((e) => e.AgentId === "grace" && e.EventType === "Anomaly").length).toBeGreaterThan(0);
    const run = runDetection(rule("agent-suspicious-prompt-burst.yaml"), eventsSource(events), now + 60_000);
    expect(run.entities).toEqual(["grace"]);
  });

  it("call-rate spike against the agent's own baseline fires; the same volume as the usual rate does not", async () => {
    const now = minuteStart(Date.now());
    // A day of history: ivan makes 2 calls a minute, judy 25.
    const hist = (perMin: number) =>
      Array.from({ length: 24 * 60 }, (_, m) =>
        Array.from({ length: perMin }, (_, k) => now - (m + 11) * 60_000 + k * 1000),
      ).flat();
    const ivan = await session("ivan", "job-i");
    const judy = await session("judy", "job-j");
    for (let i = 0; i < 25; i++) {
      await ivan.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
      await judy.call("sentinel_kql_query", { query: "SigninLogs | count", timespan: "PT1H" });
    }
    const events = [
      ...synthetic("ivan", hist(2)),
      ...synthetic("judy", hist(25)),
      ...rebase(eventsOf("ivan"), now - 3 * 60_000 + 1000),
      ...rebase(eventsOf("judy"), now - 3 * 60_000 + 1000),
    ];
    const run = runDetection(rule("agent-call-rate-spike.yaml"), eventsSource(events), now);
    expect(run.entities).toEqual(["ivan"]);
  });

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
    const run = runDetection(rule("agent-call-volume-anomaly.yaml"), eventsSource(events), now);
    expect(run.entities).toEqual(["mallet"]);
  });

  it.each([
    "agent-blocked-tool-attempts.yaml",
    "agent-repeated-policy-violations.yaml",
    "agent-suspicious-prompt-burst.yaml",
    "agent-auth-failure-then-blocked-call.yaml",
    "agent-call-rate-spike.yaml",
    "agent-call-volume-anomaly.yaml",
  ])("%s is quiet on an empty workspace", (file) => {
    expect(runDetection(rule(file), eventsSource([]), Date.now()).fired).toBe(false);
  });

  afterAll(async () => {
    for (const r of runtimes) await r.close();
  });
});
