// Finding or starting the PostgreSQL that tests use (no vitest imports: the global setup loads this too).
// Nothing here prints a connection URL or a password: the script's stdout (its export lines) is parsed, never echoed.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PG_SCRIPT = fileURLToPath(new URL("../../scripts/pg-test-server.sh", import.meta.url));
export const PG_NOT_FOUND = "PostgreSQL not found: install Debian's postgresql or set GSMCP_TEST_PG_URL";

/** What scripts/pg-test-server.sh start prints: GSMCP_TEST_PG_URL, GSMCP_TEST_PG_PW_URL, GSMCP_TEST_PG_DIR. */
export type ServerEnv = Record<string, string>;

export function parseServerEnv(text: string): ServerEnv {
  const env: ServerEnv = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
  return env;
}

/** Whether initdb and pg_ctl can be found where the script looks for them. */
export function pgBinariesFound(): boolean {
  const has = (dir: string) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"));
  if (process.env.PG_BINDIR && has(process.env.PG_BINDIR)) return true;
  try {
    if (readdirSync("/usr/lib/postgresql").some((v) => has(join("/usr/lib/postgresql", v, "bin")))) return true;
  } catch {
    // no Debian layout
  }
  return (process.env.PATH ?? "").split(delimiter).some((d) => d !== "" && has(d));
}

/** Runs the script's start; resolves to its exports, or rejects with its stderr (which holds no secrets). */
export function startServer(timeoutMs = 90_000): Promise<{ env: ServerEnv; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [PG_SCRIPT, "start"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${PG_SCRIPT}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const env = parseServerEnv(out);
      if (code === 0 && env.GSMCP_TEST_PG_URL && env.GSMCP_TEST_PG_DIR) resolve({ env, log: err });
      else reject(new Error(`PostgreSQL did not start (${signal ?? `exit ${code}`}): ${err.trim().slice(-2000)}`));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One server per test run, shared by the test files (each in its own process): the first to get the lock (an atomic
 * mkdir in runDir) starts it and writes its exports to runDir/server.env (0600), or the error to server.err; the others
 * wait for either. The global setup's teardown stops it.
 */
export async function sharedServer(runDir: string, timeoutMs = 120_000): Promise<ServerEnv> {
  const envFile = join(runDir, "server.env");
  const errFile = join(runDir, "server.err");
  let mine = false;
  try {
    mkdirSync(join(runDir, "lock"));
    mine = true;
  } catch {
    // another test file is starting it
  }
  if (mine) {
    try {
      const { env, log } = await startServer();
      writeFileSync(join(runDir, "start.log"), log, { mode: 0o600 });
      writeFileSync(
        `${envFile}.tmp`,
        Object.entries(env)
          .map(([k, v]) => `export ${k}='${v}'\n`)
          .join(""),
        {
          mode: 0o600,
        },
      );
      renameSync(`${envFile}.tmp`, envFile);
      return env;
    } catch (e) {
      writeFileSync(errFile, (e as Error).message, { mode: 0o600 });
      throw e;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(envFile)) return parseServerEnv(readFileSync(envFile, "utf8"));
    if (existsSync(errFile)) throw new Error(readFileSync(errFile, "utf8"));
    await sleep(100);
  }
  throw new Error(`PostgreSQL did not start within ${timeoutMs} ms (another test file was starting it)`);
}
