import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { makeHome, type TestHome } from "../helpers/home.js";

interface Entry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: config files of different hosts have different shapes.
const FILES: [file: string, pick: (c: any) => Entry][] = [
  ["claude-desktop.json", (c) => (c as { mcpServers: Record<string, Entry> }).mcpServers["governed-sentinel"]!],
  ["claude-code.mcp.json", (c) => (c as { mcpServers: Record<string, Entry> }).mcpServers["governed-sentinel"]!],
  ["vscode.mcp.json", (c) => (c as { servers: Record<string, Entry> }).servers["governed-sentinel"]!],
  ["cursor.mcp.json", (c) => (c as { mcpServers: Record<string, Entry> }).mcpServers["governed-sentinel"]!],
  ["openclaw.json", (c) => (c as { mcp: { servers: Record<string, Entry> } }).mcp.servers["governed-sentinel"]!],
];

describe("client configurations in examples/clients", () => {
  let h: TestHome;
  beforeAll(async () => {
    h = await makeHome();
    const { token } = await issueCst(h.home, {
      policy: h.policyFile("triage-readonly"),
      job: "client-config",
      agent: "host",
    });
    writeFileSync(join(h.paths.tokens, "triage.jwt"), token, { mode: 0o600 });
  });

  for (const [file, pick] of FILES) {
    it(`${file}: launches the command it names and serves governed tools`, async () => {
      const entry = pick(JSON.parse(readFileSync(join("examples/clients", file), "utf8")));
      expect(entry.command).toBe("npx");
      const env = Object.fromEntries(
        Object.entries(entry.env).map(([k, v]) => [k, v.replaceAll("/path/to/.gsmcp", h.home)]),
      );
      const transport = new StdioClientTransport({
        command: entry.command,
        args: entry.args,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
        cwd: process.cwd(),
      });
      const client = new Client({ name: file, version: "1" });
      await client.connect(transport);
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain("sentinel_incidents_list");
        const r = await client.callTool({ name: "governance_whoami", arguments: {} });
        expect((r.structuredContent as { job: string }).job).toBe("client-config");
      } finally {
        await client.close();
      }
    });
  }
});
