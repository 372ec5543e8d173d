// Generated from schemas/cli/jobs-status.schema.json by scripts/gen-types.ts. Do not edit.

/**
 * gsmcp jobs pause|resume|complete JOB --json: the job's new status.
 */
export interface JobsStatusOutput {
job: string
status: ("active" | "paused" | "completed")
reason: string
}
