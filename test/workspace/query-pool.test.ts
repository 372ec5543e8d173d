import { mkdtempSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toGovernanceError } from "../../src/governance/codes.js";
import { GovernanceError } from "../../src/governance/errors.js";
import { BackendError } from "../../src/sentinel/errors.js";
import { SdkBackend } from "../../src/sentinel/sdk-backend.js";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";
import type { QueryPoolOptions } from "../../src/workspace/query-pool.js";
import type { WorkspaceStore } from "../../src/workspace/store.js";

// Queries run in worker threads with a hard wall-clock limit: a runaway query is terminated at its server timeout,
// and the rest of the workspace (other queries, ARM) keeps answering meanwhile. Everything goes through the real
// HTTPS workspace and the Azure SDK clients / SdkBackend.

/** ~1M rows × 12 nested SHA-256 per row: tens of seconds, little memory — stopped only by the timeout. */
const RUNAWAY = `range x from 1 to 1000000 step 1 | where ${"hash_sha256(".repeat(12)}tostring(x)${")".repeat(12)} == "nope" | count`;
/** 1M rows of fresh ~300-char strings: hundreds of MB. */
const MEMORY_HOG = `range x from 1 to 1000000 step 1 | extend s = toupper(strcat(x, "${"m".repeat(300)}")) | count`;

interface Started {
  server: WorkspaceHandle;
  store: WorkspaceStore;
  handle: WorkspaceHandle;
  clients: ReturnType<typeof createLocalClients>;
  backend: SdkBackend;
}

const started: Started[] = [];

/** A seeded workspace served with the given pool options. */
async function start(queryPool: QueryPoolOptions = {}): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), "gsmcp-qp-"));
  const { ids } = await initWorkspace(dir, { seed: 3 });
  const handle = await startWorkspace(dir, { queryPool });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= handle.close();
    return closed;
  };
  const server = { ...handle, close };
  const store = handle.store;
  const clients = createLocalClients(handle);
  const backend = new SdkBackend(
    {
      subscriptionId: ids.subscriptionId,
      resourceGroup: ids.resourceGroup,
      workspaceName: ids.workspaceName,
      workspaceId: ids.workspaceId,
    },
    clients,
  );
  const s = { server, store, handle, clients, backend };
  started.push(s);
  return s;
}

afterAll(async () => {
  for (const s of started) await s.server.close();
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

function post(s: Started, query: string, prefer?: string): Promise<{ status: number; body: string; headers: object }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${s.server.url}/v1/workspaces/${s.handle.ids.workspaceId}/query`,
      {
        method: "POST",
        ca: s.handle.caPem,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${s.handle.secret}`,
          ...(prefer ? { prefer } : {}),
        },
      },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ query, timespan: "P30D" }));
  });
}

