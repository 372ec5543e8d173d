// Generated from schemas/cli/workspace-add.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp workspace add NAME ... --json: the entry added.
 */
export interface WorkspaceAddOutput {
/**
 * A registry entry (src/registry/workspaces.ts) with default set.
 */
workspace: {
name: string
tenant: string
backend: ("local" | "azure")
subscription?: string
resource_group?: string
workspace_name: string
workspace_id?: string
local_dir?: string
credential?: ("default" | "managed-identity")
client_id?: string
default: boolean
[k: string]: unknown
}
}
