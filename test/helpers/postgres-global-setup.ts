// Vitest global setup for PostgreSQL tests: gives every worker one run directory in which the first test file that
// needs PostgreSQL starts the throw-away server (test/helpers/postgres.ts, lazily: runs without PostgreSQL tests never
// start one), and stops and deletes that server when the run ends.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { PG_SCRIPT, parseServerEnv } from "./postgres-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    gsmcpPgRunDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const runDir = mkdtempSync(join(tmpdir(), "gsmcp-pgrun-"));
  project.provide("gsmcpPgRunDir", runDir);
  return () => {
    const envFile = join(runDir, "server.env");
    if (existsSync(envFile)) {
      const dir = parseServerEnv(readFileSync(envFile, "utf8")).GSMCP_TEST_PG_DIR;
      if (dir) spawnSync("bash", [PG_SCRIPT, "stop", dir], { stdio: "ignore", timeout: 30_000 });
    }
    rmSync(runDir, { recursive: true, force: true });
  };
}
