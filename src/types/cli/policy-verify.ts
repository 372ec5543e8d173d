// Generated from schemas/cli/policy-verify.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp policy verify FILE --json.
 */
export interface PolicyVerifyOutput {
policy_name: string
hash: string
/**
 * Key ids of the trusted policy signers whose signatures verify.
 */
signers: string[]
}
