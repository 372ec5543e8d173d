import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Command } from "commander";
import { startHttpServer } from "../../server/http.js";
import { createMcpServer } from "../../server/mcp.js";
import { openRuntime } from "../../server/runtime.js";
import { CliError, out } from "../output.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

interface ServeOptions {
  transport: string;
  host: string;
  port: string;
  allowOrigin: string[];
  allowRemote?: boolean;
}

export function registerServeCommand(program: Command, home: () => string): void {
  program
    .command("serve")
    .description(
      "run the governed MCP server (stdio: token from GSMCP_CST; http: bearer token per request; policy: GSMCP_POLICY)",
    )
    .option("--transport <kind>", "stdio | http", "stdio")
    .option("--host <addr>", "http: address to bind", "127.0.0.1")
    .option("--port <n>", "http: port (0 = any free port)", "8765")
    .option("--allow-origin <origin...>", "http: extra allowed Origin values", [])
    .option("--allow-remote", "http: permit binding to a non-loopback address (put TLS in front of it)")
    .action(async (o: ServeOptions) => {
      if (o.transport !== "stdio" && o.transport !== "http")
        throw new CliError(`--transport "${o.transport}" is not a transport`, 2, "use stdio or http");
      const backend = process.env.GSMCP_BACKEND;
      if (backend && backend !== "local" && backend !== "azure") {
        throw new CliError(`GSMCP_BACKEND="${backend}" is not a backend`, 2, "use local or azure");
      }
      const ungoverned = process.env.GSMCP_UNGOVERNED === "1";
      if (ungoverned && (backend ?? "local") !== "local") {
        throw new CliError("GSMCP_UNGOVERNED is only for benchmarks against the local workspace", 2, "unset it");
      }
      if (ungoverned)
        process.stderr.write("gsmcp: WARNING: governance is OFF (benchmark baseline, local workspace only)\n");
      const runtime = await openRuntime({
        home: home(),
        ...(process.env.GSMCP_CST ? { tokenRef: process.env.GSMCP_CST } : {}),
        ...(process.env.GSMCP_POLICY ? { policyRef: process.env.GSMCP_POLICY } : {}),
        ...(backend ? { backend: backend as "local" | "azure" } : {}),
        ...(ungoverned ? { ungoverned: true } : {}),
      });
      const dangling = runtime.receipts.danglingIntents().length;
      if (dangling > 0) {
        process.stderr.write(
          `gsmcp: ${dangling} write intent(s) have no outcome (the server stopped mid-write); see "gsmcp receipts dangling"\n`,
        );
      }
      if (runtime.policy instanceof Error) {
        process.stderr.write(`gsmcp: policy not usable, every call will be refused: ${runtime.policy.message}\n`);
      }
      if (o.transport === "http") {
        if (!LOOPBACK.has(o.host) && !o.allowRemote) {
          throw new CliError(
            `--host ${o.host} is not loopback`,
            2,
            "bearer tokens would cross the network in clear; add --allow-remote behind a TLS terminator",
          );
        }
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new CliError(`--port "${o.port}" is not a port`, 2);
        const adminFile = join(runtime.paths.keys, "admin-token");
        const adminToken =
          process.env.GSMCP_ADMIN_TOKEN ?? (existsSync(adminFile) ? readFileSync(adminFile, "utf8").trim() : undefined);
        const http = await startHttpServer(runtime, {
          host: o.host,
          port,
          allowedOrigins: o.allowOrigin,
          ...(adminToken ? { adminToken } : {}),
        });
        out(`governed-sentinel-mcp listening on ${http.url}`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await http.close();
        await runtime.close();
        return;
      }
      const server = createMcpServer(runtime.session);
      const transport = new StdioServerTransport();
      await new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.on("end", () => resolve());
        void server.connect(transport);
      });
      await runtime.close();
    });
}
