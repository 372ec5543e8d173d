import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpLimits } from "../../src/cli/commands/serve.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { HttpConfigError, validateHttpConfig } from "../../src/governance/home.js";
import { type HttpOptions, startHttpServer } from "../../src/server/http.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { type RawOptions, type RawResponse, rawRequest } from "../helpers/raw-http.js";
import { eventsOf, receiptsOf, textOf } from "../helpers/state.js";

/** POST unless told otherwise: most requests here are MCP JSON-RPC posts. */
const raw = (url: string, opts: RawOptions): Promise<RawResponse> => rawRequest(url, { method: "POST", ...opts });

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});
const LIST = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
const CALL = JSON.stringify({
  jsonrpc: "2.0",
  id: 3,
  method: "tools/call",
  params: { name: "sentinel_incidents_list", arguments: { top: 1 } },
});
const POST = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const bearer = (t: string) => ({ ...POST, authorization: `Bearer ${t}` });
const inSession = (t: string, sid: string) => ({
  ...bearer(t),
  "mcp-session-id": sid,
  "mcp-protocol-version": "2025-06-18",
});

describe("HTTP transport limits", () => {
  let h: TestHome;
  let runtime: Runtime;
  let policy: string;
  const servers: Awaited<ReturnType<typeof startHttpServer>>[] = [];
  const token = async (job: string) => (await issueCst(h.home, { policy, job, agent: `agent-${job}` })).token;
  const serve = async (opts: Partial<HttpOptions> = {}) => {
    const s = await startHttpServer(runtime, { host: "127.0.0.1", port: 0, ...opts });
    servers.push(s);
    return s;
  };
  const open = async (url: string, t: string): Promise<string> => {
    const r = await raw(url, { headers: bearer(t), body: INIT });
    expect(r.status, r.body).toBe(200);
    return String(r.headers["mcp-session-id"]);
  };

  beforeAll(async () => {
    h = await makeHome();
    policy = h.policyFile("triage-readonly");
    runtime = await openRuntime({ home: h.home, policyRef: policy });
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await runtime?.close();
  });

  it("a flood of unauthenticated requests does not lock out a valid token from the same address", async () => {
    const http = await serve({ limits: { unauth_rate: 0.1, unauth_burst: 5 } });
    const valid = await token("job-flood");
    const forged = `${valid.slice(0, -6)}AAAAAA`;
    const statuses: number[] = [];
    let limited: RawResponse | undefined;
    for (let i = 0; i < 60; i++) {
      const headers = i % 3 === 0 ? POST : i % 3 === 1 ? bearer("not-a-jws") : bearer(forged);
      const r = await raw(http.url, { headers, body: INIT });
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    expect(Number(limited!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited!.body)).toMatchObject({ error: "rate_limited", fix: expect.stringContaining("retry") });

    // The valid token, from the same address, in the middle of the flood: served.
    const client = new Client({ name: "valid", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { authorization: `Bearer ${valid}` } },
      }),
    );
    const r = await client.callTool({ name: "governance_whoami", arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toContain("job-flood");
    await client.close();
    expect((await raw(http.url, { headers: POST, body: INIT })).status).toBe(429);
  });

  it("limits requests per token with 429 and Retry-After; the refused call is not executed", async () => {
    const http = await serve({ limits: { rate: 0.5, burst: 4 } });
    const t = await token("job-rate");
    const sid = await open(http.url, t); // 1
    for (let i = 0; i < 3; i++)
      expect((await raw(http.url, { headers: inSession(t, sid), body: LIST })).status).toBe(200);
    const before = receiptsOf(h).filter((r) => r.job === "job-rate" && r.op === "incidents.list").length;
    const r = await raw(http.url, { headers: inSession(t, sid), body: CALL });
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("2");
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({ error: "rate_limited", code: "rate_limited", retry_after_seconds: 2 });
    expect(body.fix).toMatch(/retry after 2 s.*--rate/);
    const receipts = receiptsOf(h);
    expect(receipts.filter((x) => x.job === "job-rate" && x.op === "incidents.list").length).toBe(before);
    expect(receipts.at(-1)).toMatchObject({
      job: "job-rate",
      op: "transport.request",
      outcome: { status: "refused", error: { code: "rate_limited" } },
    });
    expect(eventsOf(h).at(-1)).toMatchObject({ JobId: "job-rate", ErrorCode: 429 });
    // Another job is not affected.
    expect((await raw(http.url, { headers: bearer(await token("job-other")), body: INIT })).status).toBe(200);
  });

  it("limits requests per job across its tokens", async () => {
    const http = await serve({ limits: { rate: 100, burst: 100, job_rate: 0.1, job_burst: 3 } });
    const a = await token("job-shared");
    const b = await token("job-shared");
    await open(http.url, a);
    await open(http.url, b);
    await open(http.url, a);
    const r = await raw(http.url, { headers: bearer(b), body: INIT });
    expect(r.status).toBe(429);
    expect(JSON.parse(r.body).message).toContain("per job");
  });

  it("ignores X-Forwarded-For from an untrusted peer and honours it from a trusted proxy", async () => {
    // Loopback is not a trusted proxy here: forged hops do not give fresh budgets.
    const direct = await serve({ limits: { unauth_rate: 0.1, unauth_burst: 2, trusted_proxies: ["10.0.0.0/8"] } });
    const spoofed = [];
    for (let i = 0; i < 4; i++)
      spoofed.push(
        (await raw(direct.url, { headers: { ...POST, "x-forwarded-for": `198.51.100.${i}` }, body: INIT })).status,
      );
    expect(spoofed).toEqual([401, 401, 429, 429]);

    // Behind a trusted proxy (loopback here), each client address has its own budget.
    const proxied = await serve({
      limits: { unauth_rate: 0.1, unauth_burst: 2, trusted_proxies: ["127.0.0.1/32", "::1"] },
    });
    const from = (ip: string) => ({ ...POST, "x-forwarded-for": `203.0.113.250, ${ip}` });
    const one = [];
    for (let i = 0; i < 3; i++)
      one.push((await raw(proxied.url, { headers: from("198.51.100.7"), body: INIT })).status);
    expect(one).toEqual([401, 401, 429]);
    expect((await raw(proxied.url, { headers: from("198.51.100.8"), body: INIT })).status).toBe(401);
    const last = receiptsOf(h).filter((r) => r.op === "transport.request" && r.args_redacted?.client);
    expect(last.map((r) => r.args_redacted.client)).toContain("198.51.100.7");
  });

  it("caps sessions per job (429) and in total (503), with Retry-After and a receipt", async () => {
    const http = await serve({ limits: { max_sessions: 3, max_sessions_per_job: 2 } });
    const a = await token("job-cap-a");
    const first = await open(http.url, a);
    await open(http.url, a);
    const perJob = await raw(http.url, { headers: bearer(a), body: INIT });
    expect(perJob.status).toBe(429);
    expect(perJob.headers["retry-after"]).toBeDefined();
    expect(JSON.parse(perJob.body)).toMatchObject({
      error: "too_many_sessions",
      fix: expect.stringContaining("DELETE"),
    });
    expect(receiptsOf(h).at(-1)).toMatchObject({ job: "job-cap-a", outcome: { status: "refused" } });
    await open(http.url, await token("job-cap-b"));
    const c = await token("job-cap-c");
    const total = await raw(http.url, { headers: bearer(c), body: INIT });
    expect(total.status).toBe(503);
    expect(total.headers["retry-after"]).toBeDefined();
    expect(JSON.parse(total.body)).toMatchObject({ error: "server_busy" });
    expect(http.state().sessions).toBe(3);
    // Closing a session (DELETE) frees its place.
    expect((await raw(http.url, { method: "DELETE", headers: inSession(a, first) })).status).toBe(200);
    expect(http.state()).toMatchObject({ sessions: 2, sessionsByJob: { "job-cap-a": 1, "job-cap-b": 1 } });
    await open(http.url, c);
  });

  it("closes idle sessions (reaper), and reaps before refusing at the cap", async () => {
    const http = await serve({ sessionIdleMs: 300, reapIntervalMs: 100, limits: { max_sessions_per_job: 1 } });
    const t = await token("job-idle");
    const sid = await open(http.url, t);
    expect(http.state().sessions).toBe(1);
    await new Promise((r) => setTimeout(r, 700));
    expect(http.state()).toMatchObject({ sessions: 0, sessionsByJob: {} });
    const gone = await raw(http.url, { headers: inSession(t, sid), body: LIST });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatch(/idle/);

    // Reaper off (long interval): at the cap, the idle session is closed to make room.
    const lazy = await serve({ sessionIdleMs: 200, reapIntervalMs: 60_000, limits: { max_sessions_per_job: 1 } });
    await open(lazy.url, t);
    expect((await raw(lazy.url, { headers: bearer(t), body: INIT })).status).toBe(429);
    await new Promise((r) => setTimeout(r, 300));
    await open(lazy.url, t);
    expect(lazy.state().sessions).toBe(1);
  });

  it("a busy session keeps no per-request state (SDK JSON-mode stream mappings are dropped once answered)", async () => {
    const http = await serve();
    const client = new Client({ name: "busy", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { authorization: `Bearer ${await token("job-busy")}` } },
      }),
    );
    for (let i = 0; i < 40; i++) await client.callTool({ name: "governance_whoami", arguments: {} });
    // At most the session's GET stream is held (the SDK would hold 41 request mappings without the workaround).
    expect(http.state().sdkStreams).toBeGreaterThanOrEqual(0);
    expect(http.state().sdkStreams).toBeLessThanOrEqual(1);
    await client.close();
  });

  it("a flood of N garbage requests adds O(intervals) receipts and events, not N; the counts add up", async () => {
    const http = await serve({ refusalIntervalMs: 60_000, limits: { unauth_rate: 1, unauth_burst: 10 } });
    const valid = await token("job-garbage");
    const forged = `${valid.slice(0, -6)}BBBBBB`;
    const r0 = receiptsOf(h).length;
    const e0 = eventsOf(h).length;
    const N = 300;
    const kinds = [POST, bearer("garbage"), bearer(forged)];
    for (let i = 0; i < N; i++) await raw(http.url, { headers: kinds[i % 3]!, body: INIT });
    const during = receiptsOf(h).slice(r0);
    // One receipt for the first of each kind (3 reasons × 401/429) within the interval.
    expect(during.length).toBeLessThanOrEqual(6);
    await http.close();
    servers.splice(servers.indexOf(http), 1);
    const added = receiptsOf(h).slice(r0);
    expect(added.length).toBeLessThanOrEqual(12);
    expect(eventsOf(h).length - e0).toBeLessThanOrEqual(12 * 3);
    // Every refused request is accounted for: the first of each kind, plus the counts of the summaries.
    const counted = added.reduce((n, r) => n + ((r.args_redacted as { count?: number }).count ?? 1), 0);
    expect(counted).toBe(N);
    expect(added.filter((r) => (r.args_redacted as { aggregated?: boolean }).aggregated).length).toBeGreaterThan(0);
    expect(added.every((r) => r.op === "transport.request" && r.outcome.status === "refused")).toBe(true);
  });
});

