// Generated from schemas/cli/store-status.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp store status --json (no secrets: where names the store without credentials).
 */
export interface StoreStatusOutput {
kind: ("sqlite" | "postgres")
where: string
schema_version: number
known_version: number
receipts?: number
head?: {
seq: number
hash: string
}
}
