// Generated from schemas/cli/keys-list.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp keys list --json: every trusted key.
 */
export type KeysListOutput = {
role: string
keyid: string
name: string
valid_from?: string
valid_until?: string
retired_at?: string
active: boolean
local: boolean
}[]
