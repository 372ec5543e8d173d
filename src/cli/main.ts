import { Command, CommanderError } from "commander";
import { resolveHome } from "../governance/home.js";
import { VERSION } from "../version.js";
import { registerApprovalCommands } from "./commands/approvals.js";
import { registerDemoCommand } from "./commands/demo.js";
import { initHome } from "./commands/init.js";
import { registerJobCommands } from "./commands/jobs.js";
import { registerManifestCommand } from "./commands/manifest.js";
import { registerPolicyCommands } from "./commands/policy.js";
import { registerProofCommands } from "./commands/proof.js";
import { registerReceiptCommands } from "./commands/receipts.js";
import { registerRollbackCommand } from "./commands/rollback.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerTokenCommands } from "./commands/token.js";
import { registerWorkspaceCommands } from "./commands/workspace.js";
import { out, printError } from "./output.js";

export async function main(argv: string[]): Promise<number> {
  const program = new Command("gsmcp")
    .description("governed-sentinel-mcp: a governed MCP server for Microsoft Sentinel")
    .version(VERSION)
    .option("--home <dir>", "state directory (default: $GSMCP_HOME or ./.gsmcp)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const home = () =>
    resolveHome(
      program.opts<{ home?: string }>().home ? { GSMCP_HOME: program.opts<{ home: string }>().home } : process.env,
    );

  program
    .command("init")
    .description("create keys, trust store, signed example policies and the seeded local workspace")
    .option("--force", "recreate an existing home (discards its keys, receipts and workspace)")
    .option("--seed <n>", "seed for the demo data", (v) => Number.parseInt(v, 10))
    .action(async (o: { force?: boolean; seed?: number }) => {
      const r = await initHome(home(), o);
      out(`initialised ${r.home}`);
      for (const p of r.policies) out(`  signed policy ${p.name} ${p.hash}`);
      out(`  local workspace: ${r.config.workspace_name}`);
    });
  registerServeCommand(program, home);
  registerPolicyCommands(program, home);
  registerTokenCommands(program, home);
  registerReceiptCommands(program, home);
  registerApprovalCommands(program, home);
  registerJobCommands(program, home);
  registerWorkspaceCommands(program, home);
  registerProofCommands(program, home);
  registerRollbackCommand(program, home);
  registerManifestCommand(program);
  registerDemoCommand(program, home);

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return printError(e);
  }
}
