// Generated from schemas/cli/policy-sign.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp policy sign FILE --json.
 */
export interface PolicySignOutput {
policy_name: string
hash: string
/**
 * The DSSE envelope file written.
 */
envelope: string
}
