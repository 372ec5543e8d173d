import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportJob, verifyFile } from "../../src/cli/commands/proof.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { ApprovalStore } from "../../src/governance/approvals.js";
import type { ProofBundle } from "../../src/receipts/bundle.js";
import { renderHtml } from "../../src/receipts/trust-pulse.js";
import { verifyBundle } from "../../src/receipts/verify-bundle.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { clientWithElicitation } from "../helpers/elicit.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

// Interactive approvals are answered by the agent's own MCP host, so they prove only that the host said yes. They are
// signed with their own key (not the receipt key, not an approver's), marked client_asserted in the approval, the
// receipt and Trust Pulse, and accepted only by rules in mode "interactive".

describe("client-asserted approvals", () => {
  let h: TestHome;
  let incidentId: string;
  let interactive: string;
  let explicit: string;

  beforeAll(async () => {
    h = await makeHome();
    const wpc = examplePolicy("containment-with-approvals");
    const rule = wpc.approvals![0]!;
    interactive = signTestPolicy(h, {
      ...wpc,
      policy_name: "interactive-updates",
      approvals: [{ ...rule, mode: "interactive" }],
    } as WorkPolicyContract);
    explicit = signTestPolicy(h, {
      ...wpc,
      policy_name: "explicit-updates",
      approvals: [{ ...rule, mode: "explicit" }],
    });
    const s = await startSession(h, { policyFile: interactive, job: "probe" });
    const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
    await s.close();
  });

  it("are signed by the client-assertion key and marked in the approval, the receipt, the bundle and Trust Pulse", async () => {
    const { token } = await issueCst(h.home, { policy: interactive, job: "job-ca", agent: "a" });
    const { client, asked } = await clientWithElicitation(
      { GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: interactive },
      () => ({ approve: true, reason: "from the host" }),
    );
    try {
      const r = await client.callTool({
        name: "sentinel_incidents_update",
        arguments: { incidentId, severity: "High" },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(asked).toHaveLength(1);
    } finally {
      await client.close();
    }
    const intent = receiptsOf(h).find((x) => x.job === "job-ca" && x.phase === "intent")!;
    expect(intent.approval_client_asserted).toBe(true);
    const st = openSqliteStore(h.paths.stateDb);
    const approval = (await new ApprovalStore(st.approvals).get(intent.approval_id!))!;
    await st.close();
    expect(approval.client_asserted).toBe(true);
    const trust = JSON.parse(readFileSync(h.paths.trust, "utf8"));
    expect(trust.client_assertion_signers.map((k: { keyid: string }) => k.keyid)).toContain(approval.signature?.keyid);
    expect(trust.approvers.map((k: { keyid: string }) => k.keyid)).not.toContain(approval.signature?.keyid);
    expect(trust.receipt_signers.map((k: { keyid: string }) => k.keyid)).not.toContain(approval.signature?.keyid);

    const exported = await exportJob(h.home, "job-ca", {});
    const v = await verifyFile(exported.file, h.paths.trust);
    expect(v.verdict, JSON.stringify(v.steps.filter((s) => !s.ok))).toBe("valid");
    const bundle = JSON.parse(readFileSync(exported.file, "utf8")) as ProofBundle;
    expect(renderHtml(bundle, v)).toContain("client-asserted");

    // The mark is signed: an approval stripped of it (to pass as an approver's) no longer verifies.
    const forged = JSON.parse(JSON.stringify(bundle)) as ProofBundle;
    for (const a of forged.approvals) a.client_asserted = undefined;
    const v2 = await verifyBundle(forged, JSON.parse(readFileSync(h.paths.trust, "utf8")));
    expect(v2.verdict).toBe("invalid");
    expect(v2.steps.find((x) => x.step === "approvals")?.problems[0]?.code).toBe("approval_signature");
  });

  it("a rule in mode explicit never asks the MCP client; the call waits for a separate approver", async () => {
    const { token } = await issueCst(h.home, { policy: explicit, job: "job-explicit", agent: "a" });
    const { client, asked } = await clientWithElicitation(
      { GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: explicit },
      () => ({ approve: true, reason: "from the host" }),
    );
    try {
      const r = await client.callTool({
        name: "sentinel_incidents_update",
        arguments: { incidentId, severity: "Low" },
      });
      expect(textOf(r)).toContain("approval_required");
      expect(asked).toHaveLength(0);
    } finally {
      await client.close();
    }
  });
});
