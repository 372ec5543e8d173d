import { GovernanceError } from "../governance/errors.js";

/** CLI failure: printed as one line (what is wrong, what to do), exit code attached. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly fix?: string,
  ) {
    super(message);
  }
}

export function printError(e: unknown): number {
  if (e instanceof CliError) {
    process.stderr.write(`gsmcp: ${e.message}${e.fix ? ` — ${e.fix}` : ""}\n`);
    return e.exitCode;
  }
  if (e instanceof GovernanceError) {
    process.stderr.write(`gsmcp: ${e.code}: ${e.message}${e.fix ? ` — ${e.fix}` : ""}\n`);
    return 1;
  }
  process.stderr.write(`gsmcp: ${(e as Error).message ?? String(e)}\n`);
  return 1;
}

export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}
