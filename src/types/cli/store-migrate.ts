// Generated from schemas/cli/store-migrate.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp store migrate --json.
 */
export interface StoreMigrateOutput {
kind: ("sqlite" | "postgres")
where: string
from: number
to: number
}
