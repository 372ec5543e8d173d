import type { Command } from "commander";
import { JobStore } from "../../governance/jobs.js";
import type { JobsListOutput } from "../../types/cli/jobs-list.js";
import type { JobsStatusOutput } from "../../types/cli/jobs-status.js";
import { CliError, out, printJson } from "../output.js";
import { withStore } from "../store-access.js";

function withJobs<T>(home: string, fn: (jobs: JobStore) => Promise<T>): Promise<T> {
  return withStore(home, (s) => fn(new JobStore(s.jobs)));
}

export function registerJobCommands(program: Command, home: () => string): void {
  const jobs = program.command("jobs").description("job state: list, pause, resume");
  jobs
    .command("list")
    .option("--json", "JSON output (schemas/cli/jobs-list.schema.json)")
    .action(async (o: { json?: boolean }) => {
      const list = await withJobs(home(), (j) => j.list());
      if (o.json) return printJson(list satisfies JobsListOutput);
      if (!list.length) return out("no jobs yet");
      for (const j of list)
        out(
          `${j.job}\t${j.status}\t${j.agent}\tcalls=${j.calls}\trows=${j.rows}\t${j.last_seen}${j.reason ? `\t${j.reason}` : ""}`,
        );
    });
  for (const [verb, status] of [
    ["pause", "paused"],
    ["resume", "active"],
    ["complete", "completed"],
  ] as const) {
    jobs
      .command(verb)
      .argument("<job>", "job id")
      .option("--reason <text>", "why", `${verb}d by operator`)
      .option("--json", "JSON output (schemas/cli/jobs-status.schema.json)")
      .action(async (job: string, o: { reason: string; json?: boolean }) => {
        const ok = await withJobs(home(), (j) => j.setStatus(job, status, o.reason));
        if (!ok) throw new CliError(`no job "${job}"`, 1, "see gsmcp jobs list", "not_found");
        if (o.json) return printJson({ job, status, reason: o.reason } satisfies JobsStatusOutput);
        out(`job ${job} is ${status}`);
      });
  }
}
