// Generated from schemas/cli/error.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * What any command prints on stdout with --json when it fails before printing a result; the exit code is non-zero (docs/cli-json.md).
 */
export interface CliErrorOutput {
error: {
/**
 * usage | invalid_argument | unreadable_input | not_found | check_failed | failed | error, or a governance code (src/governance/errors.ts)
 */
code: string
/**
 * What is wrong (one line).
 */
message: string
/**
 * What to do about it; null when there is nothing better than the message.
 */
fix: (string | null)
}
}
