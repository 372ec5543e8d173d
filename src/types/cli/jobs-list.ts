// Generated from schemas/cli/jobs-list.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp jobs list --json: every job the store knows.
 */
export type JobsListOutput = {
job: string
agent: string
policy_hash: string
status: ("active" | "paused" | "completed")
calls: number
rows: number
redacted_predicate_queries?: number
first_seen: string
last_seen: string
reason: (string | null)
}[]
