// Generated from schemas/cli/init.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp init --json.
 */
export interface InitOutput {
home: string
policies: {
name: string
file: string
hash: string
}[]
/**
 * Items: A registry entry (src/registry/workspaces.ts) with default set.
 */
workspaces: {
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
}[]
}
