// Generated from schemas/cli/proof-export.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp proof export --job ID --json.
 */
export interface ProofExportOutput {
job: string
receipts: number
root: string
file: string
}
