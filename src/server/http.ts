import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server as NodeHttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { toGovernanceError } from "../governance/codes.js";
import { GovernanceError } from "../governance/errors.js";
import type { HttpConfig } from "../governance/home.js";
import type { Governor } from "../governance/pipeline.js";
import { blockDecision } from "../governance/stages/receipt-draft.js";
import type { Caller } from "../governance/stages/types.js";
import { CLOCK_SKEW_SECONDS, verifyToken } from "../governance/token.js";
import type { CstClaims } from "../types/cst.js";
import { type AdminOptions, createAdminEndpoint } from "./admin.js";
import { collectBody } from "./body.js";
import { ClientAddresses } from "./client-address.js";
import { createMcpServer } from "./mcp.js";
import { RateLimiter, retryAfterSeconds, takeAll } from "./rate-limit.js";
import { type RecordRefusal, RefusalAggregator } from "./refusals.js";
import type { Runtime } from "./runtime.js";

export interface HttpOptions {
  host: string;
  port: number;
  /** Extra allowed Origin values (the server's own loopback origins are always allowed). */
  allowedOrigins?: string[];
  maxBodyBytes?: number;
  /**
   * Old form of the authenticated limit: requests per minute, per token and per job (rate = ratePerMinute / 60 per
   * second, burst = ratePerMinute). `limits` wins where both are given.
   */
  ratePerMinute?: number;
  /** Operator bearer token for the /admin routes (src/server/admin.ts; absent: the endpoint refuses everything). */
  adminToken?: string;
  /** The operator endpoint's limits and incident webhook options (src/server/admin.ts); its token is adminToken. */
  admin?: Omit<AdminOptions, "token">;
  /** Limits (config.json `http`, overridden by `serve` flags); absent fields take HTTP_DEFAULTS. */
  limits?: HttpConfig;
  /** Interval of the aggregated transport refusals (ms, default 10 s). */
  refusalIntervalMs?: number;
  /** Idle timeout in ms (default: limits.session_idle_seconds); for tests. */
  sessionIdleMs?: number;
  /** How often idle sessions are looked for (ms; default a quarter of the idle timeout, 1 s…60 s). */
  reapIntervalMs?: number;
}

/** Defaults of the HTTP transport's limits (docs/operations.md, "HTTP transport limits"). */
export const HTTP_DEFAULTS: Required<HttpConfig> = {
  rate: 20,
  burst: 100,
  job_rate: 50,
  job_burst: 250,
  unauth_rate: 1,
  unauth_burst: 20,
  max_sessions: 256,
  max_sessions_per_job: 32,
  session_idle_seconds: 900,
  trusted_proxies: [],
};

/** What the server holds now (tests, diagnostics). */
export interface HttpServerState {
  sessions: number;
  sessionsByJob: Record<string, number>;
  limiterKeys: { token: number; job: number; unauth: number };
  verifiedTokens: number;
  pendingRefusalKinds: number;
  /** Per-request entries the SDK transports hold (in-flight requests; -1 when the SDK's internals are unknown). */
  sdkStreams: number;
}

interface Session {
  id?: string;
  transport: StreamableHTTPServerTransport;
  governor: Governor;
  job: string;
  /** The token last presented on this session, and its verified claims. */
  token: string;
  claims: CstClaims;
  lastSeen: number;
  /** POSTs being answered (a session with a call in progress is never idle). */
  inflight: number;
  released: boolean;
}

const METADATA_PATH = "/.well-known/oauth-protected-resource";
/** Verified (and permanently rejected) tokens remembered, so a token's signature is checked once, not per request. */
const TOKEN_CACHE = 1024;

/** The SDK transport's per-request bookkeeping (private fields of WebStandardStreamableHTTPServerTransport, SDK 1.x). */
interface SdkTransportInternals {
  _streamMapping?: Map<string, { resolveJson?: unknown }>;
  _requestToStreamMapping?: Map<unknown, string>;
}
function sdkInternals(t: StreamableHTTPServerTransport): SdkTransportInternals | undefined {
  return (t as unknown as { _webStandardTransport?: SdkTransportInternals })._webStandardTransport;
}

