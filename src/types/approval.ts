// Generated from schemas/approval.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * A human decision on one write, bound to job + op + argument hash + policy hash, single use and expiring. Signed by an approver key (Ed25519 over the JCS form without the signature).
 */
export interface Approval {
approval_id: string
job: string
agent?: string
op: string
args_hash: string
/**
 * What the approver is shown: the arguments after redaction.
 */
args_redacted?: {
[k: string]: unknown
}
policy_hash: string
/**
 * Name of the policy approval rule.
 */
rule: string
requested_at: string
expires_at: string
decision: ("pending" | "approved" | "denied")
/**
 * Key id of the approver.
 */
approver?: string
reason?: string
/**
 * The decision was given in the agent's own MCP client (elicitation) and signed by a client-assertion key: it proves the agent's host said yes, not who did. Accepted only by approval rules in mode "interactive".
 */
client_asserted?: boolean
/**
 * Who started the job (the token's requested_by), copied when the approval is requested.
 */
requested_by?: string
/**
 * The person who decided, as signed in to the approver console (OIDC); absent for CLI and client-asserted decisions.
 */
approved_by?: {
/**
 * tid:oid for Entra ID, issuer#sub otherwise.
 */
id: string
iss: string
name?: string
email?: string
amr?: string[]
auth_time?: string
roles?: ("approver" | "reviewer")[]
}
/**
 * Change-ticket reference given with the decision.
 */
change_ticket?: string
decided_at?: string
signature?: {
keyid: string
sig: string
}
}
