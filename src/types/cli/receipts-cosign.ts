// Generated from schemas/cli/receipts-cosign.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp receipts cosign --json.
 */
export interface ReceiptsCosignOutput {
cosigned: number
out: string
verifier_key: string
}
