import { describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { openRuntime } from "../../src/server/runtime.js";
import { AnomalyDetector } from "../../src/telemetry/anomaly.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { makeHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { eventsOf, textOf } from "../helpers/state.js";

const at = (ms: number, decision: AgentSecurityEvent["PolicyDecision"] = "BLOCK"): AgentSecurityEvent => ({
  TimeGenerated: new Date(ms).toISOString(),
  EventId: String(ms),
  AgentId: "a",
  TenantId: "t",
  EventType: "ToolInvocation",
  Action: "x",
  PolicyDecision: decision,
  ToolName: "t",
  Severity: 3,
  SourceSystem: "s",
  JobId: "j",
});

describe("local anomaly detector", () => {
  it("fires once per window on repeated BLOCKs, not on blocks spread out or on allowed calls", () => {
    const d = new AnomalyDetector({ repeatedBlocks: 3, windowMs: 60_000 });
    expect(d.observe(at(0))).toEqual([]);
    expect(d.observe(at(70_000))).toEqual([]); // the first fell out of the window
    expect(d.observe(at(80_000, "ALLOW"))).toEqual([]);
    expect(d.observe(at(90_000))).toEqual([]);
    expect(d.observe(at(100_000)).map((f) => f.kind)).toEqual(["repeated_blocks"]);
    expect(d.observe(at(101_000))).toEqual([]); // once per window
  });

  it("does not count calls the client cancelled before their decision (BLOCK with ErrorCode 499)", () => {
    const d = new AnomalyDetector({ repeatedBlocks: 3, windowMs: 60_000 });
    const cancelled = (ms: number) => ({ ...at(ms), ErrorCode: 499 });
    expect([0, 1000, 2000, 3000].flatMap((t) => d.observe(cancelled(t)))).toEqual([]);
    expect([4000, 5000, 6000].flatMap((t) => d.observe(at(t))).map((f) => f.kind)).toEqual(["repeated_blocks"]);
  });

  it("fires on a call rate over the limit", () => {
    const d = new AnomalyDetector({ callsPerMinute: 5, windowMs: 60_000 });
    const found = Array.from({ length: 6 }, (_, i) => d.observe(at(i * 1000, "ALLOW"))).flat();
    expect(found.map((f) => f.kind)).toEqual(["call_rate"]);
  });

  it("through the real pipeline: repeated blocked calls raise an Anomaly event and pause the job (the local playbook)", async () => {
    const h = await makeHome();
    const wpc = examplePolicy("triage-readonly");
    const policy = signTestPolicy(h, {
      ...wpc,
      policy_name: "triage-anomaly",
      telemetry: { sink: "jsonl", anomaly: { repeated_blocks: 3, window_seconds: 60, pause_job: true } },
    });
    const { token } = await issueCst(h.home, { policy, job: "job-anomaly", agent: "a" });
    const rt = await openRuntime({ home: h.home, tokenRef: token, policyRef: policy });
    try {
      for (let i = 0; i < 3; i++)
        await rt.governor.call("sentinel_incidents_close", {
          incidentId: "x",
          classification: "FalsePositive",
          comment: "c",
        });
      expect(
        eventsOf(h).some(
          (e) => e.JobId === "job-anomaly" && e.EventType === "Anomaly" && e.ToolResult?.startsWith("repeated_blocks"),
        ),
      ).toBe(true);
      const next = await rt.governor.call("sentinel_incidents_list", { top: 1 });
      expect(textOf(next)).toContain("job_paused");
      expect(textOf(next)).toContain("anomaly repeated_blocks");
    } finally {
      await rt.close();
    }
  });
});
