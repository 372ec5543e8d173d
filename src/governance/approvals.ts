import { randomBytes } from "node:crypto";
import { jcs } from "../crypto/jcs.js";
import { type SigningKey, signBytes, verifyBytes } from "../crypto/keys.js";
import type { ApprovalRows, StoredApproval } from "../state/contract.js";
import type { Approval } from "../types/approval.js";
import { type ApprovalRuleView, requirementProblem } from "./approval-rules.js";
import { GovernanceError } from "./errors.js";
import type { TrustStore } from "./trust.js";

export type { Approval, ApprovalRuleView };

export function approvalSigningBytes(a: Approval): string {
  const { signature: _s, ...body } = a;
  return jcs(body);
}

/**
 * Why an approved approval does not satisfy `rule`, or undefined when it does. An approver's approval must be signed
 * by a trusted approver key (on the rule's allow-list, when it has one). A client-asserted approval (given in the
 * agent's own MCP client) must be signed by a client-assertion key and is accepted only where the rule's mode is
 * "interactive": a rule in mode "explicit" requires a separate approver, which the agent's host can never be.
 */
export function verifyApproval(a: Approval, trust: TrustStore, rule: ApprovalRuleView): string | undefined {
  if (a.decision !== "approved") return `is ${a.decision}, not approved`;
  if (!a.signature || !a.approver || a.signature.keyid !== a.approver) return "is not signed by its approver";
  const unmet = requirementProblem(a, rule);
  if (unmet) return unmet;
  if (a.client_asserted) {
    if (rule.mode !== "interactive")
      return `was asserted by the MCP client, but rule "${rule.name}" requires a separate approver`;
    const key = trust.keys("client_assertion_signers", true).get(a.signature.keyid);
    if (!key || !verifyBytes(key, approvalSigningBytes(a), a.signature.sig))
      return "is not signed by a trusted client-assertion key";
    return undefined;
  }
  if (rule.approvers.length && !rule.approvers.includes(a.approver))
    return `is signed by ${a.approver}, who is not an approver for "${rule.name}"`;
  const key = trust.keys("approvers", true).get(a.signature.keyid);
  if (!key || !verifyBytes(key, approvalSigningBytes(a), a.signature.sig))
    return `is not signed by a trusted approver for "${rule.name}"`;
  return undefined;
}

/** Approvals: requested by the server, decided (signed) out of band by an approver, consumed once by the server. */
export class ApprovalStore {
  constructor(readonly rows: ApprovalRows) {}

  get(id: string): Promise<StoredApproval | undefined> {
    return this.rows.get(id);
  }

  async list(filter: { status?: string; job?: string } = {}): Promise<StoredApproval[]> {
    const all = await this.rows.list(filter.job ? { job: filter.job } : {});
    return all.filter((a) => !filter.status || statusOf(a) === filter.status);
  }

  /** The unconsumed approval for exactly this binding, if any (newest first). */
  findForBinding(job: string, op: string, argsHash: string, policyHash: string): Promise<Approval | undefined> {
    return this.rows.findForBinding(job, op, argsHash, policyHash);
  }

  async request(
    input: Omit<Approval, "approval_id" | "decision" | "expires_at" | "requested_at">,
    ttlSeconds: number,
    now: Date,
  ): Promise<Approval> {
    const a: Approval = {
      approval_id: `apr_${randomBytes(8).toString("hex")}`,
      ...input,
      requested_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
      decision: "pending",
    };
    await this.rows.save(a);
    return a;
  }

  /**
   * An approver decides a pending request; the decision is signed with the approver's key. Stored only while the
   * request is still pending (compare-and-set): of two deciders racing, one wins and the other is told.
   */
  async decide(
    id: string,
    decision: "approved" | "denied",
    approver: SigningKey,
    reason: string,
    now: Date,
    opts: {
      clientAsserted?: boolean;
      /** The signed-in person deciding (approver console). */
      approvedBy?: Approval["approved_by"];
      changeTicket?: string;
      /** Refuses (before signing) a decision the approval's rule would not accept; see requirementProblem. */
      rule?: ApprovalRuleView;
      /** Publishes the signed decision to witnesses (the ApprovalDecision event) before it is stored; a throw stores nothing. */
      publish?: (a: Approval) => void;
    } = {},
  ): Promise<Approval> {
    const a = await this.get(id);
    if (!a) throw new GovernanceError("approval_invalid", `no approval "${id}"`, "see gsmcp approvals list");
    if (a.decision !== "pending")
      throw new GovernanceError("approval_invalid", `approval ${id} is already ${a.decision}`);
    if (new Date(a.expires_at).getTime() <= now.getTime()) {
      throw new GovernanceError(
        "approval_invalid",
        `approval ${id} expired at ${a.expires_at}`,
        "the agent must request it again",
      );
    }
    const { consumed_at: _c, consumed_by: _b, ...plain } = a;
    const decided: Approval = {
      ...plain,
      decision,
      approver: approver.keyid,
      reason,
      decided_at: now.toISOString(),
      ...(opts.clientAsserted ? { client_asserted: true } : {}),
      ...(opts.approvedBy ? { approved_by: opts.approvedBy } : {}),
      ...(opts.changeTicket ? { change_ticket: opts.changeTicket } : {}),
    };
    const unmet = opts.rule && decision === "approved" ? requirementProblem(decided, opts.rule) : undefined;
    if (unmet) throw new GovernanceError("approval_invalid", `approval ${id} cannot be approved: ${unmet}`);
    const signed: Approval = {
      ...decided,
      signature: { keyid: approver.keyid, sig: signBytes(approver, approvalSigningBytes(decided)) },
    };
    opts.publish?.(signed);
    if (!(await this.rows.saveDecision(signed))) {
      const now2 = await this.get(id);
      throw new GovernanceError("approval_invalid", `approval ${id} was decided meanwhile (${now2?.decision})`);
    }
    return signed;
  }

  /** Marks an approval used; false if it was already consumed (single use, even across processes). */
  consume(id: string, by: string, now: Date): Promise<boolean> {
    return this.rows.consume(id, by, now.toISOString());
  }
}

export function statusOf(a: Approval & { consumed_at?: string }, now = Date.now()): string {
  if (a.consumed_at) return "consumed";
  if (a.decision === "pending" && new Date(a.expires_at).getTime() <= now) return "expired";
  return a.decision;
}
