// Generated from schemas/wpc.schema.json by scripts/gen-types.ts. Do not edit.

export type OpPattern = string
export type OpId = string

/**
 * A Work Policy Contract: what an agent job may do in Microsoft Sentinel. Signed (DSSE, Ed25519) and hash-addressed (sha256 of the RFC 8785 canonical JSON).
 */
export interface WorkPolicyContract {
/**
 * Format version. Only v1 exists.
 */
wpc_version: "v1"
policy_name: string
description?: string
/**
 * @maxItems 64
 */
allow: OpRule[]
/**
 * @maxItems 64
 */
deny?: OpRule[]
/**
 * @maxItems 32
 */
approvals?: ApprovalRule[]
token_requirements: TokenRequirements
/**
 * Constraints per op id, or "*" for every op. Op-specific entries are merged over "*", the stricter value winning.
 */
constraints?: {
[k: string]: Constraints
}
redaction?: Redaction
budgets?: Budgets
telemetry?: Telemetry
}
export interface OpRule {
/**
 * Tool family. This server governs "sentinel.api"; other families are recorded but have no ops here.
 */
tool: string
/**
 * @minItems 1
 * @maxItems 128
 */
ops: [OpPattern, ...(OpPattern)[]]
}
export interface ApprovalRule {
name: string
/**
 * @minItems 1
 */
required_for: [OpId, ...(OpId)[]]
mode: ("explicit" | "interactive")
/**
 * Key ids of approvers allowed to sign; empty or absent means any approver in the trust store.
 */
approvers?: string[]
ttl_seconds?: number
/**
 * Separation of duties: the approver must be a signed-in person (gsmcp console) other than the job's requester (the token's requested_by). A token without requested_by cannot have these writes approved.
 */
distinct_approver?: boolean
/**
 * The approver signed in with multi-factor authentication (the id token's amr contains "mfa").
 */
require_mfa?: boolean
/**
 * The approver signed in at most this long before deciding (OIDC max_age); the console asks for a fresh sign-in otherwise.
 */
max_auth_age_seconds?: number
/**
 * The decision must carry a change-ticket reference (recorded in the approval and the receipt).
 */
require_change_ticket?: boolean
/**
 * RE2 pattern a change ticket must match in full, e.g. "CHG[0-9]{7}".
 */
change_ticket_pattern?: string
}
export interface TokenRequirements {
cst_ttl_seconds_max: number
require_policy_hash_pinning?: boolean
/**
 * Tokens must pin exactly one tenant (token issue --tenants T): every job then works in one tenant, so its receipts and proof bundle hold nothing of another.
 */
require_single_tenant_pin?: boolean
/**
 * The server's own Azure identity may hold nothing beyond what this policy's allowed ops need (gsmcp policy role). serve refuses to start, and stops, when the permission check finds excess on a workspace it checks or cannot read the identity's permissions; doctor reports it unsafe. Without it, excess is a warning and a PermissionCheck event.
 */
require_least_privilege?: boolean
}
export interface Constraints {
/**
 * Workspace names (or ids) this op may touch.
 */
workspaces?: string[]
/**
 * Tenants (the registry's tenant of the workspace) this op may touch.
 */
tenants?: string[]
/**
 * Results are truncated to this many rows (CONSTRAIN).
 */
max_rows?: number
max_result_bytes?: number
kql?: KqlConstraints
}
export interface KqlConstraints {
allowed_tables?: string[]
/**
 * Constructs that BLOCK the query. All of them are forbidden when absent.
 */
forbidden?: ("externaldata" | "workspace" | "app" | "cluster" | "database" | "union_wildcard" | "evaluate" | "table_dynamic" | "control_command")[]
/**
 * ISO 8601 duration; passed to the Log Analytics API as the hard time bound.
 */
max_timespan?: string
templates_only?: boolean
templates?: {
[k: string]: KqlTemplate
}
/**
 * Hard wall-clock limit per query: the Log Analytics server timeout, enforced client-side too; the local engine's worker is terminated. Default 10.
 */
max_query_seconds?: number
}
export interface KqlTemplate {
description?: string
query: string
parameters?: {
[k: string]: {
type: ("string" | "int" | "timespan" | "datetime")
pattern?: string
maximum?: number
}
}
}
export interface Redaction {
builtin?: ("upn" | "email" | "ipv4" | "ipv6" | "secrets")[]
/**
 * Field names whose values are replaced wholesale, at any depth.
 */
fields?: string[]
patterns?: {
name: string
regex: string
}[]
/**
 * KQL result columns masked by lineage: Table.Column (or *.Column for every table). Every query output value derived from such a column (directly, through any function, operator or control flow) is replaced; a query whose lineage cannot be established is refused.
 * 
 * @maxItems 256
 */
columns?: string[]
/**
 * Whether queries may filter, sort, join or take on a redacted column (each such predicate can reveal one bit per row). Default allow; every predicate is recorded in the decision input.
 */
column_predicates?: ("allow" | "block")
/**
 * Per job: how many queries with predicates on redacted columns may run; further ones are refused (kql_redacted_predicate). Absent: no budget.
 */
max_predicate_queries?: number
}
export interface Budgets {
max_calls?: number
max_rows?: number
calls_per_minute?: number
}
export interface Telemetry {
sink?: ("jsonl" | "logs-ingestion" | "local")
/**
 * Refuse calls when telemetry cannot be written or spilled.
 */
fail_closed?: boolean
/**
 * Local anomaly detection on this server's own events: raises Anomaly events and can pause the job.
 */
anomaly?: {
/**
 * BLOCK decisions within window_seconds that count as an anomaly.
 */
repeated_blocks?: number
/**
 * Calls in one minute that count as a rate anomaly.
 */
calls_per_minute?: number
window_seconds?: number
/**
 * Pause the job when an anomaly fires (the local 'pause agent' playbook).
 */
pause_job?: boolean
}
}
