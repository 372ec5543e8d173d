import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { ArmError, handleArm } from "./arm.js";
import { armOperationOf, authorizeRequest, handlePermissions, type IdentityConfig } from "./arm-authorization.js";
import { handleSavedSearches } from "./arm-hunting.js";
import { type FaultConfig, Faults } from "./faults.js";
import type { WorkspaceIds } from "./ids.js";
import { ingest, runQuery } from "./logs.js";
import { QueryPool, type QueryPoolOptions, type QueryPoolStats, queryPoolOptionsFromEnv } from "./query-pool.js";
import type { WorkspaceStore } from "./store.js";

const MAX_BODY = 1024 * 1024;
/** What the query API needs (table-level read access is not enforced by the embedded workspace). */
const QUERY_READ = "Microsoft.OperationalInsights/workspaces/query/read";
/** Server timeout of a query when the request has no `Prefer: wait=N` (our callers always send one). */
const DEFAULT_QUERY_SECONDS = 10;
/** The Log Analytics API's maximum server timeout. */
const MAX_QUERY_SECONDS = 600;

export interface RunningServer {
  url: string;
  setFaults(f: FaultConfig): void;
  /** The query worker pool (tests and the bench watch it). */
  queryPool: Pick<QueryPool, "stats" | "threadIds" | "memoryMb">;
  close(): Promise<void>;
}

