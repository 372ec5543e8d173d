import { beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { JobStore } from "../../src/governance/jobs.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import { clientWithElicitation } from "../helpers/elicit.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

describe("interactive approvals (MCP elicitation), job pause and budgets", () => {
  let h: TestHome;
  let policyFile: string;
  let incidentId: string;

  beforeAll(async () => {
    h = await makeHome();
    const wpc = examplePolicy("containment-with-approvals");
    policyFile = signTestPolicy(h, {
      ...wpc,
      policy_name: "containment-interactive",
      approvals: [{ ...wpc.approvals![0]!, mode: "interactive" }],
      budgets: { max_calls: 6, calls_per_minute: 100 },
    });
    const s = await startSession(h, { policyFile, job: "probe" });
    const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 2 } });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
    await s.close();
  });

  it("asks the user through elicitation and runs the write once they approve; records a verifiable approval", async () => {
    const { token } = await issueCst(h.home, { policy: policyFile, job: "job-interactive", agent: "a" });
    const { client, asked } = await clientWithElicitation(
      { GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: policyFile },
      () => ({ approve: true, reason: "looks right" }),
    );
    try {
      const r = await client.callTool({
        name: "sentinel_incidents_update",
        arguments: { incidentId, severity: "High" },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain("incidents.update");
      const outcome = receiptsOf(h)
        .filter((x) => x.job === "job-interactive" && x.phase === "outcome")
        .at(-1)!;
      expect(outcome.approval_id).toMatch(/^apr_/);
    } finally {
      await client.close();
    }
  });

  it("a user who declines refuses the write", async () => {
    const { token } = await issueCst(h.home, { policy: policyFile, job: "job-decline", agent: "a" });
    const { client } = await clientWithElicitation(
      { GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: policyFile },
      () => "decline",
    );
    try {
      const r = await client.callTool({
        name: "sentinel_incidents_update",
        arguments: { incidentId, severity: "Low" },
      });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("approval_invalid");
    } finally {
      await client.close();
    }
  });

  it("a client without elicitation gets approval_required (treated as explicit)", async () => {
    const s = await startSession(h, { policyFile, job: "job-no-elicit" });
    try {
      const r = await s.client.callTool({
        name: "sentinel_incidents_update",
        arguments: { incidentId, severity: "Low" },
      });
      expect(textOf(r)).toContain("approval_required");
    } finally {
      await s.close();
    }
  });

  it("a paused job's token is refused until it is resumed", async () => {
    const s = await startSession(h, { policyFile, job: "job-pause" });
    try {
      expect((await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } })).isError).toBeFalsy();
      const st = openSqliteStore(h.paths.stateDb);
      await new JobStore(st.jobs).setStatus("job-pause", "paused", "SOC playbook: anomaly");
      await st.close();
      const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
      expect(textOf(r)).toContain("job_paused");
      expect(textOf(r)).toContain("SOC playbook");
      const st2 = openSqliteStore(h.paths.stateDb);
      await new JobStore(st2.jobs).setStatus("job-pause", "active", "resumed");
      await st2.close();
      expect((await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } })).isError).toBeFalsy();
    } finally {
      await s.close();
    }
  });

  it("enforces the per-job call budget", async () => {
    const s = await startSession(h, { policyFile, job: "job-budget" });
    try {
      const results = [];
      for (let i = 0; i < 8; i++)
        results.push(await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } }));
      expect(results.slice(0, 6).every((r) => !r.isError)).toBe(true);
      expect(textOf(results[6])).toContain("budget_exceeded");
      expect(textOf(results[7])).toContain("budget_exceeded");
    } finally {
      await s.close();
    }
  });
});
