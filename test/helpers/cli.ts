import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The gsmcp CLI as tests start it: bin/gsmcp-dev.js runs src/ through tsx, so a spawned CLI runs the current source,
 * never a dist/ build that may be stale. Start it with node: `spawn(process.execPath, [CLI, ...args])`.
 */
export const CLI = fileURLToPath(new URL("../../bin/gsmcp-dev.js", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr. */
  out: string;
}

/** Runs the dev CLI with `args` (and `env` over this process's); never throws on a non-zero exit. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, out: err.stdout + err.stderr };
  }
}

/**
 * `gsmcp serve` over raw stdio JSON-RPC with one tools/call in flight, for tests that kill the server mid-call (an MCP
 * client would wait for the answer). The caller kills the returned process.
 */
export function serveWithCallInFlight(
  env: Record<string, string>,
  tool: string,
  args: Record<string, unknown>,
): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, "serve"], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const send = (msg: unknown) => child.stdin.write(`${JSON.stringify(msg)}\n`);
  send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "k", version: "1" } },
  });
  send({ jsonrpc: "2.0", method: "notifications/initialized" });
  send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: tool, arguments: args } });
  return child;
}