export type { QueryPoolOptions, QueryPoolStats };

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  sendText(res, status, JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function armError(res: ServerResponse, e: ArmError): void {
  if (e.retryAfter !== undefined) res.setHeader("retry-after", String(e.retryAfter));
  send(res, e.status, { error: { code: e.code, message: e.message, ...(e.inner ? { innererror: e.inner } : {}) } });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ArmError(413, "RequestEntityTooLarge", `request body exceeds ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function jsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new ArmError(400, "BadArgumentError", "request body is not valid JSON");
  }
}

function timeoutOf(prefer: string): number {
  const wait = /(?:^|[,;\s])wait=(\d+)/.exec(prefer)?.[1];
  return Math.min(MAX_QUERY_SECONDS, Math.max(1, wait ? Number(wait) : DEFAULT_QUERY_SECONDS));
}

/**
 * POST /v1/$batch: each request runs as its own query (in order, each in a pool worker); a request's failure is its
 * own response (status and error body), as the Log Analytics API answers, never the batch's.
 */
async function runBatch(pool: QueryPool, workspaceId: string, body: unknown, signal: AbortSignal) {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests) || requests.length === 0)
    throw new ArmError(400, "BadArgumentError", "body must include a non-empty requests array");
  if (requests.length > MAX_BATCH)
    throw new ArmError(400, "BadArgumentError", `a batch holds at most ${MAX_BATCH} requests`);
  const responses = [];
  for (const r of requests as {
    id?: unknown;
    body?: unknown;
    workspace?: unknown;
    path?: unknown;
    headers?: Record<string, string>;
  }[]) {
    const id = typeof r?.id === "string" ? r.id : String(r?.id ?? "");
    try {
      if (r.path !== undefined && r.path !== "/query")
        throw new ArmError(400, "BadArgumentError", `request ${id}: path must be /query`);
      if (r.workspace !== workspaceId)
        throw new ArmError(404, "WorkspaceNotFoundError", `workspace ${String(r.workspace)} not found`);
      const prefer = String(r.headers?.prefer ?? r.headers?.Prefer ?? "");
      const answer = await runQuery(pool, r.body, {
        timeoutSeconds: timeoutOf(prefer),
        statistics: /(?:^|[,;\s])include-statistics=true/.test(prefer),
        signal,
      });
      responses.push({ id, status: 200, body: JSON.parse(answer.body) as unknown });
    } catch (e) {
      if (!(e instanceof ArmError)) throw e;
      responses.push({ id, status: e.status, body: { error: { code: e.code, message: e.message } } });
    }
  }
  return { responses };
}

const MAX_BATCH = 10;

/** HTTPS on 127.0.0.1: the ARM SecurityInsights subset, the Log Analytics query API and the Logs Ingestion API. */
export async function startServer(opts: {
  store: WorkspaceStore;
  ids: WorkspaceIds;
  key: string;
  cert: string;
  secret: string;
  port: number;
  faults?: FaultConfig;
  /** Query workers; unset fields come from GSMCP_QUERY_* (queryPoolOptionsFromEnv), then the defaults. */
  queryPool?: QueryPoolOptions;
  /** The role sets the bearer secret holds now (arm-authorization.ts); undefined: none configured (owner). */
  identity?: () => IdentityConfig | undefined;
}): Promise<RunningServer> {
  const { store, ids } = opts;
  if (store.db.memory) throw new Error("the workspace store must be a file: query workers open it read-only");
  const pool = new QueryPool(store.db.name, { ...queryPoolOptionsFromEnv(), ...opts.queryPool });
  const faults = new Faults(opts.faults);
  const secret = Buffer.from(opts.secret);
  let baseUrl = "";
  const armPrefix =
    `/subscriptions/${ids.subscriptionId}/resourcegroups/${ids.resourceGroup}/providers/microsoft.operationalinsights/workspaces/${ids.workspaceName}/providers/microsoft.securityinsights/`.toLowerCase();
  // Log Analytics saved searches sit directly under the workspace (Microsoft.OperationalInsights), not under the
  // SecurityInsights provider.
  const workspacePrefix = armPrefix.slice(0, armPrefix.indexOf("providers/microsoft.securityinsights/"));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const fault = faults.next();
    if (fault.kind === "reset") return req.socket.destroy();
    if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
    if (fault.kind === "429") {
      res.setHeader("retry-after", String(fault.retryAfter));
      return send(res, 429, { error: { code: "TooManyRequests", message: "rate limited (fault injection)" } });
    }
    if (fault.kind === "500")
      return send(res, 500, { error: { code: "InternalServerError", message: "injected failure" } });

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const presented = Buffer.from(token);
    if (presented.length !== secret.length || !timingSafeEqual(presented, secret)) {
      return send(res, 401, { error: { code: "AuthenticationFailed", message: "missing or invalid bearer token" } });
    }
    const url = new URL(req.url ?? "/", baseUrl);
    const path = decodeURIComponent(url.pathname);
    const raw = req.method === "POST" || req.method === "PUT" ? await readBody(req) : Buffer.alloc(0);

    const permissions = handlePermissions(ids, opts.identity ?? (() => undefined), {
      method: req.method ?? "GET",
      path,
      query: url.searchParams,
    });
    if (permissions) return send(res, permissions.status, permissions.body);
    const lower = path.toLowerCase();
    const savedSearches =
      lower.startsWith(workspacePrefix) && /^savedsearches(\/|$)/.test(lower.slice(workspacePrefix.length));
    if (lower.startsWith(armPrefix) || savedSearches) {
      if (!url.searchParams.get("api-version"))
        throw new ArmError(
          400,
          "MissingApiVersionParameter",
          "The api-version query parameter (?api-version=) is required for all requests.",
        );
      let body: unknown;
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new ArmError(400, "InvalidRequestContent", "request body is not valid JSON");
        }
      }
      const segments = path
        .slice(savedSearches ? workspacePrefix.length : armPrefix.length)
        .split("/")
        .filter(Boolean);
      authorizeRequest(
        opts.identity?.(),
        savedSearches
          ? armOperationOf(req.method ?? "GET", segments, "Microsoft.OperationalInsights/workspaces")
          : armOperationOf(req.method ?? "GET", segments, "Microsoft.SecurityInsights"),
        path,
      );
      const r = (savedSearches ? handleSavedSearches : handleArm)(store, ids, {
        method: req.method ?? "GET",
        segments,
        query: url.searchParams,
        body,
        headers: req.headers,
        baseUrl,
      });
      return send(res, r.status, r.body);
    }
    const q = /^\/v1\/workspaces\/([^/]+)\/query$/.exec(path);
    if (q && (req.method === "POST" || req.method === "GET")) {
      if (q[1] !== ids.workspaceId) throw new ArmError(404, "WorkspaceNotFoundError", `workspace ${q[1]} not found`);
      authorizeRequest(opts.identity?.(), QUERY_READ, path);
      // GET carries the query and timespan as URL parameters; POST as a JSON body.
      const body =
        req.method === "GET"
          ? {
              query: url.searchParams.get("query") ?? undefined,
              timespan: url.searchParams.get("timespan") ?? undefined,
            }
          : jsonBody(raw);
      const prefer = String(req.headers.prefer ?? "");
      // The client going away (its own deadline, cancellation) drops the query or terminates its worker.
      const gone = new AbortController();
      res.once("close", () => {
        if (!res.writableFinished) gone.abort();
      });
      const answer = await runQuery(pool, body, {
        timeoutSeconds: timeoutOf(prefer),
        statistics: /(?:^|[,;\s])include-statistics=true/.test(prefer),
        signal: gone.signal,
      });
      return sendText(res, 200, answer.body);
    }
    if (path === "/v1/$batch" && req.method === "POST") {
      authorizeRequest(opts.identity?.(), QUERY_READ, path);
      const gone = new AbortController();
      res.once("close", () => {
        if (!res.writableFinished) gone.abort();
      });
      return send(res, 200, await runBatch(pool, ids.workspaceId, jsonBody(raw), gone.signal));
    }
    const ing = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(path);
    if (ing && req.method === "POST") {
      if (ing[1] !== ids.dcrImmutableId)
        throw new ArmError(404, "InvalidDataCollectionRule", `data collection rule ${ing[1]} not found`);
      ingest(store, raw, req.headers["content-encoding"] as string | undefined, ing[2]!);
      return send(res, 204);
    }
    throw new ArmError(404, "NotFound", `no route for ${req.method} ${path}`);
  };

  const server: Server = createServer({ key: opts.key, cert: opts.cert }, (req, res) => {
    handle(req, res).catch((e) => {
      if (res.headersSent) return res.end();
      if (e instanceof ArmError) return armError(res, e);
      send(res, 500, { error: { code: "InternalServerError", message: (e as Error).message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    setFaults: (f) => faults.set(f),
    queryPool: pool,
    close: async () => {
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
        pool.close(),
      ]);
    },
  };
}
