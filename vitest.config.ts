import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Tests that start servers use their own temp GSMCP_HOME and ephemeral loopback ports.
    fileParallelism: true,
    // At least two files at once, even on 2 cores (vitest's default is cores − 1): most test time is spent waiting on
    // child servers, sockets and worker threads, not on the CPU. Fuzzers run on fixed time budgets either way.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // PostgreSQL tests share one throw-away server per run, started on first use (test/helpers/postgres.ts).
    globalSetup: ["test/helpers/postgres-global-setup.ts"],
  },
});
