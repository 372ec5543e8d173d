import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import type { TrustStoreFile } from "../../src/governance/trust.js";
import { renderMarkdown } from "../../src/receipts/trust-pulse.js";
import { parseBundle, verifyBundle } from "../../src/receipts/verify-bundle.js";
import { RESOURCE_URIS } from "../../src/server/session.js";
import type { Receipt } from "../../src/types/receipt.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { eventsOf, receiptsOf } from "../helpers/state.js";

// MCP cancellation against real `gsmcp serve` processes, over stdio and over Streamable HTTP, through the MCP SDK
// client: `callTool(…, { signal })` sends notifications/cancelled when the signal fires. The query is made slow
// honestly — chained SHA-256 over a large range() on the embedded workspace — and the server's own account of its
// query workers (governance_whoami's query_workers) shows the worker stop. Nothing here waits on a clock: every wait
// is for a state the server reports.

const hashes = (n: number) => `${"hash_sha256(".repeat(n)}tostring(x)${")".repeat(n)}`;
/** Runs until stopped (far beyond what a test waits; the policy below allows queries 120 s). */
const RUNAWAY = `range x from 1 to 1000000 step 1 | where ${hashes(16)} == "nope" | count`;
/** Runs some seconds (~3 s on an idle 2-core machine, ~7 s at load 8), then answers. */
const SLOW = `range x from 1 to 500000 step 1 | where ${hashes(8)} == "nope" | count`;

/** triage-readonly with room for slow queries: a busy machine must not turn SLOW into a timeout. */
function slowQueryPolicy(h: TestHome): string {
  const wpc = examplePolicy("triage-readonly");
  const kq = wpc.constraints!["kql.query"]!;
  return signTestPolicy(h, {
    ...wpc,
    policy_name: "triage-slow-queries",
    constraints: { ...wpc.constraints, "kql.query": { ...kq, kql: { ...kq.kql, max_query_seconds: 120 } } },
  } as WorkPolicyContract);
}

interface Workers {
  running: number;
  queued: number;
  terminated: number;
}

