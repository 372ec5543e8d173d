// Generated from schemas/cli/policy-lint.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp policy lint FILE --json. Exit 1 when errors > 0. A file that is not a policy at all is an error object (policy_invalid) instead.
 */
export interface PolicyLintOutput {
policy_name: string
errors: number
warnings: number
findings: {
level: ("error" | "warning")
field: string
message: string
}[]
}
