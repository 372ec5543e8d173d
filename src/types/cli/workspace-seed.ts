// Generated from schemas/cli/workspace-seed.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp workspace seed --json.
 */
export interface WorkspaceSeedOutput {
workspace: string
seed: number
size: (string | number)
incidents: number
log_rows: number
}
