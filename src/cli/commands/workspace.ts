import type { Command } from "commander";
import { requireHome } from "../../governance/home.js";
import { resetWorkspace, seedWorkspace, startWorkspace } from "../../workspace/index.js";
import { CliError, out } from "../output.js";

const SIZES = ["demo", "small", "medium", "large"] as const;

function parseSize(v: string): (typeof SIZES)[number] | number {
  if ((SIZES as readonly string[]).includes(v)) return v as (typeof SIZES)[number];
  const n = Number(v);
  if (!Number.isInteger(n) || n < 100 || n > 1_000_000) {
    throw new CliError(`--size "${v}" is not a size`, 2, `use ${SIZES.join("|")} or a row count from 100 to 1000000`);
  }
  return n;
}

export function registerWorkspaceCommands(program: Command, home: () => string): void {
  const ws = program.command("workspace").description("the embedded local Sentinel workspace");
  ws.command("start")
    .option("--port <n>", "port on 127.0.0.1 (0 = any free port)", "0")
    .description("run the local workspace in the foreground (for SDK tools and tests)")
    .action(async (o: { port: string }) => {
      const { paths } = requireHome(home());
      const handle = await startWorkspace(paths.workspace, { port: Number(o.port) });
      out(
        `local Sentinel workspace at ${handle.url} (workspace ${handle.ids.workspaceName}, id ${handle.ids.workspaceId})`,
      );
      out("press Ctrl+C to stop");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await handle.close();
    });
  ws.command("seed")
    .option("--seed <n>", "PRNG seed (same seed, same data)", "1")
    .option("--size <size>", `${SIZES.join("|")} or a row count`, "demo")
    .description("replace the workspace data with a deterministic seeded data set")
    .action(async (o: { seed: string; size: string }) => {
      const { paths } = requireHome(home());
      const seed = Number.parseInt(o.seed, 10);
      if (!Number.isInteger(seed)) throw new CliError(`--seed "${o.seed}" is not an integer`, 2);
      await seedWorkspace(paths.workspace, { seed, size: parseSize(o.size) });
      out(`seeded workspace (seed ${seed}, size ${o.size})`);
    });
  ws.command("reset")
    .description("delete all workspace data (incidents, rules, logs); keeps the certificate and secret")
    .action(async () => {
      const { paths } = requireHome(home());
      await resetWorkspace(paths.workspace);
      out("workspace reset");
    });
}
