import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Tests that start servers use their own temp GSMCP_HOME and ephemeral loopback ports.
    fileParallelism: true,
  },
});
