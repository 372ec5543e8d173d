import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Tests that start servers use their own temp GSMCP_HOME and ephemeral loopback ports.
    fileParallelism: true,
    // PostgreSQL tests share one throw-away server per run, started on first use (test/helpers/postgres.ts).
    globalSetup: ["test/helpers/postgres-global-setup.ts"],
  },
});
