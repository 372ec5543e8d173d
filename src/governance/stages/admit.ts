import type { z } from "zod";
import { toolByName } from "../../tools/registry.js";
import type { ToolDef } from "../../tools/types.js";
import { GovernanceError } from "../errors.js";
import type { JobRecord, JobStore } from "../jobs.js";
import { type Caller, refused, type StageResult } from "./types.js";

export interface AdmitDeps {
  jobs: JobStore;
  now(): number;
  /** Records the token's first use in the job (once per token id). */
  recordToken(caller: Caller): Promise<void>;
}

/**
 * Stage 2, admit: the tool exists, its arguments match the tool's strict schema (unknown fields refused), and the
 * caller's job is active (a paused or completed job's token is refused).
 */
export async function admit(
  name: string,
  args: unknown,
  caller: Caller,
  deps: AdmitDeps,
): Promise<StageResult<{ tool: ToolDef; args: Record<string, unknown>; job: JobRecord }>> {
  const tool = toolByName(name);
  if (!tool)
    return refused(
      new GovernanceError("unknown_tool", `no tool named "${name}"`, "call tools/list for the tools this job may use"),
    );
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success)
    return refused(
      new GovernanceError(
        "invalid_arguments",
        `invalid arguments for ${name}: ${formatZodError(parsed.error)}`,
        "fix the named fields; see the tool's inputSchema",
      ),
    );
  const { claims, policy } = caller;
  const job = await deps.jobs.touch(claims.job, claims.sub, policy.hash, new Date(deps.now()));
  await deps.recordToken(caller);
  if (job.status !== "active")
    return refused(
      new GovernanceError(
        "job_paused",
        `job ${claims.job} is ${job.status}${job.reason ? ` (${job.reason})` : ""}`,
        "an operator can resume it: gsmcp jobs resume JOB",
      ),
    );
  return { ok: true, tool, args: parsed.data as Record<string, unknown>, job };
}

/** A zod error as one line per field: the path, what is wrong, and for unknown fields which ones to remove. */
export function formatZodError(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const path = i.path.length ? i.path.join(".") : "(arguments)";
      if (i.code === "unrecognized_keys")
        return `${path}: unknown field(s) ${i.keys.map((k) => `"${k}"`).join(", ")} (remove them)`;
      return `${path}: ${i.message}`;
    })
    .join("; ");
}
