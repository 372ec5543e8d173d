// Generated from schemas/agent-security-event.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * One row of the AgentSecurityEvent_CL custom table in Log Analytics: a policy evaluation, tool invocation, auth failure, local anomaly, receipt-log checkpoint (ToolParameters: checkpoint note, origin, tree_size, root_hash), approval decision (ToolParameters: approval_id, decision, approver, approval_hash, args_hash, rule, client_asserted), or permission check of the server's own Azure identity on a workspace (Action rbac.check; ToolResult ok | excess:N,missing:M | error; ToolParameters: workspace, scope, require_least_privilege, refused, missing [{name, tools}], excess [{name, danger, why}] dangerous first).
 */
export interface AgentSecurityEvent {
TimeGenerated: string
/**
 * Unique id; receipts reference it.
 */
EventId: string
AgentId: string
TenantId: string
EventType: ("PolicyEvaluation" | "ToolInvocation" | "AuthFailure" | "Anomaly" | "Checkpoint" | "ApprovalDecision" | "PermissionCheck")
/**
 * The op id (e.g. incidents.close) or anomaly kind.
 */
Action: string
PolicyDecision: ("ALLOW" | "CONSTRAIN" | "LOG" | "BLOCK")
ToolName: string
/**
 * Arguments after the policy's redaction.
 */
ToolParameters?: {
[k: string]: unknown
}
/**
 * ok | refused | error | cancelled | approval_required, with the reason code (cancelled:cancelled: the client cancelled the call before its result was sealed).
 */
ToolResult?: string
PromptHash?: string
ResponseHash?: string
ModelId?: string
/**
 * 0 on success; otherwise a stable numeric code for the refusal or error.
 */
ErrorCode?: number
Severity: number
SourceSystem: string
JobId?: string
PolicyHash?: string
ReceiptId?: string
/**
 * The hash of the receipt the event reports (as chained in the log): `gsmcp receipts verify --events FILE` matches the SOC's copy of the events against the log.
 */
ReceiptHash?: string
/**
 * The approval the event's call requested or used, or the one an ApprovalDecision reports: the verifier matches decisions and their use against the receipts.
 */
ApprovalId?: string
Workspace?: string
LatencyMs?: number
}
