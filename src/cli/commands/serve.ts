import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Command } from "commander";
import { createMcpServer } from "../../server/mcp.js";
import { openRuntime } from "../../server/runtime.js";
import { CliError } from "../output.js";

export function registerServeCommand(program: Command, home: () => string): void {
  program
    .command("serve")
    .description("run the governed MCP server (token: GSMCP_CST, policy: GSMCP_POLICY)")
    .option("--transport <kind>", "stdio", "stdio")
    .action(async (o: { transport: string }) => {
      if (o.transport !== "stdio")
        throw new CliError(`transport "${o.transport}" is not available in this build`, 2, "use --transport stdio");
      const backend = process.env.GSMCP_BACKEND;
      if (backend && backend !== "local" && backend !== "azure") {
        throw new CliError(`GSMCP_BACKEND="${backend}" is not a backend`, 2, "use local or azure");
      }
      const ungoverned = process.env.GSMCP_UNGOVERNED === "1";
      if (ungoverned && (backend ?? "local") !== "local") {
        throw new CliError("GSMCP_UNGOVERNED is only for benchmarks against the local workspace", 2, "unset it");
      }
      if (ungoverned) process.stderr.write("gsmcp: WARNING: governance is OFF (benchmark baseline, local workspace only)\n");
      const runtime = await openRuntime({
        home: home(),
        ...(process.env.GSMCP_CST ? { tokenRef: process.env.GSMCP_CST } : {}),
        ...(process.env.GSMCP_POLICY ? { policyRef: process.env.GSMCP_POLICY } : {}),
        ...(backend ? { backend: backend as "local" | "azure" } : {}),
        ...(ungoverned ? { ungoverned: true } : {}),
      });
      if (runtime.policy instanceof Error) {
        process.stderr.write(`gsmcp: policy not usable, every call will be refused: ${runtime.policy.message}\n`);
      }
      const server = createMcpServer(runtime.governor);
      const transport = new StdioServerTransport();
      await new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.on("end", () => resolve());
        void server.connect(transport);
      });
      await runtime.close();
    });
}
