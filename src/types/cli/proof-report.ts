// Generated from schemas/cli/proof-report.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp proof report FILE --json: the Trust Pulse files written and the verdict they show.
 */
export interface ProofReportOutput {
verdict: ("valid" | "invalid")
html: string
markdown: string
}
