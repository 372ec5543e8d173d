// Generated from schemas/cli/proof-check-comment.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp proof check-comment BUNDLE COMMENT --json: whether a collect-forensics incident comment's digest matches the proof bundle (exit 0) or not (exit 1).
 */
export interface ProofCheckCommentOutput {
/**
 * The bundle's first tree_size receipts hash to the comment's root and its tree head signature verifies with a receipt_signers key of the bundle.
 */
ok: boolean
/**
 * Why the comment does not match (empty when ok).
 */
problems: string[]
}
