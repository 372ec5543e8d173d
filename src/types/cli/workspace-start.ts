// Generated from schemas/cli/workspace-start.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp workspace start --json: printed once the workspace listens (it then runs until SIGINT/SIGTERM).
 */
export interface WorkspaceStartOutput {
workspace: string
url: string
workspace_name: string
workspace_id: string
}
