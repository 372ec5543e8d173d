import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, startSession } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

const run = promisify(execFile);

// Review defects: rollback used the receipt's *redacted* arguments as real ones, and the prior state went into
// receipts (and so proof bundles) unredacted. Under a policy whose redaction hits the incident id, the receipt must
// carry only redacted forms, and rollback must still restore exactly the incident it changed.
describe("rollback under a redacting policy", () => {
  it("keeps receipts redacted and restores the real incident", async () => {
    const h = await makeHome();
    const guid = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    const policy = signTestPolicy(h, {
      ...examplePolicy("containment-with-approvals"),
      policy_name: "containment-redacting-ids",
      redaction: { builtin: ["secrets"], patterns: [{ name: "guid", regex: guid }] },
    });
    // The agent knows the id from elsewhere (a ticket); the redacting policy hides ids in what it returns.
    const probe = await startSession(h, { job: "probe" });
    const list = await probe.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    const incident = (list.structuredContent as { incidents: { id: string; status: string }[] }).incidents[0]!;
    await probe.close();

    const s = await startSession(h, { policyFile: policy, job: "job-redact" });
    try {
      const args = { incidentId: incident.id, classification: "FalsePositive", comment: "benign" };
      const pending = await s.client.callTool({ name: "sentinel_incidents_close", arguments: args });
      const approvalId = /apr_[0-9a-f]{16}/.exec(textOf(pending))?.[0];
      expect(approvalId, textOf(pending)).toBeDefined();
      await decideApproval(h.home, approvalId!, "approved", "ok");
      const ok = await s.client.callTool({ name: "sentinel_incidents_close", arguments: args });
      expect(ok.isError, textOf(ok)).toBeFalsy();

      const intent = receiptsOf(h).find((r) => r.op === "incidents.close" && r.phase === "intent")!;
      expect(JSON.stringify(intent)).not.toContain(incident.id);
      expect(JSON.stringify(intent.rollback?.prior_state)).toContain("«redacted:guid»");

      const rb = await run(process.execPath, [CLI, "rollback", intent.receipt_id], {
        env: { ...process.env, GSMCP_HOME: h.home, GSMCP_POLICY: policy },
      }).then(
        (r) => ({ code: 0, err: r.stderr }),
        (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
      );
      expect(rb.code, rb.err).toBe(0);
    } finally {
      await s.close();
    }
    const after = await startSession(h, { job: "probe-after" });
    try {
      const got = await after.client.callTool({
        name: "sentinel_incidents_get",
        arguments: { incidentId: incident.id },
      });
      expect((got.structuredContent as { incident: { status: string } }).incident.status).toBe(incident.status);
    } finally {
      await after.close();
    }
    expect(JSON.stringify(receiptsOf(h).filter((r) => r.op === "rollback"))).not.toContain(incident.id);
  });
});
