// Generated from schemas/receipt.schema.json by scripts/gen-types.ts. Do not edit.

export type Hash = string

/**
 * A signed record of one governed call (or one phase of a write). Receipts form a hash chain: prev_hash is the hash of the previous receipt's JCS form.
 */
export interface Receipt {
receipt_id: string
seq: number
prev_hash: Hash
time: string
server_id: string
/**
 * Job id, or "-" when the caller could not be authenticated.
 */
job: string
agent: string
cst_jti: string
/**
 * Hash of the enforced policy, or "-" when no policy could be verified.
 */
policy_hash: string
op: string
tool: string
args_hash: Hash
/**
 * Arguments after redaction (sanitized).
 */
args_redacted: {
[k: string]: unknown
}
decision: {
effect: ("ALLOW" | "CONSTRAIN" | "LOG" | "BLOCK")
reasons: {
code: string
message: string
rule?: string
}[]
}
constraints_applied: {

}[]
/**
 * The request facts the decision was computed from, so a verifier can re-evaluate it offline.
 */
decision_input?: {

}
/**
 * The seq of this job's previous receipt in the log (0 for its first), set when the receipt is appended: a job's receipts form their own chain, so a receipt left out of (or deleted from) a job's bundle shows as a gap.
 */
job_prev_seq?: number
approval_id?: string
/**
 * The registry name of the workspace the call targeted.
 */
workspace?: string
/**
 * The tenant that workspace belongs to (registry).
 */
tenant?: string
/**
 * Who approved the write (the approval's approved_by.id: tid:oid or issuer#sub), when a signed-in person did.
 */
approved_by?: string
/**
 * The change-ticket reference recorded with the approval.
 */
change_ticket?: string
/**
 * The approval was given in the agent's own MCP client (elicitation): it proves the agent's host said yes, not who did.
 */
approval_client_asserted?: boolean
phase: ("intent" | "outcome" | "single")
/**
 * For an outcome receipt of a write: the intent it completes.
 */
intent_receipt_id?: string
outcome: {
status: ("ok" | "refused" | "error" | "pending" | "cancelled")
result_hash?: Hash
rows?: number
error?: {
code: string
message: string
}
}
rollback?: {
posture: ("none" | "revert" | "supersede" | "disable-restore" | "delete")
prior_state?: unknown
description?: string
}
event_id: string
signature: {
keyid: string
sig: string
}
}
