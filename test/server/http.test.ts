import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { startHttpServer } from "../../src/server/http.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { rawRequest } from "../helpers/raw-http.js";
import { eventsOf, receiptsOf } from "../helpers/state.js";

const raw = rawRequest;

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});
const POST_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

describe("Streamable HTTP transport", () => {
  let h: TestHome;
  let runtime: Runtime;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    h = await makeHome();
    const policy = h.policyFile("triage-readonly");
    runtime = await openRuntime({ home: h.home, policyRef: policy });
    http = await startHttpServer(runtime, {
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 64 * 1024,
      adminToken: "operator-secret-0123456789",
    });
    tokenA = (await issueCst(h.home, { policy, job: "job-A", agent: "agent-A" })).token;
    tokenB = (await issueCst(h.home, { policy, job: "job-B", agent: "agent-B" })).token;
  });
  afterAll(async () => {
    await http?.close();
    await runtime?.close();
  });

  it("challenges a request without a token and serves RFC 9728 metadata", async () => {
    const r = await raw(http.url, { method: "POST", headers: POST_HEADERS, body: INIT });
    expect(r.status).toBe(401);
    expect(String(r.headers["www-authenticate"])).toMatch(
      /^Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/,
    );
    const meta = await raw(http.url.replace("/mcp", "/.well-known/oauth-protected-resource"), {});
    expect(JSON.parse(meta.body)).toMatchObject({ resource: http.url, bearer_methods_supported: ["header"] });
  });

  it("serves a governed session through the SDK client", async () => {
    const client = new Client({ name: "http-test", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { authorization: `Bearer ${tokenA}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("sentinel_incidents_list");
    expect(tools.map((t) => t.name)).not.toContain("sentinel_incidents_close");
    const r = await client.callTool({ name: "sentinel_incidents_list", arguments: { top: 2 } });
    expect(r.isError).toBeFalsy();
    expect(receiptsOf(h).at(-1)).toMatchObject({ job: "job-A", op: "incidents.list", outcome: { status: "ok" } });
    await client.close();
  });

  it("refuses a forged token with 401, a receipt and an AuthFailure", async () => {
    const forged = `${tokenA.slice(0, -4)}AAAA`;
    const r = await raw(http.url, {
      method: "POST",
      headers: { ...POST_HEADERS, authorization: `Bearer ${forged}` },
      body: INIT,
    });
    expect(r.status).toBe(401);
    expect(String(r.headers["www-authenticate"])).toContain('error="invalid_token"');
    expect(receiptsOf(h).at(-1)).toMatchObject({
      op: "transport.request",
      agent: "unverified:agent-A",
      outcome: { status: "refused", error: { code: "auth_invalid" } },
    });
    expect(eventsOf(h).some((e) => e.EventType === "AuthFailure" && e.AgentId === "unverified:agent-A")).toBe(true);
  });

  it("rejects a foreign Host (DNS rebinding) and a foreign Origin", async () => {
    const auth = { ...POST_HEADERS, authorization: `Bearer ${tokenA}` };
    expect(
      (await raw(http.url, { method: "POST", headers: { ...auth, host: "evil.example:80" }, body: INIT })).status,
    ).toBe(403);
    expect(
      (await raw(http.url, { method: "POST", headers: { ...auth, origin: "https://evil.example" }, body: INIT }))
        .status,
    ).toBe(403);
  });

  it("limits the request body size", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { pad: "x".repeat(70 * 1024) } });
    const r = await raw(http.url, {
      method: "POST",
      headers: { ...POST_HEADERS, authorization: `Bearer ${tokenA}` },
      body: big,
    });
    expect(r.status).toBe(413);
  });

  it("does not let another job's token use a session", async () => {
    const init = await raw(http.url, {
      method: "POST",
      headers: { ...POST_HEADERS, authorization: `Bearer ${tokenA}` },
      body: INIT,
    });
    expect(init.status).toBe(200);
    const sid = String(init.headers["mcp-session-id"]);
    const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
    const hijack = await raw(http.url, {
      method: "POST",
      headers: {
        ...POST_HEADERS,
        authorization: `Bearer ${tokenB}`,
        "mcp-session-id": sid,
        "mcp-protocol-version": "2025-06-18",
      },
      body: list,
    });
    expect(hijack.status).toBe(403);
    expect(receiptsOf(h).at(-1)).toMatchObject({ job: "job-B", outcome: { status: "refused" } });
  });

  it("the operator endpoint pauses a job (playbook) only with the operator token", async () => {
    const base = http.url.replace("/mcp", "");
    expect((await raw(`${base}/admin/jobs/job-A/pause`, { method: "POST" })).status).toBe(401);
    expect(
      (await raw(`${base}/admin/jobs/job-A/pause`, { method: "POST", headers: { authorization: `Bearer ${tokenA}` } }))
        .status,
    ).toBe(401);
    const ok = await raw(`${base}/admin/jobs/job-A/pause`, {
      method: "POST",
      headers: { authorization: "Bearer operator-secret-0123456789" },
    });
    expect(JSON.parse(ok.body)).toEqual({ job: "job-A", status: "paused" });
    const client = new Client({ name: "paused", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { authorization: `Bearer ${tokenA}` } },
      }),
    );
    const r = await client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    expect(JSON.stringify(r.content)).toContain("job_paused");
    await client.close();
    expect(
      (
        await raw(`${base}/admin/jobs/no-such-job/pause`, {
          method: "POST",
          headers: { authorization: "Bearer operator-secret-0123456789" },
        })
      ).status,
    ).toBe(404);
  });
});
