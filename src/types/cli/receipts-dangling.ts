// Generated from schemas/cli/receipts-dangling.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp receipts dangling --json: writes whose outcome was never recorded. Exit 1 when the list is not empty.
 */
export interface ReceiptsDanglingOutput {
dangling: {
receipt_id: string
time: string
job: string
op: string
args_redacted: unknown
prior_state: unknown
current_state: unknown
error: (string | null)
}[]
}
