// Generated from schemas/cli/manifest.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp manifest --json.
 */
export interface ManifestOutput {
dir: string
files: string[]
}
