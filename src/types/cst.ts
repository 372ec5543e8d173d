// Generated from schemas/cst-claims.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * Claims of a CST (scoped token): a short-lived, job-scoped EdDSA JWT.
 */
export interface CstClaims {
/**
 * Token issuer; must be a trusted token issuer.
 */
iss: string
/**
 * Agent id.
 */
sub: string
/**
 * This server's audience.
 */
aud: string
iat: number
nbf: number
exp: number
jti: string
/**
 * Job id the token is bound to.
 */
job: string
/**
 * Op ids this job may call, intersected with the policy's allow-set.
 * 
 * @maxItems 128
 */
scope: string[]
/**
 * sha256 of the JCS form of the sorted scope; with pins, of {ops, workspaces?, tenants?} (each sorted).
 */
scope_hash: string
/**
 * Pin to one WPC.
 */
policy_hash?: string
/**
 * Workspace names (registry) the job may reach.
 */
workspaces?: string[]
/**
 * Who started the job (a person's console identity, tid:oid, or a UPN/e-mail): an approval rule with distinct_approver refuses this person as approver.
 */
requested_by?: string
/**
 * Tenants the job may reach: every workspace it names must belong to one of them.
 */
tenants?: string[]
}
