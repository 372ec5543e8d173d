import { randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server as NodeHttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { GovernanceError } from "../governance/errors.js";
import type { Governor } from "../governance/pipeline.js";
import { createMcpServer } from "./mcp.js";
import type { Runtime } from "./runtime.js";

export interface HttpOptions {
  host: string;
  port: number;
  /** Extra allowed Origin values (the server's own loopback origins are always allowed). */
  allowedOrigins?: string[];
  maxBodyBytes?: number;
  /** Requests per minute per token (jti) and per remote address. */
  ratePerMinute?: number;
  /** Operator bearer token for /admin/jobs/{job}/pause|resume (absent: the endpoint refuses everything). */
  adminToken?: string;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  governor: Governor;
  job: string;
}

const METADATA_PATH = "/.well-known/oauth-protected-resource";

/**
 * Streamable HTTP transport: a bearer CST on every request, RFC 9728 metadata with a WWW-Authenticate challenge,
 * Host/Origin checks against DNS rebinding, body and rate limits, and sessions bound to the job that opened them.
 */
export async function startHttpServer(
  runtime: Runtime,
  opts: HttpOptions,
): Promise<{ url: string; server: NodeHttpServer; close(): Promise<void> }> {
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const rate = opts.ratePerMinute ?? 600;
  const sessions = new Map<string, Session>();
  const buckets = new Map<string, number[]>();
  let base = "";
  let allowedHosts: string[] = [];
  let allowedOrigins: string[] = [];

  const limited = (key: string): boolean => {
    const now = Date.now();
    const list = (buckets.get(key) ?? []).filter((t) => t > now - 60_000);
    list.push(now);
    buckets.set(key, list);
    return list.length > rate;
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(body));
  };
  const challenge = (error?: string, description?: string) => ({
    "www-authenticate": `Bearer realm="governed-sentinel-mcp", resource_metadata="${base}${METADATA_PATH}"${error ? `, error="${error}"` : ""}${description ? `, error_description="${description.replaceAll('"', "'").slice(0, 200)}"` : ""}`,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: the Host must be our loopback address; a browser Origin must be one we allow.
    if (!allowedHosts.includes((req.headers.host ?? "").toLowerCase()))
      return json(res, 403, { error: "forbidden_host", message: "Host header is not this server" });
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.includes(origin))
      return json(res, 403, { error: "forbidden_origin", message: `Origin ${origin} is not allowed` });
    const url = new URL(req.url ?? "/", base);
    if (req.method === "GET" && (url.pathname === METADATA_PATH || url.pathname === `${METADATA_PATH}/mcp`)) {
      return json(res, 200, {
        resource: `${base}/mcp`,
        resource_name: "governed-sentinel-mcp",
        bearer_methods_supported: ["header"],
        authorization_servers: [],
        resource_documentation:
          "Present a CST (scoped token) issued with `gsmcp token issue` as Authorization: Bearer.",
      });
    }
    // Operator endpoint for response playbooks (e.g. a Sentinel Logic App): pause or resume a job.
    const admin = /^\/admin\/jobs\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\/(pause|resume)$/.exec(url.pathname);
    if (admin && req.method === "POST") {
      if (limited(`ip:${req.socket.remoteAddress}`))
        return json(res, 429, { error: "rate_limited" }, { "retry-after": "60" });
      const presented = Buffer.from(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "");
      const expected = Buffer.from(opts.adminToken ?? "");
      if (!opts.adminToken || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        return json(res, 401, { error: "unauthorized", message: "operator token required" });
      }
      const [, job, verb] = admin;
      const ok = runtime.jobs.setStatus(job!, verb === "pause" ? "paused" : "active", `${verb}d by playbook`);
      return ok
        ? json(res, 200, { job, status: verb === "pause" ? "paused" : "active" })
        : json(res, 404, { error: "no_such_job", job });
    }
    if (url.pathname !== "/mcp") return json(res, 404, { error: "not_found" });
    if (limited(`ip:${req.socket.remoteAddress}`))
      return json(res, 429, { error: "rate_limited" }, { "retry-after": "60" });

    const auth = req.headers.authorization ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!token)
      return json(res, 401, { error: "unauthorized", message: "a CST bearer token is required" }, challenge());
    const probe = runtime.governorFor(token);
    let claims: Awaited<ReturnType<Governor["verifyCaller"]>>;
    try {
      claims = await probe.verifyCaller();
    } catch (e) {
      const err = e instanceof GovernanceError ? e : new GovernanceError("auth_invalid", String(e));
      await probe.refuseRequest(err, "http");
      return json(
        res,
        401,
        { error: "invalid_token", code: err.code, message: err.message },
        challenge("invalid_token", err.message),
      );
    }
    if (limited(`jti:${claims.jti}`)) return json(res, 429, { error: "rate_limited" }, { "retry-after": "60" });

    let body: unknown;
    if (req.method === "POST") {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > maxBody) return json(res, 413, { error: "payload_too_large", limit: maxBody });
        chunks.push(c as Buffer);
      }
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return json(res, 400, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
      }
    }

    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") {
      const session = sessions.get(sid);
      if (!session)
        return json(res, 404, { jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null });
      if (session.job !== claims.job) {
        const err = new GovernanceError(
          "auth_invalid",
          `session ${sid} belongs to another job`,
          "open a new session with your own token",
        );
        await probe.refuseRequest(err, "http");
        return json(res, 403, { error: "forbidden_session", message: err.message });
      }
      session.governor.setToken(token);
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      return json(res, 400, {
        jsonrpc: "2.0",
        error: { code: -32000, message: "No session: send initialize first" },
        id: null,
      });
    }
    const governor = runtime.governorFor(token);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, governor, job: claims.job });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await createMcpServer(runtime.sessionFor(governor)).connect(transport);
    return transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) json(res, 500, { error: "internal_error", message: (e as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  base = `http://${hostForUrl}:${port}`;
  allowedHosts = [`${hostForUrl}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`].map((h) => h.toLowerCase());
  allowedOrigins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`, ...(opts.allowedOrigins ?? [])];
  return {
    url: `${base}/mcp`,
    server,
    async close() {
      for (const s of sessions.values()) await s.transport.close().catch(() => {});
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
