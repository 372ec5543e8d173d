// Generated from schemas/cli/approvals-list.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp approvals list --json: the approvals, newest first.
 * 
 * Items: An approval as stored (every field of schemas/approval.schema.json) with its current status.
 */
export type ApprovalsListOutput = {
approval_id: string
job: string
op: string
agent?: string
args_hash?: string
args_redacted?: unknown
policy_hash?: string
rule?: string
requested_at: string
expires_at: string
/**
 * The signed decision.
 */
decision: ("pending" | "approved" | "denied")
/**
 * The decision as it stands now: consumed once used, expired when pending past expires_at.
 */
status: ("pending" | "approved" | "denied" | "consumed" | "expired")
consumed_at?: string
consumed_by?: string
[k: string]: unknown
}[]
