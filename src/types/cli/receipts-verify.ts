// Generated from schemas/cli/receipts-verify.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp receipts verify --json: the stored log's signatures, chain, checkpoints and (with --events) events. Exit 1 when valid is false.
 */
export interface ReceiptsVerifyOutput {
valid: boolean
receipts: number
/**
 * Signature, chain and row problems, by receipt.
 */
problems: {
seq: number
receipt_id: string
code: ("bad_signature" | "key_outside_window" | "broken_link" | "seq_gap" | "unparseable")
message: string
}[]
checkpoints: {
/**
 * Witnessed checkpoints the log was checked against.
 */
checked: number
/**
 * The largest checkpoint size (0: none).
 */
largest: number
problems: {
code: string
/**
 * Where the checkpoint came from: the checkpoints file, a --witness file, the workspace.
 */
source: string
/**
 * The checkpoint size, when the problem is one checkpoint's.
 */
size?: number
message: string
}[]
}
events?: {
matched: number
receipts_without_event: number
decisions: number
unused_approvals: string[]
problems: {
code: string
message: string
/**
 * 1-based line of the events file; 0: the problem is a receipt's or an approval's, not an event's.
 */
line: number
}[]
}
}
