// Generated from schemas/cli/doctor.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp doctor --json: one entry per check. Exit 2 when any status is unsafe (warnings exit 0).
 */
export type DoctorOutput = {
check: string
status: ("ok" | "warn" | "unsafe")
message: string
fix?: string
details?: string[]
}[]