describe("HTTP limits configuration", () => {
  const flags = { transport: "http", host: "127.0.0.1", port: "0", allowOrigin: [] };

  it("config.json http section: every value checked, naming the field and the fix", () => {
    expect(validateHttpConfig({ rate: 5, burst: 10, trusted_proxies: ["10.0.0.0/8"] })).toEqual({
      rate: 5,
      burst: 10,
      trusted_proxies: ["10.0.0.0/8"],
    });
    const bad: [unknown, RegExp][] = [
      [{ rate: 0 }, /http\.rate must be a rate/],
      [{ burst: 1.5 }, /http\.burst must be a whole number/],
      [{ max_sessions: "many" }, /http\.max_sessions must be a number/],
      [{ session_idle_seconds: 0 }, /http\.session_idle_seconds must be seconds/],
      [{ trusted_proxies: ["10.0.0.0/40"] }, /http\.trusted_proxies: "10\.0\.0\.0\/40" is not a CIDR/],
      [{ trusted_proxies: "10.0.0.0/8" }, /must be a list of CIDRs/],
      [{ ratee: 1 }, /http\.ratee is not an HTTP setting/],
      [[1], /"http" must be an object/],
    ];
    for (const [value, message] of bad) {
      let err: unknown;
      try {
        validateHttpConfig(value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HttpConfigError);
      expect((err as Error).message).toMatch(message);
      expect((err as HttpConfigError).fix.length).toBeGreaterThan(0);
    }
  });

  it("serve flags override config.json and are checked, naming the flag", () => {
    expect(
      httpLimits({ rate: 5, unauth_rate: 2 }, { ...flags, rate: "7", trustedProxy: ["127.0.0.1", "fd00::/8"] }),
    ).toEqual({ rate: 7, unauth_rate: 2, trusted_proxies: ["127.0.0.1", "fd00::/8"] });
    expect(() => httpLimits(undefined, { ...flags, burst: "0" })).toThrow(/--burst must be a whole number/);
    expect(() => httpLimits(undefined, { ...flags, sessionIdleSeconds: "x" })).toThrow(
      /--session-idle-seconds must be a number/,
    );
    expect(() => httpLimits(undefined, { ...flags, trustedProxy: ["proxy.local"] })).toThrow(
      /--trusted-proxy: "proxy.local" is not a CIDR/,
    );
    expect(() => httpLimits({ rate: -1 }, flags, "/h/config.json")).toThrow(/\/h\/config\.json http\.rate/);
  });
});
