// Generated from schemas/cli/rollback.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp rollback RECEIPT --json.
 */
export interface RollbackOutput {
receipt_id: string
op: string
job: string
/**
 * The rollback tool's text result.
 */
result: string
}
