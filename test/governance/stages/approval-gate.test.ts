import { describe, expect, it } from "vitest";
import { jcsHash } from "../../../src/crypto/jcs.js";
import { approvalHash } from "../../../src/governance/approval-events.js";
import { approvalRuleView } from "../../../src/governance/approval-rules.js";
import { verifyApproval } from "../../../src/governance/approvals.js";
import type { Decision } from "../../../src/governance/decide.js";
import { approvalGate } from "../../../src/governance/stages/approval-gate.js";
import type { AgentSecurityEvent } from "../../../src/types/agent-security-event.js";
import { type Harness, harness } from "./harness.js";

const ARGS = { incidentId: "inc-1", severity: "High" };

function gated(mode: "explicit" | "interactive"): Decision {
  return {
    effect: "ALLOW",
    reasons: [],
    constraints: [],
    approval: approvalRuleView({ name: "updates", required_for: ["incidents.update"], mode, ttl_seconds: 600 }),
  };
}

/** A pending approval for ARGS, decided by `signer` (an approver, or the client-assertion key). */
async function decided(h: Harness, signer: "approver" | "client" | "receipt") {
  const c = h.caller();
  const a = await h.deps.approvals.request(
    {
      job: c.claims.job,
      agent: c.claims.sub,
      op: "incidents.update",
      args_hash: jcsHash(ARGS),
      args_redacted: ARGS,
      policy_hash: h.policy.hash,
      rule: "updates",
    },
    600,
    new Date(h.clock.now),
  );
  const key =
    signer === "approver" ? h.keys.approver : signer === "client" ? h.keys.clientAssertionSigner : h.keys.receiptSigner;
  return await h.deps.approvals.decide(a.approval_id, "approved", key, "ok", new Date(h.clock.now), {
    clientAsserted: signer !== "approver",
  });
}

describe("stage: approval gate", () => {
  it("passes a call whose decision needs no approval", async () => {
    const h = await harness();
    const r = await approvalGate(
      h.caller(),
      "incidents.update",
      ARGS,
      { ...gated("explicit"), approval: undefined },
      h.env,
    );
    expect(r).toEqual({ ok: true });
  });

  it("requests an approval bound to the call and refuses with approval_required until it is approved", async () => {
    const h = await harness();
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("explicit"), h.env);
    expect(!r.ok && r.error.code).toBe("approval_required");
    const pending = (await h.deps.approvals.get(!r.ok ? r.approvalId! : ""))!;
    expect(pending.args_hash).toBe(jcsHash(ARGS));
    await h.deps.approvals.decide(pending.approval_id, "approved", h.keys.approver, "fine", new Date(h.clock.now));
    const again = await approvalGate(h.caller(), "incidents.update", ARGS, gated("explicit"), h.env);
    expect(again.ok && again.approvalId).toBe(pending.approval_id);
    expect(again.ok && again.clientAsserted).toBeUndefined();
  });

  it("a client-asserted approval never satisfies a rule that requires a separate approver", async () => {
    const h = await harness();
    const a = await decided(h, "client");
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("explicit"), h.env);
    expect(!r.ok && r.error.code).toBe("approval_invalid");
    expect(!r.ok && r.error.message).toContain("requires a separate approver");
    expect(
      verifyApproval(
        a,
        h.keys.trust,
        approvalRuleView({ name: "updates", required_for: ["incidents.update"], mode: "interactive" }),
      ),
    ).toBeUndefined();
  });

  it("an approval marked client-asserted but signed with another key (the receipt key) is refused", async () => {
    const h = await harness();
    await decided(h, "receipt");
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("interactive"), h.env);
    expect(!r.ok && r.error.message).toContain("client-assertion key");
  });

  it("an approver's key cannot pose as a client assertion, nor a client-assertion key as an approver", async () => {
    const h = await harness();
    const rule = approvalRuleView({ name: "updates", required_for: ["incidents.update"], mode: "interactive" });
    const viaClient = await decided(h, "client");
    expect(verifyApproval({ ...viaClient, client_asserted: undefined }, h.keys.trust, rule)).toMatch(/approver/);
  });

  it("interactive rule: the MCP client is asked; its yes is signed by the client-assertion key and marked", async () => {
    const h = await harness();
    const asked: string[] = [];
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("interactive"), h.env, async (m) => {
      asked.push(m);
      return { approve: true, reason: "looks right" };
    });
    expect(asked).toHaveLength(1);
    expect(r.ok && r.clientAsserted).toBe(true);
    const a = (await h.deps.approvals.get(r.ok ? r.approvalId! : ""))!;
    expect(a.client_asserted).toBe(true);
    expect(a.signature?.keyid).toBe(h.keys.clientAssertionSigner.keyid);
    expect(a.approver).not.toBe(h.keys.approver.keyid);
  });

  it("a decision in the client is published (ApprovalDecision event) before it is stored; a failed publish stores nothing", async () => {
    const h = await harness();
    const published: AgentSecurityEvent[] = [];
    const yes = async () => ({ approve: true });
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("interactive"), h.env, yes, (e) => {
      published.push(e);
    });
    const a = (await h.deps.approvals.get(r.ok ? r.approvalId! : ""))!;
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      EventType: "ApprovalDecision",
      ApprovalId: a.approval_id,
      ToolResult: "approved",
    });
    expect((published[0]!.ToolParameters as { approval_hash: string }).approval_hash).toBe(approvalHash(a));

    const h2 = await harness();
    const refused = await approvalGate(h2.caller(), "incidents.update", ARGS, gated("interactive"), h2.env, yes, () => {
      throw new Error("sink is full");
    });
    expect(!refused.ok && refused.error.code).toBe("telemetry_failed");
    expect((await h2.deps.approvals.get(!refused.ok ? refused.approvalId! : ""))?.decision).toBe("pending");
  });

  it("explicit rule: the MCP client is never asked, even when it could answer", async () => {
    const h = await harness();
    let asked = 0;
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("explicit"), h.env, async () => {
      asked++;
      return { approve: true };
    });
    expect(asked).toBe(0);
    expect(!r.ok && r.error.code).toBe("approval_required");
  });

  it("a client that declines refuses the call and uses up the request", async () => {
    const h = await harness();
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated("interactive"), h.env, async () => ({
      approve: false,
    }));
    expect(!r.ok && r.error.code).toBe("approval_invalid");
    const again = await approvalGate(h.caller(), "incidents.update", ARGS, gated("explicit"), h.env);
    expect(!again.ok && again.error.code).toBe("approval_required");
    expect(!again.ok && again.approvalId).not.toBe(!r.ok && r.approvalId);
  });
});
