#!/usr/bin/env node
// The baseline of bench/http.ts: a bare MCP SDK Streamable HTTP server with one tool, plain JavaScript run by plain
// `node`. What an MCP SDK example does: node:http, one StreamableHTTPServerTransport + McpServer per session (stateful,
// the SDK's default SSE responses unless BARE_JSON_RESPONSE=1), the body parsed once and handed to the transport.
// No authentication, no limits, no governance. Prints "listening on <url>" once it accepts connections.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";

const jsonResponse = process.env.BARE_JSON_RESPONSE === "1";
/** A small answer of the same shape as governance_whoami's (one text content item). */
const WHOAMI = JSON.stringify({ job: "bare", agent: "bare", policy: "none", scope: ["whoami"] });

function newServer() {
  const server = new McpServer({ name: "bare-http-bench-server", version: "0.0.0" });
  server.registerTool("whoami", { title: "Who am I", description: "Returns a fixed identity." }, async () => ({
    content: [{ type: "text", text: WHOAMI }],
  }));
  return server;
}

const sessions = new Map();

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
}

const http = createServer(async (req, res) => {
  try {
    const body = req.method === "POST" ? await readJson(req) : undefined;
    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") {
      const transport = sessions.get(sid);
      if (!transport) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
        return;
      }
      await transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "No session" }, id: null }));
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: jsonResponse,
      onsessioninitialized: (id) => sessions.set(id, transport),
      onsessionclosed: (id) => sessions.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await newServer().connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(e) }));
  }
});

http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${http.address().port}/mcp\n`);
});
const stop = () => {
  for (const t of sessions.values()) void t.close().catch(() => {});
  http.close(() => process.exit(0));
  http.closeAllConnections();
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
