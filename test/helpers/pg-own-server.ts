// A throw-away PostgreSQL of a test file's own (scripts/pg-test-server.sh), for tests that stop, restart or freeze
// the server: the shared one must stay up for the other files. Nothing here prints a URL or a password.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PG_SCRIPT, pgBinariesFound, startServer } from "./postgres-server.js";

export interface OwnPgServer {
  /** Superuser URL (database postgres). */
  url: string;
  port: number;
  /** pg_ctl stop -m fast: clients are told, committed work is flushed. */
  stop(): void;
  /** Starts it again on the same port. */
  start(): void;
  /** SIGSTOP to the server and its backends: connections hang rather than fail. */
  freeze(): void;
  thaw(): void;
  /** Stops it and deletes its directory. */
  destroy(): void;
}

function bindir(): string {
  if (process.env.PG_BINDIR && existsSync(join(process.env.PG_BINDIR, "pg_ctl"))) return process.env.PG_BINDIR;
  const versions = readdirSync("/usr/lib/postgresql")
    .filter((v) => existsSync(join("/usr/lib/postgresql", v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error("pg_ctl not found");
  return join("/usr/lib/postgresql", versions[0]!, "bin");
}

const asOwner = (cmd: string, args: string[]) =>
  process.getuid?.() === 0 ? (["runuser", ["-u", "postgres", "--", cmd, ...args]] as const) : ([cmd, args] as const);

/** Why an own server cannot be had here, or undefined when it can. */
export function ownServerUnavailable(): string | undefined {
  if (!pgBinariesFound())
    return "PostgreSQL binaries not found (needed to stop and restart a server of this file's own)";
  try {
    bindir();
  } catch {
    return "pg_ctl not found under /usr/lib/postgresql (set PG_BINDIR)";
  }
  return undefined;
}

export async function startOwnServer(): Promise<OwnPgServer> {
  const { env } = await startServer();
  const dir = env.GSMCP_TEST_PG_DIR!;
  const port = Number(readFileSync(join(dir, "port"), "utf8").trim());
  const bin = bindir();
  const pgctl = (args: string[]) => {
    const [cmd, a] = asOwner(join(bin, "pg_ctl"), ["-D", join(dir, "data"), ...args]);
    const r = spawnSync(cmd, [...a], { stdio: "ignore", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`pg_ctl ${args[0]} failed (exit ${r.status})`);
  };
  const pids = (): number[] => {
    const pidFile = join(dir, "data", "postmaster.pid");
    if (!existsSync(pidFile)) return [];
    const main = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(main)], { encoding: "utf8" })
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
    return [main, ...children];
  };
  return {
    url: env.GSMCP_TEST_PG_URL!,
    port,
    stop: () => pgctl(["-m", "fast", "-w", "-t", "30", "stop"]),
    start: () =>
      pgctl([
        "-l",
        join(dir, "server.log"),
        "-w",
        "-t",
        "30",
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
        "start",
      ]),
    freeze: () => {
      for (const p of pids()) process.kill(p, "SIGSTOP");
    },
    thaw: () => {
      for (const p of pids()) process.kill(p, "SIGCONT");
    },
    destroy: () => {
      try {
        for (const p of pids()) process.kill(p, "SIGCONT");
      } catch {
        // already gone
      }
      spawnSync("bash", [PG_SCRIPT, "stop", dir], { stdio: "ignore", timeout: 60_000 });
    },
  };
}
