// Generated from schemas/cli/proof-verify.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp proof verify FILE --json: the verifier's report, step by step. Exit 1 when verdict is invalid.
 */
export interface ProofVerifyOutput {
verdict: ("valid" | "invalid")
trust: ("trusted" | "self-consistent")
job: string
receipts: number
steps: {
step: string
ok: boolean
problems: {
code: string
message: string
receipt?: {
seq: number
receipt_id: string
}
}[]
notes: string[]
}[]
}