async function workers(client: Client): Promise<Workers> {
  const r = await client.callTool({ name: "governance_whoami", arguments: {} });
  const w = (r.structuredContent as { query_workers?: Workers }).query_workers;
  if (!w) throw new Error(`governance_whoami reported no query workers: ${JSON.stringify(r.structuredContent)}`);
  return w;
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const kqlReceipts = (h: TestHome, query: string) =>
  receiptsOf(h).filter((r) => r.op === "kql.query" && (r.args_redacted as { query?: string }).query === query);

/**
 * The property both transports must have: a cancelled running query stops its worker (the server reports none
 * running, one more terminated), and its call is sealed as `cancelled` with its events; the job's proof bundle
 * verifies offline with those events, and the Trust Pulse shows the cancellation.
 */
async function cancelsRunningQuery(h: TestHome, client: Client, job: string): Promise<Receipt> {
  const before = await workers(client);
  expect(before.running).toBe(0);
  const ac = new AbortController();
  const call = client
    .callTool({ name: "sentinel_kql_query", arguments: { query: RUNAWAY, timespan: "P1D" } }, undefined, {
      signal: ac.signal,
    })
    .then(
      () => "answered" as const,
      (e: unknown) => e,
    );
  await until(async () => (await workers(client)).running === 1, "the query to run in a worker");
  ac.abort("the user pressed stop");
  expect(await call).not.toBe("answered");

  const after = await until(async () => {
    const w = await workers(client);
    return w.running === 0 && w;
  }, "the worker to stop");
  expect(after).toMatchObject({ running: 0, queued: 0, terminated: before.terminated + 1 });

  const receipt = await until(async () => kqlReceipts(h, RUNAWAY).find((r) => r.job === job), "the receipt");
  expect(receipt.outcome).toMatchObject({ status: "cancelled", error: { code: "cancelled" } });
  expect(receipt.outcome.error!.message).toMatch(/while running.*"the user pressed stop".*backend work was stopped/);
  expect(receipt.outcome.result_hash).toBeUndefined();
  const ev = eventsOf(h).filter((e) => e.ReceiptId === receipt.receipt_id);
  expect(ev.find((e) => e.EventType === "ToolInvocation")).toMatchObject({
    ToolResult: "cancelled:cancelled",
    ErrorCode: 499,
  });

  // The job's proof bundle (the MCP resource) verifies offline, events included; the Trust Pulse shows the outcome.
  const res = await client.readResource({ uri: RESOURCE_URIS.proof });
  const bundle = parseBundle((res.contents[0] as { text: string }).text);
  const trust = JSON.parse(readFileSync(h.paths.trust, "utf8")) as TrustStoreFile;
  const events = readFileSync(`${h.paths.telemetry}/events.jsonl`, "utf8").split("\n").filter(Boolean);
  const report = await verifyBundle(bundle, trust, { events });
  expect(report.steps.filter((s) => !s.ok)).toEqual([]);
  expect(report.verdict).toBe("valid");
  expect(renderMarkdown(bundle, report)).toMatch(/\| kql\.query \| single \| \w+ \| cancelled: cancelled \|/);
  return receipt;
}

describe("cancellation and progress over stdio (gsmcp serve)", () => {
  let h: TestHome;
  let s: Awaited<ReturnType<typeof startSession>>;

  beforeAll(async () => {
    h = await makeHome();
    s = await startSession(h, { policyFile: slowQueryPolicy(h), job: "stdio-job" });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it("notifications/cancelled stops the running query's worker and seals a cancelled receipt", async () => {
    await cancelsRunningQuery(h, s.client, "stdio-job");
  }, 120_000);

  it("a slow query with a progressToken reports its phases, rate-limited and in order, before the result", async () => {
    const notes: { progress: number; message?: string }[] = [];
    let answered = false;
    const started = performance.now();
    const r = await s.client.callTool(
      { name: "sentinel_kql_query", arguments: { query: SLOW, timespan: "P1D" } },
      undefined,
      {
        onprogress: (p) => {
          expect(answered).toBe(false);
          notes.push(p);
        },
      },
    );
    answered = true;
    const took = performance.now() - started;
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(notes.length).toBeGreaterThan(0);
    // progress increases with every notification; there is no made-up total.
    for (let i = 1; i < notes.length; i++) expect(notes[i]!.progress).toBeGreaterThan(notes[i - 1]!.progress);
    expect(notes.every((n) => !("total" in n) || n.total === undefined)).toBe(true);
    // The phase a slow query spends its time in: running in the workspace (the query API answers all rows at once).
    expect(notes.some((n) => /^running: query running in the workspace/.test(n.message ?? ""))).toBe(true);
    for (const n of notes) expect(n.message).toMatch(/^(analysing|running|rows)\b/);
    // Rate-limited, not a flood: one note per phase change (three at most after the first second) and a heartbeat
    // every 5 s while the query runs.
    expect(notes.length).toBeLessThanOrEqual(3 + Math.floor(took / 5000));
  }, 120_000);
});

describe("cancellation over Streamable HTTP (gsmcp serve --transport http)", () => {
  let h: TestHome;
  let proc: ChildProcess;
  let url: string;
  let token: string;
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  beforeAll(async () => {
    h = await makeHome();
    const policy = slowQueryPolicy(h);
    token = (await issueCst(h.home, { policy, job: "http-job", agent: "agent-1" })).token;
    proc = spawn(process.execPath, [CLI, "serve", "--transport", "http", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", GSMCP_HOME: h.home, GSMCP_POLICY: policy },
      stdio: ["ignore", "pipe", "inherit"],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      proc.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once("exit", (code) => reject(new Error(`gsmcp serve exited (${code}) before listening: ${out}`)));
    });
    client = new Client({ name: "cancel-http", version: "1" });
    transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
  }, 120_000);
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    }
  });

  it("notifications/cancelled stops the running query's worker and seals a cancelled receipt", async () => {
    await cancelsRunningQuery(h, client, "http-job");
  }, 120_000);

  it("a dropped connection is not a cancellation: the query runs to its end and is sealed as executed", async () => {
    const before = await workers(client);
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: "dropped-1",
      method: "tools/call",
      params: { name: "sentinel_kql_query", arguments: { query: SLOW, timespan: "P1D" } },
    });
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${token}`,
        "mcp-session-id": transport.sessionId!,
        "mcp-protocol-version": transport.protocolVersion ?? "2025-06-18",
      },
    });
    const gone = new Promise<void>((resolve) => req.once("close", () => resolve()));
    req.on("error", () => undefined); // the socket is destroyed below, on purpose
    req.end(body);
    await until(async () => (await workers(client)).running === 1, "the query to run in a worker");
    req.destroy();
    await gone;

    const receipt = await until(async () => kqlReceipts(h, SLOW).at(-1), "the dropped call's receipt");
    expect(receipt.outcome.status).toBe("ok");
    expect(receipt.outcome.rows).toBe(1);
    const after = await workers(client);
    expect(after).toMatchObject({ running: 0, terminated: before.terminated });
    // The session is still there for the client to carry on.
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  }, 120_000);

  it("progress reaches an HTTP client (on the session's stream: calls are answered as JSON)", async () => {
    const notes: { progress: number; message?: string }[] = [];
    const r = await client.callTool(
      { name: "sentinel_kql_query", arguments: { query: SLOW, timespan: "P1D" } },
      undefined,
      { onprogress: (p) => notes.push(p) },
    );
    expect(r.isError).toBeFalsy();
    expect(notes.some((n) => /^running: query running in the workspace/.test(n.message ?? ""))).toBe(true);
  }, 120_000);
});