/**
 * Works around the SDK 1.x leak in JSON response mode (modelcontextprotocol/typescript-sdk#2559): a POST's stream
 * mapping is never deleted once its response is sent, so a session would keep one entry per request it ever served.
 * After a POST is answered, the JSON-mode mappings no pending request points at are dropped (the mapping of a request
 * in flight is always named in _requestToStreamMapping until its response goes out). Does nothing when the SDK's
 * internals are not what this expects (a fixed or changed SDK).
 */
function dropAnsweredJsonStreams(t: StreamableHTTPServerTransport): void {
  const inner = sdkInternals(t);
  const streams = inner?._streamMapping;
  const pending = inner?._requestToStreamMapping;
  if (!(streams instanceof Map) || !(pending instanceof Map) || streams.size === 0) return;
  const live = new Set(pending.values());
  for (const [id, s] of streams) if (s?.resolveJson !== undefined && !live.has(id)) streams.delete(id);
}

function remember<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > TOKEN_CACHE) m.delete(m.keys().next().value as string);
}

/**
 * Streamable HTTP transport: a bearer CST on every request, RFC 9728 metadata with a WWW-Authenticate challenge,
 * Host/Origin checks against DNS rebinding, body limits, and sessions bound to the job that opened them.
 *
 * Order of a request: Host/Origin → authenticate (a session's own token is not verified again; other tokens are
 * verified once and remembered) → charge the token's and the job's rate limits → session. A request without a valid
 * token is charged to its client address's own small budget instead, so no amount of garbage can make a valid token's
 * requests fail. Sessions are capped (in total and per job) and closed after an idle timeout. Transport refusals are
 * recorded through a RefusalAggregator (one receipt for the first of a kind per interval, one with the count of the
 * rest). Responses are JSON (the SDK's enableJsonResponse): this server never streams within a call; server-initiated
 * requests (elicitation) and progress notifications use the session's GET stream. A POST whose connection drops is
 * not a cancellation (MCP spec): its call runs to its end and is sealed as executed; only notifications/cancelled, or
 * the session's end (DELETE, shutdown), cancels (test/server/cancel.test.ts).
 */