describe("bounded query execution", () => {
  it("terminates a runaway query at the server timeout and replaces its worker; meanwhile other calls answer", async () => {
    const s = await start();
    const pool = s.server.queryPool;
    // Both workers up and their tables loaded first: on a busy machine spawning one can take longer than the
    // runaway's 2 s, and this test is about a warm worker answering while the other is held, not about spawn time.
    await Promise.all([0, 1].map(() => s.backend.queryLogs("SigninLogs | take 1", "P30D")));
    const order: string[] = [];
    const runaway = s.backend.queryLogs(RUNAWAY, "P1D", { serverTimeoutSeconds: 2 }).then(
      () => order.push("runaway answered"),
      (e: unknown) => {
        order.push("runaway stopped");
        return e;
      },
    );
    await until(() => pool.stats().busy === 1);
    const runawayThreads = pool.threadIds();
    // While the runaway query holds one worker: a query (on the second worker) and an ARM call answer.
    const quick = s.backend.queryLogs("SigninLogs | summarize n = count()", "P30D").then((t) => {
      order.push("query");
      return t;
    });
    const arm = (async () => {
      const all = [];
      for await (const i of s.clients.securityInsights.incidents.list(
        s.handle.ids.resourceGroup,
        s.handle.ids.workspaceName,
      ))
        all.push(i);
      order.push("arm");
      return all;
    })();
    expect((await quick).rows[0]![0]).toBeGreaterThan(0);
    expect((await arm).length).toBe(20);
    const err = toGovernanceError(await runaway);
    expect(order.slice(0, 2).sort()).toEqual(["arm", "query"]);
    expect(order[2]).toBe("runaway stopped");
    // The server stopped it (504, not the client's deadline), with the reason and what to do.
    expect(err).toBeInstanceOf(GovernanceError);
    expect((err as GovernanceError).code).toBe("kql_query_timeout");
    expect((err as GovernanceError).message).toMatch(/HTTP 504.*server timeout of 2s/);
    expect((err as GovernanceError).fix).toMatch(/narrow the timespan/);
    expect((err as GovernanceError).details).toMatchObject({ status: 504, reason: "timeout", timeoutSeconds: 2 });
    // Terminated and replaced: that thread is gone, the pool is back to full strength and answers.
    expect(pool.stats()).toMatchObject({ terminated: 1, workers: 2 });
    expect(pool.threadIds()).not.toContain(runawayThreads[0]);
    const again = await s.backend.queryLogs("SecurityIncident | count", "P30D");
    expect(again.rows[0]![0]).toBe(20);
  });

  it("shows ingested rows to the next query on every worker, and reports statistics and reads", async () => {
    const s = await start();
    const q = "AgentSecurityEvent_CL | where ToolName == 'qp_probe' | count";
    // Two concurrent queries: both workers load the table.
    const before = await Promise.all([s.backend.queryLogs(q, "P1D"), s.backend.queryLogs(q, "P1D")]);
    expect(s.server.queryPool.stats().workers).toBe(2);
    expect(before.map((t) => t.rows[0]![0])).toEqual([0, 0]);
    const now = new Date().toISOString();
    await s.clients.logsIngestion.upload(s.handle.ids.dcrImmutableId, s.handle.ids.streamName, [
      { TimeGenerated: now, EventId: "e1", ToolName: "qp_probe" },
      { TimeGenerated: now, EventId: "e2", ToolName: "qp_probe" },
    ]);
    const after = await Promise.all([s.backend.queryLogs(q, "P1D"), s.backend.queryLogs(q, "P1D")]);
    expect(after.map((t) => t.rows[0]![0])).toEqual([2, 2]);

    // Prefer: include-statistics=true → statistics.query (executionTime in seconds; tablesRead is a local extension).
    const raw = await post(s, "AgentSecurityEvent | count", "wait=5,include-statistics=true");
    expect(raw.status).toBe(200);
    const stats = (JSON.parse(raw.body) as { statistics?: { query?: Record<string, unknown> } }).statistics?.query;
    expect(typeof stats?.executionTime).toBe("number");
    if (stats?.tablesRead !== undefined) {
      // The engine reports its reads: the backend returns them.
      expect(stats.tablesRead).toEqual(["AgentSecurityEvent_CL"]);
      expect(stats.storedFunctionsRead).toEqual(["AgentSecurityEvent"]);
      expect((await s.backend.queryLogs("AgentSecurityEvent | count", "P1D")).reads).toEqual({
        tables: ["AgentSecurityEvent_CL"],
        storedFunctions: ["AgentSecurityEvent"],
      });
    } else {
      expect((await s.backend.queryLogs("AgentSecurityEvent | count", "P1D")).reads).toBeUndefined();
    }
    // Without the Prefer header: no statistics.
    expect(JSON.parse((await post(s, "SigninLogs | take 1")).body)).not.toHaveProperty("statistics");
  });

  it("answers a query that runs out of worker memory with a clear error and replaces the worker", async () => {
    const s = await start({ maxOldGenerationSizeMb: 96 });
    const raw = await s.backend.queryLogs(MEMORY_HOG, "P1D", { serverTimeoutSeconds: 60 }).catch((e: unknown) => e);
    expect(raw).toMatchObject({ failure: "limit" });
    const err = toGovernanceError(raw);
    expect(err).toBeInstanceOf(GovernanceError);
    expect((err as GovernanceError).code).toBe("kql_query_limit");
    expect((err as GovernanceError).message).toMatch(/resource limit.*memory limit of 96 MB/);
    expect((err as GovernanceError).message).toMatch(/GSMCP_QUERY_MAX_MEMORY_MB/);
    expect(s.server.queryPool.stats()).toMatchObject({ failed: 1 });
    expect((await s.backend.queryLogs("SecurityIncident | count", "P30D")).rows[0]![0]).toBe(20);
  });

  it("queues beyond the pool and answers 429 when the queue is full; a queued query times out too", async () => {
    const s = await start({ workers: 1, maxQueue: 1 });
    const running = post(s, RUNAWAY, "wait=3");
    await until(() => s.server.queryPool.stats().busy === 1);
    const queued = post(s, "SecurityIncident | count", "wait=2");
    await until(() => s.server.queryPool.stats().queued === 1);
    const full = await post(s, "SecurityIncident | count");
    expect(full.status).toBe(429);
    expect(full.headers).toMatchObject({ "retry-after": "1" });
    expect(JSON.parse(full.body)).toMatchObject({ error: { code: "TooManyRequests" } });
    expect(JSON.parse(full.body).error.message).toMatch(/GSMCP_QUERY_WORKERS/);
    const q = await queued;
    expect(q.status).toBe(504);
    expect(JSON.parse(q.body)).toMatchObject({ error: { code: "GatewayTimeout" } });
    expect(JSON.parse(q.body).error.message).toMatch(/server timeout of 2s; narrow the timespan/);
    expect((await running).status).toBe(504);
    expect((await post(s, "SecurityIncident | count")).status).toBe(200);
  });

  it("cancels: the caller's abort signal ends the call and the server terminates the worker", async () => {
    const s = await start();
    const ac = new AbortController();
    const p = s.backend
      .queryLogs(RUNAWAY, "P1D", { serverTimeoutSeconds: 60, abortSignal: ac.signal })
      .catch((e: unknown) => e);
    await until(() => s.server.queryPool.stats().busy === 1);
    ac.abort();
    const err = await p;
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ failure: "cancelled", extra: { details: { reason: "cancelled" } } });
    await until(() => s.server.queryPool.stats().terminated === 1);
    expect(s.server.queryPool.stats().busy).toBe(0);
  });

  it("closes cleanly: workers terminated, waiting queries answered", async () => {
    const s = await start();
    // The connection is closed under the running query.
    const running = post(s, RUNAWAY, "wait=30").catch((e: Error & { code?: string }) => e.code);
    await until(() => s.server.queryPool.stats().busy === 1);
    await s.server.close();
    expect(s.server.queryPool.stats().workers).toBe(0);
    expect(await running).toBe("ECONNRESET");
  });
});
