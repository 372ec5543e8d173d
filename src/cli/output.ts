import { type GovernanceCode, GovernanceError } from "../governance/errors.js";
import type { CliErrorOutput } from "../types/cli/error.js";

/**
 * The codes of `{"error": {code, message, fix}}` (schemas/cli/error.schema.json, docs/cli-json.md): the CLI's own, and
 * every governance code (a refusal the CLI passes on). `error` is anything unexpected.
 */
export type CliErrorCode =
  /** commander rejected the command line: unknown option or command, missing argument (exit 2). */
  | "usage"
  /** A flag or argument value is not usable (exit 2). */
  | "invalid_argument"
  /** An input file cannot be read or parsed (exit 2). */
  | "unreadable_input"
  /** What the command names does not exist: approval, job, receipt (exit 1). */
  | "not_found"
  /** The command examined its input and it is not valid (exit 1; doctor: unsafe, exit 2). */
  | "check_failed"
  /** Any other failure the CLI reports (exit 1). */
  | "failed"
  | "error"
  | GovernanceCode;

/**
 * Exit codes, a closed set (docs/cli-json.md): 0 success; 1 a check failed or the operation was refused (the input was
 * read and is invalid, not found, or not allowed); 2 the command line or an input cannot be used (unknown option, bad
 * flag value, unreadable file) — and `doctor` finding the home unsafe, as it always has.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** CLI failure: printed as one line (what is wrong, what to do), exit code attached. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = 1,
    readonly fix?: string,
    /** The stable code `--json` prints; default from the exit code: 2 invalid_argument, 1 failed. */
    readonly code: CliErrorCode = exitCode === EXIT.usage ? "invalid_argument" : "failed",
  ) {
    super(message);
  }
}

/** With `--json`: stdout carries exactly one JSON document (the result, or the error object). */
let jsonMode = false;
/** Whether anything went to stdout: once a result is printed, a later error (a failed check) goes to stderr only. */
let stdoutWritten = false;

export function setJsonMode(on: boolean): void {
  jsonMode = on;
  stdoutWritten = false;
}

export function isJsonMode(): boolean {
  return jsonMode;
}

/** The JSON error object (schemas/cli/error.schema.json) for any error a command throws, and its exit code. */
export function errorOutput(e: unknown): { output: CliErrorOutput; exitCode: number } {
  if (e instanceof CliError)
    return { output: { error: { code: e.code, message: e.message, fix: e.fix ?? null } }, exitCode: e.exitCode };
  if (e instanceof GovernanceError)
    return { output: { error: { code: e.code, message: e.message, fix: e.fix ?? null } }, exitCode: EXIT.failed };
  const message = (e as Error)?.message ?? String(e);
  return { output: { error: { code: "error", message, fix: null } }, exitCode: EXIT.failed };
}

export function printError(e: unknown): number {
  const { output, exitCode } = errorOutput(e);
  if (jsonMode && !stdoutWritten) {
    printJson(output);
    return exitCode;
  }
  const { code, message, fix } = output.error;
  const prefix = e instanceof GovernanceError ? `${code}: ` : "";
  process.stderr.write(`gsmcp: ${prefix}${message}${fix ? ` — ${fix}` : ""}\n`);
  return exitCode;
}

export function out(line = ""): void {
  stdoutWritten = true;
  process.stdout.write(`${line}\n`);
}

/** Prints one JSON document (pretty, two spaces) on stdout: a `--json` result. */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}
