// Generated from schemas/cli/workspace-remove.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp workspace remove NAME --json.
 */
export interface WorkspaceRemoveOutput {
removed: string
/**
 * The default workspace after the removal.
 */
default: string
}
