// Generated from schemas/cli/keys-rotate.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp keys rotate receipt --json.
 */
export interface KeysRotateOutput {
role: string
new_key: {
keyid: string
name: string
public_key: string
valid_from?: string
valid_until?: string
retired_at?: string
}
retired: {
keyid: string
name: string
public_key: string
valid_from?: string
valid_until?: string
retired_at?: string
}[]
file: string
}
