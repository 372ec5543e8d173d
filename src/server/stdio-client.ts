import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { REPO_ROOT } from "../cli/commands/init.js";
import { VERSION } from "../version.js";

export interface StdioSession {
  client: Client;
  stderr: () => string;
  close(): Promise<void>;
}

/**
 * The CLI entry matching the code that runs: compiled JavaScript starts bin/gsmcp.js (dist/); sources run through tsx
 * (tests, `tsx`) start bin/gsmcp-dev.js, so a child never runs a dist/ build older than its parent's source.
 */
const CLI_ENTRY = join(REPO_ROOT, "bin", import.meta.url.endsWith(".ts") ? "gsmcp-dev.js" : "gsmcp.js");

/** Starts `gsmcp serve` as a child process and connects an MCP SDK client to it over stdio (what hosts do). */
export async function connectStdio(env: Record<string, string>): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_ENTRY, "serve"],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const client = new Client({ name: "gsmcp-client", version: VERSION });
  await client.connect(transport);
  return {
    client,
    stderr: () => err,
    async close() {
      await client.close();
    },
  };
}
