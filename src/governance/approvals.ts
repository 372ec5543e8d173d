import { randomBytes } from "node:crypto";
import { jcs } from "../crypto/jcs.js";
import { type SigningKey, signBytes, verifyBytes } from "../crypto/keys.js";
import type { Db } from "../state/db.js";
import type { Approval } from "../types/approval.js";
import { GovernanceError } from "./errors.js";
import type { TrustStore } from "./trust.js";

export type { Approval };

interface Row {
  body: string;
  consumed_at: string | null;
  consumed_by: string | null;
}

export function approvalSigningBytes(a: Approval): string {
  const { signature: _s, ...body } = a;
  return jcs(body);
}

/** What an approval rule accepts (from the decision's `approval`). */
export interface ApprovalRuleView {
  name: string;
  mode: "explicit" | "interactive";
  approvers: string[];
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
  constructor(private readonly db: Db) {}

  private save(a: Approval): void {
    this.db
      .prepare(
        `INSERT INTO approvals (approval_id, job, op, args_hash, policy_hash, requested_at, expires_at, status, body)
         VALUES (@approval_id, @job, @op, @args_hash, @policy_hash, @requested_at, @expires_at, @decision, @body)
         ON CONFLICT(approval_id) DO UPDATE SET status = excluded.status, body = excluded.body`,
      )
      .run({ ...a, body: JSON.stringify(a) });
  }

  get(id: string): (Approval & { consumed_at?: string; consumed_by?: string }) | undefined {
    const row = this.db
      .prepare<[string], Row>("SELECT body, consumed_at, consumed_by FROM approvals WHERE approval_id = ?")
      .get(id);
    if (!row) return undefined;
    return {
      ...(JSON.parse(row.body) as Approval),
      ...(row.consumed_at ? { consumed_at: row.consumed_at, consumed_by: row.consumed_by ?? "" } : {}),
    };
  }

  list(filter: { status?: string; job?: string } = {}): (Approval & { consumed_at?: string })[] {
    const rows = this.db
      .prepare<[], Row>("SELECT body, consumed_at, consumed_by FROM approvals ORDER BY requested_at DESC")
      .all();
    return rows
      .map((r) => ({ ...(JSON.parse(r.body) as Approval), ...(r.consumed_at ? { consumed_at: r.consumed_at } : {}) }))
      .filter((a) => (!filter.job || a.job === filter.job) && (!filter.status || statusOf(a) === filter.status));
  }

  /** The unconsumed approval for exactly this binding, if any (newest first). */
  findForBinding(job: string, op: string, argsHash: string, policyHash: string): Approval | undefined {
    const row = this.db
      .prepare<[string, string, string, string], Row>(
        `SELECT body, consumed_at, consumed_by FROM approvals
         WHERE job = ? AND op = ? AND args_hash = ? AND policy_hash = ? AND consumed_at IS NULL
         ORDER BY requested_at DESC LIMIT 1`,
      )
      .get(job, op, argsHash, policyHash);
    return row ? (JSON.parse(row.body) as Approval) : undefined;
  }

  request(
    input: Omit<Approval, "approval_id" | "decision" | "expires_at" | "requested_at">,
    ttlSeconds: number,
    now: Date,
  ): Approval {
    const a: Approval = {
      approval_id: `apr_${randomBytes(8).toString("hex")}`,
      ...input,
      requested_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
      decision: "pending",
    };
    this.save(a);
    return a;
  }

  /** An approver decides a pending request; the decision is signed with the approver's key. */
  decide(
    id: string,
    decision: "approved" | "denied",
    approver: SigningKey,
    reason: string,
    now: Date,
    opts: {
      clientAsserted?: boolean;
      /** Publishes the signed decision to witnesses (the ApprovalDecision event) before it is stored; a throw stores nothing. */
      publish?: (a: Approval) => void;
    } = {},
  ): Approval {
    const a = this.get(id);
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
    };
    const signed: Approval = {
      ...decided,
      signature: { keyid: approver.keyid, sig: signBytes(approver, approvalSigningBytes(decided)) },
    };
    opts.publish?.(signed);
    this.save(signed);
    return signed;
  }

  /** Marks an approval used; false if it was already consumed (single use, even across processes). */
  consume(id: string, receiptId: string, now: Date): boolean {
    return (
      this.db
        .prepare("UPDATE approvals SET consumed_at = ?, consumed_by = ? WHERE approval_id = ? AND consumed_at IS NULL")
        .run(now.toISOString(), receiptId, id).changes === 1
    );
  }
}

export function statusOf(a: Approval & { consumed_at?: string }, now = Date.now()): string {
  if (a.consumed_at) return "consumed";
  if (a.decision === "pending" && new Date(a.expires_at).getTime() <= now) return "expired";
  return a.decision;
}