export async function startHttpServer(
  runtime: Runtime,
  opts: HttpOptions,
): Promise<{ url: string; server: NodeHttpServer; close(): Promise<void>; state(): HttpServerState }> {
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const rpm = opts.ratePerMinute;
  const L: Required<HttpConfig> = {
    ...HTTP_DEFAULTS,
    ...(rpm !== undefined ? { rate: rpm / 60, burst: rpm, job_rate: rpm / 60, job_burst: rpm } : {}),
    ...opts.limits,
  };
  const addresses = new ClientAddresses(L.trusted_proxies);
  const tokenLimit = new RateLimiter({ rate: L.rate, burst: L.burst });
  const jobLimit = new RateLimiter({ rate: L.job_rate, burst: L.job_burst });
  const unauthLimit = new RateLimiter({ rate: L.unauth_rate, burst: L.unauth_burst });
  const idleMs = opts.sessionIdleMs ?? L.session_idle_seconds * 1000;

  const sessions = new Map<string, Session>();
  /** Sessions held or being opened, in total and per job (the caps count both). */
  let sessionCount = 0;
  const jobSessions = new Map<string, number>();
  const verified = new Map<string, CstClaims>();
  const rejected = new Map<string, GovernanceError>();
  let base = "";
  let allowedHosts: string[] = [];
  let allowedOrigins: string[] = [];

  // Every transport refusal goes through one recorder governor (no token of its own): the receipt names the caller
  // when the request was authenticated.
  let recorder: Governor | undefined;
  const record: RecordRefusal = (err, what, args, caller, token) => {
    // An unverified token only labels the receipt's agent ("unverified:<sub>"); a governor for it is made for the
    // first refusal of a kind per interval only.
    recorder ??= runtime.governorFor("");
    (token ? runtime.governorFor(token) : recorder).refuse(
      {
        op: "transport.request",
        tool: what,
        args,
        meta: {},
        started: performance.now(),
        ...(caller ? { caller } : {}),
      },
      { ok: false, error: err, status: "refused", decision: blockDecision(err) },
    );
  };
  const refusals = new RefusalAggregator(record, opts.refusalIntervalMs ?? 10_000);

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(body));
  };
  const challenge = (error?: string, description?: string) => ({
    "www-authenticate": `Bearer realm="governed-sentinel-mcp", resource_metadata="${base}${METADATA_PATH}"${error ? `, error="${error}"` : ""}${description ? `, error_description="${description.replaceAll('"', "'").slice(0, 200)}"` : ""}`,
  });
  const clientOf = (req: IncomingMessage) => addresses.of(req.socket.remoteAddress, req.headers["x-forwarded-for"]);

  /** The claims of a verified token, or the refusal; a token's signature is checked once (expiry every time). */
  const verify = async (token: string): Promise<CstClaims> => {
    const policy = runtime.policy;
    if (policy instanceof GovernanceError) throw policy;
    const nowSec = Math.floor(Date.now() / 1000);
    const known = verified.get(token);
    if (known) {
      if (nowSec > known.exp + CLOCK_SKEW_SECONDS)
        throw new GovernanceError("auth_expired", "CST has expired", "issue a new token: gsmcp token issue");
      if (nowSec < known.nbf - CLOCK_SKEW_SECONDS)
        throw new GovernanceError("auth_expired", "CST is not valid yet", "check clocks");
      return known;
    }
    const bad = rejected.get(token);
    if (bad) throw bad;
    try {
      const claims = await verifyToken({
        token,
        trust: runtime.trust,
        audience: runtime.config.audience,
        wpc: policy.wpc,
        policyHash: policy.hash,
        now: nowSec,
      });
      remember(verified, token, claims);
      return claims;
    } catch (e) {
      const err = toGovernanceError(e, "auth_invalid");
      // Time-dependent refusals are not remembered (a not-yet-valid token becomes valid).
      if (err.code !== "auth_expired") remember(rejected, token, err);
      throw err;
    }
  };

  /**
   * A request without a valid token: charged to its client address's own budget (never to a token's or job's), 401
   * with a challenge — or 429 once that address has spent its budget. Recorded aggregated.
   */
  const refuseUnauthenticated = (
    req: IncomingMessage,
    res: ServerResponse,
    err: GovernanceError,
    what: string,
    token?: string,
  ) => {
    const client = clientOf(req);
    const wait = unauthLimit.take(client);
    refusals.refuse(`unauth\u0000${what}\u0000${err.code}\u0000${wait > 0 ? 429 : 401}`, err, {
      what,
      client,
      ...(token ? { token } : {}),
    });
    if (wait > 0) {
      const after = retryAfterSeconds(wait);
      return json(
        res,
        429,
        {
          error: "rate_limited",
          code: err.code,
          message: `too many requests without a valid token from ${client} (this one: ${err.code}: ${err.message})`,
          fix: `present a valid token${err.fix ? ` (${err.fix})` : ""}; retry after ${after} s`,
          retry_after_seconds: after,
        },
        { "retry-after": String(after) },
      );
    }
    return json(
      res,
      401,
      {
        error: err.code === "auth_missing" ? "unauthorized" : "invalid_token",
        code: err.code,
        message: err.message,
        ...(err.fix ? { fix: err.fix } : {}),
      },
      // The operator endpoint's token is not a CST: no challenge pointing at the CST metadata.
      what === "http.admin" ? {} : err.code === "auth_missing" ? challenge() : challenge("invalid_token", err.message),
    );
  };

  /** A refusal of an authenticated request: recorded aggregated per token and reason, answered with `status`. */
  const refuseCaller = (
    res: ServerResponse,
    status: number,
    error: string,
    err: GovernanceError,
    claims: CstClaims,
    headers: Record<string, string> = {},
    extra: Record<string, unknown> = {},
  ) => {
    const caller: Caller = { claims, policy: runtime.policy as Caller["policy"] };
    refusals.refuse(`auth\u0000${error}\u0000${claims.jti}`, err, { what: "http", caller });
    return json(
      res,
      status,
      { error, code: err.code, message: err.message, ...(err.fix ? { fix: err.fix } : {}), ...extra },
      headers,
    );
  };

  // The operator endpoint (/admin/…, src/server/admin.ts): its own token, limits and routes.
  const admin = createAdminEndpoint(
    runtime,
    { ...opts.admin, ...(opts.adminToken ? { token: opts.adminToken } : {}) },
    { refuseUnauthenticated, refusals, clientOf },
  );

  const release = (s: Session) => {
    if (s.released) return;
    s.released = true;
    sessionCount--;
    const n = (jobSessions.get(s.job) ?? 1) - 1;
    if (n > 0) jobSessions.set(s.job, n);
    else jobSessions.delete(s.job);
    if (s.id !== undefined && sessions.get(s.id) === s) sessions.delete(s.id);
  };
  const closeSession = (s: Session) => {
    release(s);
    void s.transport.close().catch(() => undefined);
  };
  /** Closes the sessions idle for idleMs (no request, none in progress). */
  const reap = (now = Date.now()): number => {
    let n = 0;
    for (const s of sessions.values())
      if (s.inflight === 0 && now - s.lastSeen >= idleMs) {
        closeSession(s);
        n++;
      }
    return n;
  };
  const reaper = setInterval(reap, opts.reapIntervalMs ?? Math.min(60_000, Math.max(1000, idleMs / 4)));
  reaper.unref();

  const readBody = async (req: IncomingMessage, res: ServerResponse): Promise<{ body: unknown } | undefined> => {
    const chunks = await collectBody(req, maxBody);
    if (!chunks) {
      // The rest of the body is drained, and the connection not reused.
      json(
        res,
        413,
        {
          error: "payload_too_large",
          limit: maxBody,
          message: `the request body exceeds ${maxBody} bytes`,
          fix: "send smaller requests",
        },
        { connection: "close" },
      );
      return undefined;
    }
    try {
      return { body: JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")) };
    } catch {
      json(res, 400, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
      return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: the Host must be our loopback address; a browser Origin must be one we allow.
    if (!allowedHosts.includes((req.headers.host ?? "").toLowerCase()))
      return json(res, 403, { error: "forbidden_host", message: "Host header is not this server" });
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.includes(origin))
      return json(res, 403, { error: "forbidden_origin", message: `Origin ${origin} is not allowed` });
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    if (path === "/mcp") return handleMcp(req, res);
    if (req.method === "GET" && (path === METADATA_PATH || path === `${METADATA_PATH}/mcp`)) {
      return json(res, 200, {
        resource: `${base}/mcp`,
        resource_name: "governed-sentinel-mcp",
        bearer_methods_supported: ["header"],
        authorization_servers: [],
        resource_documentation:
          "Present a CST (scoped token) issued with `gsmcp token issue` as Authorization: Bearer.",
      });
    }
    // Operator endpoint for response playbooks (Sentinel Logic Apps): src/server/admin.ts.
    if (path === "/admin" || path.startsWith("/admin/")) return admin.handle(req, res, rawUrl);
    return json(res, 404, { error: "not_found" });
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const auth = req.headers.authorization;
    const token = auth === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!token)
      return refuseUnauthenticated(
        req,
        res,
        new GovernanceError(
          "auth_missing",
          "a CST bearer token is required",
          "send Authorization: Bearer <token from gsmcp token issue>",
        ),
        "http",
      );
    const sid = req.headers["mcp-session-id"];
    const session = typeof sid === "string" ? sessions.get(sid) : undefined;

    // Authenticate first. A session's own token was verified when it was first presented; only its time window is
    // checked again. Any other token is verified (once; remembered).
    let claims: CstClaims;
    try {
      if (session && session.token === token) {
        claims = session.claims;
        const nowSec = Math.floor(Date.now() / 1000);
        if (nowSec > claims.exp + CLOCK_SKEW_SECONDS)
          throw new GovernanceError("auth_expired", "CST has expired", "issue a new token: gsmcp token issue");
      } else claims = await verify(token);
    } catch (e) {
      return refuseUnauthenticated(req, res, toGovernanceError(e, "auth_invalid"), "http", token);
    }

    // Then the authenticated budgets: this token's and its job's, all or nothing.
    const wait = takeAll([
      [tokenLimit, claims.jti],
      [jobLimit, claims.job],
    ]);
    if (wait > 0) {
      const after = retryAfterSeconds(wait);
      return refuseCaller(
        res,
        429,
        "rate_limited",
        new GovernanceError(
          "rate_limited",
          `HTTP request rate exceeded for job ${claims.job} (token ${claims.jti}): at most ${L.rate}/s per token (burst ${L.burst}) and ${L.job_rate}/s per job (burst ${L.job_burst})`,
          `retry after ${after} s; an operator can raise the limits (gsmcp serve --rate/--burst/--job-rate/--job-burst, or config.json http)`,
        ),
        claims,
        { "retry-after": String(after) },
        { retry_after_seconds: after },
      );
    }

    let body: unknown;
    if (req.method === "POST") {
      const read = await readBody(req, res);
      if (!read) return;
      body = read.body;
    }

    if (typeof sid === "string") {
      if (!session)
        return json(res, 404, {
          jsonrpc: "2.0",
          error: {
            code: -32001,
            message: `Session not found: closed (idle for ${Math.round(idleMs / 1000)} s, or the server restarted) or never opened — send initialize to open a new session`,
          },
          id: null,
        });
      if (session.job !== claims.job) {
        return refuseCaller(
          res,
          403,
          "forbidden_session",
          new GovernanceError(
            "auth_invalid",
            `session ${sid} belongs to another job`,
            "open a new session with your own token",
          ),
          claims,
        );
      }
      if (session.token !== token) {
        // A refreshed token for the same job.
        session.governor.setToken(token);
        session.token = token;
        session.claims = claims;
      }
      session.lastSeen = Date.now();
      if (req.method !== "POST") return session.transport.handleRequest(req, res, body);
      session.inflight++;
      try {
        return await session.transport.handleRequest(req, res, body);
      } finally {
        session.inflight--;
        session.lastSeen = Date.now();
        dropAnsweredJsonStreams(session.transport);
      }
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      return json(res, 400, {
        jsonrpc: "2.0",
        error: { code: -32000, message: "No session: send initialize first" },
        id: null,
      });
    }

    // A new session, within the caps (idle sessions are closed first when a cap is reached).
    const atCap = () => sessionCount >= L.max_sessions || (jobSessions.get(claims.job) ?? 0) >= L.max_sessions_per_job;
    if (atCap()) reap();
    if ((jobSessions.get(claims.job) ?? 0) >= L.max_sessions_per_job) {
      const after = retryAfterSeconds(idleMs);
      return refuseCaller(
        res,
        429,
        "too_many_sessions",
        new GovernanceError(
          "session_limit",
          `job ${claims.job} has ${L.max_sessions_per_job} open sessions, the most one job may hold`,
          "close sessions you no longer use (DELETE /mcp with their Mcp-Session-Id) or reuse one; idle sessions close by themselves; an operator can raise --max-sessions-per-job",
        ),
        claims,
        { "retry-after": String(after) },
        { retry_after_seconds: after },
      );
    }
    if (sessionCount >= L.max_sessions) {
      const after = retryAfterSeconds(Math.min(idleMs, 60_000));
      return refuseCaller(
        res,
        503,
        "server_busy",
        new GovernanceError(
          "session_limit",
          `the server holds ${L.max_sessions} open sessions, its maximum`,
          `retry after ${after} s; an operator can raise --max-sessions or shorten --session-idle-seconds`,
        ),
        claims,
        { "retry-after": String(after) },
        { retry_after_seconds: after },
      );
    }
    const governor = runtime.governorFor(token);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        s.id = id;
        if (!s.released) sessions.set(id, s);
      },
      onsessionclosed: () => release(s),
    });
    const s: Session = {
      transport,
      governor,
      job: claims.job,
      token,
      claims,
      lastSeen: Date.now(),
      inflight: 1,
      released: false,
    };
    sessionCount++;
    jobSessions.set(claims.job, (jobSessions.get(claims.job) ?? 0) + 1);
    transport.onclose = () => release(s);
    try {
      await createMcpServer(runtime.sessionFor(governor)).connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      s.inflight--;
      s.lastSeen = Date.now();
      dropAnsweredJsonStreams(transport);
      // The initialize was refused by the SDK (e.g. a bad Accept header): no session was opened.
      if (s.id === undefined) closeSession(s);
    }
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
    state: () => ({
      sessions: sessions.size,
      sessionsByJob: Object.fromEntries(jobSessions),
      limiterKeys: { token: tokenLimit.size, job: jobLimit.size, unauth: unauthLimit.size },
      verifiedTokens: verified.size,
      pendingRefusalKinds: refusals.size,
      sdkStreams: [...sessions.values()].reduce((n, x) => {
        const m = sdkInternals(x.transport)?._streamMapping;
        return n < 0 || !(m instanceof Map) ? -1 : n + m.size;
      }, 0),
    }),
    async close() {
      clearInterval(reaper);
      admin.close();
      for (const s of [...sessions.values()]) {
        release(s);
        await s.transport.close().catch(() => {});
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      // The last interval's counted refusals get their receipt before the stores close.
      refusals.close();
    },
  };
}
