// Generated from schemas/cli/workspace-reset.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp workspace reset --json.
 */
export interface WorkspaceResetOutput {
workspace: string
}
