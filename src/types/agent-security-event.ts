// Generated from schemas/agent-security-event.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * One row of the AgentSecurityEvent_CL custom table in Log Analytics: a policy evaluation, tool invocation, auth failure, local anomaly, receipt-log checkpoint (ToolParameters: checkpoint note, origin, tree_size, root_hash) or approval decision (ToolParameters: approval_id, decision, approver, approval_hash, args_hash, rule, client_asserted).
 */
export interface AgentSecurityEvent {
TimeGenerated: string
/**
 * Unique id; receipts reference it.
 */
EventId: string
AgentId: string
TenantId: string
EventType: ("PolicyEvaluation" | "ToolInvocation" | "AuthFailure" | "Anomaly" | "Checkpoint" | "ApprovalDecision")
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
 * ok | refused | error | approval_required, with the reason code.
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
