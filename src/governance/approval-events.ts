import { randomUUID } from "node:crypto";
import { jcsHash } from "../crypto/jcs.js";
import type { AgentSecurityEvent } from "../types/agent-security-event.js";
import type { Approval } from "../types/approval.js";

/** The hash of a decided approval as signed (body and signature): what the witnessed event commits to. */
export function approvalHash(a: Approval): string {
  const {
    consumed_at: _c,
    consumed_by: _b,
    ...signed
  } = a as Approval & { consumed_at?: string; consumed_by?: string };
  return jcsHash(signed);
}

/**
 * The `ApprovalDecision` AgentSecurityEvent for a signed decision. Whoever decides publishes it to the SOC's sinks
 * before the decision is stored, so a decision exists outside the server's host even if the host later rewrites its
 * approvals and receipts: the verifier then finds a decided approval with no receipt that used it.
 */
export function approvalDecisionEvent(a: Approval, tenantId: string, now = new Date()): AgentSecurityEvent {
  return {
    TimeGenerated: now.toISOString(),
    EventId: randomUUID(),
    AgentId: a.agent ?? "-",
    TenantId: tenantId,
    EventType: "ApprovalDecision",
    Action: a.op,
    PolicyDecision: "LOG",
    ToolName: "-",
    ToolParameters: {
      approval_id: a.approval_id,
      decision: a.decision,
      approver: a.approver ?? "-",
      approval_hash: approvalHash(a),
      args_hash: a.args_hash,
      rule: a.rule,
      ...(a.client_asserted ? { client_asserted: true } : {}),
      ...(a.approved_by ? { approved_by: a.approved_by.id } : {}),
      ...(a.change_ticket ? { change_ticket: a.change_ticket } : {}),
    },
    ToolResult: a.decision,
    ErrorCode: 0,
    Severity: a.decision === "approved" ? 2 : 1,
    SourceSystem: "governed-sentinel-mcp",
    JobId: a.job,
    PolicyHash: a.policy_hash,
    ApprovalId: a.approval_id,
  };
}
