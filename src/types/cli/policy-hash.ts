// Generated from schemas/cli/policy-hash.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp policy hash FILE --json.
 */
export interface PolicyHashOutput {
policy_name: string
hash: string
}
