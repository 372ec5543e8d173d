#!/usr/bin/env node
// The cold-start baseline of bench/coldstart.ts: the smallest real MCP server, plain JavaScript run by plain `node`.
// The MCP SDK's McpServer with one tool over StdioServerTransport; nothing else is loaded.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "bare-bench-server", version: "0.0.0" });
server.registerTool(
  "echo",
  {
    title: "Echo",
    description: "Returns its text argument.",
    inputSchema: { text: z.string() },
  },
  async ({ text }) => ({ content: [{ type: "text", text }] }),
);
await server.connect(new StdioServerTransport());
