import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebhookSpool } from "../../src/notify/spool.js";
import {
  backoffDelay,
  checkWebhookSignature,
  DELIVERY_HEADER,
  EVENT_HEADER,
  NotifyError,
  parseRetryAfter,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
  type WebhookEvent,
  WebhookSender,
  type WebhookSenderOptions,
  webhookSenderFromConfig,
} from "../../src/notify/webhook.js";

const SECRET = "whsec-test-0123456789abcdef-DO-NOT-LEAK";
const T0 = Date.parse("2026-03-01T12:00:00Z");

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
type Reply = { status: number; headers?: Record<string, string>; body?: string } | "destroy" | "hang";

/** A loopback endpoint that answers from a script (then 200) and records every request. */
class Endpoint {
  readonly received: Received[] = [];
  script: Reply[] = [];
  /** When set, every request gets this (after the script is used up). */
  always: Reply | undefined;
  private server: Server;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        const reply = this.script.shift() ?? this.always ?? { status: 200 };
        if (reply === "destroy") return req.socket.destroy();
        if (reply === "hang") return;
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? "");
      });
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/gsmcp?sig=query-credential`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A port nothing listens on (bound once, then released). */
async function closedPortUrl(): Promise<string> {
  const e = await new Endpoint().start();
  await e.stop();
  return `http://127.0.0.1:${e.port}/down`;
}

let dir: string;
let endpoint: Endpoint;
let clock: number;
let sleeps: number[];
let events: WebhookEvent[];

const makeSender = (o: Partial<WebhookSenderOptions> = {}, spoolDir = dir) =>
  new WebhookSender({
    url: endpoint.url,
    secret: SECRET,
    spool: new WebhookSpool(spoolDir),
    timeoutMs: 2_000,
    maxAttempts: 3,
    backoff: { baseMs: 100, maxMs: 1_000 },
    spoolBackoff: { baseMs: 60_000, maxMs: 600_000 },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    ...o,
  });

/** Every file under the spool directory, with its content. */
function spoolFiles(root = dir): { path: string; content: string }[] {
  const out: { path: string; content: string }[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...spoolFiles(p));
    else out.push({ path: p, content: readFileSync(p, "utf8") });
  }
  return out;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "gsmcp-webhook-"));
  endpoint = await new Endpoint().start();
  clock = T0;
  sleeps = [];
  events = [];
});
afterEach(async () => {
  await endpoint.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("signatures", () => {
  it("the endpoint receives a signed JSON envelope that verifies with the shared secret", async () => {
    const r = await makeSender().deliver("approval_required", { approval_id: "apr_1" }, { id: "d-1" });
    expect(r).toMatchObject({ status: "delivered", id: "d-1", attempts: 1, httpStatus: 200 });
    expect(endpoint.received).toHaveLength(1);
    const { headers, body } = endpoint.received[0]!;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers[EVENT_HEADER]).toBe("approval_required");
    expect(headers[DELIVERY_HEADER]).toBe("d-1");
    const sig = headers[SIGNATURE_HEADER] as string;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(sig).toContain(`t=${T0 / 1000},`);
    expect(verifyWebhookSignature(SECRET, sig, body, T0)).toBe(true);
    expect(JSON.parse(body)).toEqual({
      id: "d-1",
      event: "approval_required",
      created_at: new Date(T0).toISOString(),
      data: { approval_id: "apr_1" },
    });
  });

  it("rejects a tampered body, a wrong secret, an old or future timestamp and a malformed header", () => {
    const body = JSON.stringify({ id: "x", event: "e", data: { n: 1 } });
    const t = T0 / 1000;
    const header = signWebhook(SECRET, body, t);
    expect(checkWebhookSignature(SECRET, header, body, T0)).toEqual({ ok: true, timestamp: t });
    expect(checkWebhookSignature(SECRET, header, body.replace('"n":1', '"n":2'), T0)).toEqual({
      ok: false,
      reason: "signature_mismatch",
    });
    expect(verifyWebhookSignature("another-secret-of-enough-length", header, body, T0)).toBe(false);
    // Within the window either side, outside it rejected.
    expect(verifyWebhookSignature(SECRET, header, body, T0 + 299_000, 300)).toBe(true);
    expect(checkWebhookSignature(SECRET, header, body, T0 + 301_000, 300)).toEqual({
      ok: false,
      reason: "timestamp_out_of_tolerance",
    });
    expect(verifyWebhookSignature(SECRET, header, body, T0 - 301_000, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, body, new Date(T0))).toBe(true);
    // An attacker cannot re-date a captured request: the timestamp is signed.
    const redated = header.replace(`t=${t}`, `t=${t + 1000}`);
    expect(verifyWebhookSignature(SECRET, redated, body, T0 + 1_000_000)).toBe(false);
    for (const bad of [undefined, "", "v1=abc", `t=${t}`, "t=x,v1=00", `t=${t},v1=zz`])
      expect(checkWebhookSignature(SECRET, bad, body, T0)).toEqual({ ok: false, reason: "malformed" });
  });

  it("accepts any of several secrets (rotation) and raw bytes as the body", () => {
    const body = Buffer.from('{"a":"é"}', "utf8");
    const header = signWebhook(SECRET, body, T0 / 1000);
    expect(verifyWebhookSignature(["old-secret-0123456789", SECRET], header, body, T0)).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, body.toString("utf8"), T0)).toBe(true);
  });

  it("a retried delivery is re-signed with a fresh timestamp and the same delivery id", async () => {
    endpoint.script = [{ status: 500 }];
    const sender = makeSender({
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += 400_000; // longer than the tolerance: the first signature would no longer verify
      },
    });
    await sender.deliver("e", {}, { id: "d-2" });
    const [a, b] = endpoint.received;
    expect(a!.headers[DELIVERY_HEADER]).toBe(b!.headers[DELIVERY_HEADER]);
    expect(a!.body).toBe(b!.body);
    expect(verifyWebhookSignature(SECRET, b!.headers[SIGNATURE_HEADER] as string, b!.body, clock)).toBe(true);
    expect(verifyWebhookSignature(SECRET, a!.headers[SIGNATURE_HEADER] as string, a!.body, clock)).toBe(false);
  });
});

describe("retries", () => {
  it("500 then 200: retried after a backoff, delivered once", async () => {
    endpoint.script = [{ status: 500, body: "upstream broke" }];
    const r = await makeSender().deliver("e", { x: 1 });
    expect(r).toMatchObject({ status: "delivered", attempts: 2 });
    expect(endpoint.received).toHaveLength(2);
    expect(sleeps).toEqual([backoffDelay(1, { baseMs: 100, maxMs: 1_000 }, () => 0.5)]);
    expect(events.map((e) => e.type)).toEqual(["attempt_failed", "delivered"]);
    expect(events[0]).toMatchObject({ status: 500, error: "HTTP 500: upstream broke" });
  });

  it("backoff grows exponentially, is jittered and capped", () => {
    const o = { baseMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, o, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3].map((n) => backoffDelay(n, o, () => 0))).toEqual([50, 100, 200]);
  });

  it("429 with Retry-After: waits what the endpoint asked", async () => {
    endpoint.script = [{ status: 429, headers: { "retry-after": "2" } }];
    const r = await makeSender().deliver("e", {});
    expect(r).toMatchObject({ status: "delivered", attempts: 2 });
    expect(sleeps).toEqual([2_000]);
    expect(parseRetryAfter(new Date(T0 + 5_000).toUTCString(), T0)).toBe(5_000);
    expect(parseRetryAfter("soon", T0)).toBeUndefined();
  });

  it("a Retry-After longer than the in-process limit hands the delivery to the spool, due when asked", async () => {
    endpoint.script = [{ status: 429, headers: { "retry-after": "120" } }];
    const sender = makeSender({ maxRetryAfterMs: 30_000 });
    const r = await sender.deliver("e", {}, { id: "d-429" });
    expect(r).toMatchObject({ status: "spooled", attempts: 1 });
    expect(sleeps).toEqual([]);
    const [entry] = sender.spool!.pending();
    expect(entry!.next_attempt_at).toBe(new Date(T0 + 120_000).toISOString());
    clock += 119_000;
    expect((await sender.drainSpool()).delivered).toEqual([]);
    clock += 1_000;
    expect((await sender.drainSpool()).delivered).toEqual(["d-429"]);
  });

  it("400 is final: not retried, recorded in dead/ as rejected", async () => {
    endpoint.always = { status: 400, body: '{"error":"bad payload"}' };
    const sender = makeSender();
    const r = await sender.deliver("e", {}, { id: "d-400" });
    expect(r).toMatchObject({ status: "rejected", httpStatus: 400, attempts: 1 });
    expect(endpoint.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
    const [dead] = sender.spool!.deadLetters();
    expect(dead).toMatchObject({ id: "d-400", dead_reason: "rejected", last_status: 400 });
    expect(dead!.last_error).toContain("bad payload");
    expect(sender.spool!.pending()).toEqual([]);
  });

  it("redirects are not followed", async () => {
    endpoint.always = { status: 302, headers: { location: "http://example.com/elsewhere" } };
    const r = await makeSender().deliver("e", {});
    expect(r).toMatchObject({ status: "rejected", httpStatus: 302 });
    expect(endpoint.received).toHaveLength(1);
  });

  it("a dropped connection and a per-attempt timeout are retried", async () => {
    endpoint.script = ["destroy", "hang"];
    const r = await makeSender({ timeoutMs: 200 }).deliver("e", {});
    expect(r).toMatchObject({ status: "delivered", attempts: 3 });
    expect(events.filter((e) => e.type === "attempt_failed").map((e) => e.error)).toEqual([
      expect.stringMatching(/^network error/),
      "timeout after 200 ms",
    ]);
  });

  it("without a spool, an undeliverable delivery is reported failed", async () => {
    endpoint.always = { status: 503 };
    const r = await makeSender({ spool: undefined }).deliver("e", {});
    expect(r).toMatchObject({ status: "failed", attempts: 3, error: "HTTP 503" });
  });
});

describe("spool", () => {
  it("endpoint down → spooled; endpoint back → drainSpool delivers exactly once", async () => {
    endpoint.always = "destroy";
    const sender = makeSender();
    const r = await sender.deliver("approval_required", { approval_id: "apr_9" }, { id: "d-down" });
    expect(r).toMatchObject({ status: "spooled", attempts: 3 });
    expect(r.status === "spooled" && r.error).toMatch(/^network error/);
    const [entry] = sender.spool!.pending();
    expect(entry).toMatchObject({ id: "d-down", attempts: 3, event: "approval_required" });
    expect(Date.parse(entry!.next_attempt_at)).toBeGreaterThan(T0);

    endpoint.always = undefined; // back up
    endpoint.received.length = 0;
    expect(await sender.drainSpool()).toEqual({ delivered: [], retrying: [], dead: [] }); // not due yet
    clock += 10 * 60_000;
    const [a, b] = await Promise.all([sender.drainSpool(), sender.drainSpool()]);
    expect(a).toEqual({ delivered: ["d-down"], retrying: [], dead: [] });
    expect(b).toBe(a); // concurrent calls share one run
    expect(await sender.drainSpool()).toEqual({ delivered: [], retrying: [], dead: [] });
    expect(endpoint.received).toHaveLength(1);
    const got = endpoint.received[0]!;
    expect(JSON.parse(got.body).data).toEqual({ approval_id: "apr_9" });
    expect(verifyWebhookSignature(SECRET, got.headers[SIGNATURE_HEADER] as string, got.body, clock)).toBe(true);
    expect(sender.spool!.state("d-down")).toBe("delivered");
    // The same id again is a no-op.
    expect(await sender.deliver("approval_required", {}, { id: "d-down" })).toEqual({
      status: "duplicate",
      id: "d-down",
      attempts: 0,
    });
    expect(endpoint.received).toHaveLength(1);
  });

  it("connection refused (nothing listening) is spooled", async () => {
    const r = await makeSender({ url: await closedPortUrl() }).deliver("e", {});
    expect(r).toMatchObject({ status: "spooled" });
    expect(r.status === "spooled" && r.error).toMatch(/ECONNREFUSED/);
  });

  it("survives a restart: a new sender over the same spool directory delivers what the old one spooled", async () => {
    endpoint.always = { status: 503 };
    await makeSender().deliver("e", { n: 1 }, { id: "d-restart" });
    endpoint.always = undefined;
    endpoint.received.length = 0;
    clock += 3_600_000;
    const fresh = makeSender(); // new WebhookSpool and sender: nothing shared in memory
    expect(await fresh.drainSpool()).toMatchObject({ delivered: ["d-restart"] });
    expect(endpoint.received).toHaveLength(1);
    expect(JSON.parse(endpoint.received[0]!.body).data).toEqual({ n: 1 });
  });

  it("a delivery claimed by a process that died mid-attempt is recovered after the claim TTL", async () => {
    const spool = new WebhookSpool(dir, { claimTtlMs: 60_000 });
    spool.begin(
      {
        v: 1,
        id: "d-crash",
        event: "e",
        body: '{"id":"d-crash","event":"e","data":{}}',
        created_at: new Date(T0).toISOString(),
        attempts: 1,
        next_attempt_at: new Date(T0).toISOString(),
      },
      T0,
    );
    const sender = makeSender({ spool: new WebhookSpool(dir, { claimTtlMs: 60_000 }) });
    expect((await sender.drainSpool()).delivered).toEqual([]); // claim still fresh
    clock += 61_000;
    expect((await sender.drainSpool()).delivered).toEqual(["d-crash"]);
    expect(endpoint.received).toHaveLength(1);
  });

  it("dead-letters after the maximum attempts, with the last error", async () => {
    endpoint.always = { status: 503, body: "maintenance" };
    const sender = makeSender({ maxAttempts: 2, spoolMaxAttempts: 4 });
    await sender.deliver("e", {}, { id: "d-dead" });
    clock += 3_600_000;
    expect(await sender.drainSpool()).toEqual({ delivered: [], retrying: ["d-dead"], dead: [] });
    clock += 3_600_000;
    expect(await sender.drainSpool()).toEqual({ delivered: [], retrying: [], dead: ["d-dead"] });
    expect(endpoint.received).toHaveLength(4);
    const [dead] = sender.spool!.deadLetters();
    expect(dead).toMatchObject({
      id: "d-dead",
      attempts: 4,
      dead_reason: "max_attempts",
      last_status: 503,
      last_error: "HTTP 503: maintenance",
    });
    expect(sender.spool!.pending()).toEqual([]);
    clock += 3_600_000;
    expect(await sender.drainSpool()).toEqual({ delivered: [], retrying: [], dead: [] });
    expect(events.at(-1)).toMatchObject({ type: "dead", id: "d-dead" });
  });

  it("dead-letters after the maximum age, and drops expired deliveries without sending them", async () => {
    endpoint.always = { status: 503 };
    const sender = makeSender({ maxAttempts: 1, spoolMaxAgeMs: 2 * 3_600_000 });
    await sender.deliver("e", {}, { id: "d-old" });
    await sender.deliver("e", {}, { id: "d-exp", expiresAt: new Date(T0 + 60_000) });
    clock += 3 * 3_600_000;
    endpoint.received.length = 0;
    const r = await sender.drainSpool();
    expect(r.dead.sort()).toEqual(["d-exp", "d-old"]);
    expect(endpoint.received).toHaveLength(1); // d-old tried once more; d-exp not at all
    const reasons = Object.fromEntries(sender.spool!.deadLetters().map((d) => [d.id, d.dead_reason]));
    expect(reasons).toEqual({ "d-old": "max_age", "d-exp": "expired" });
  });

  it("never writes the secret (or the URL's query credential) to the spool, events or the sender's printout", async () => {
    endpoint.always = { status: 500 };
    const sender = makeSender({ maxAttempts: 1, spoolMaxAttempts: 2 });
    await sender.deliver("e", { note: "payload" }, { id: "d-secret" });
    clock += 3_600_000;
    await sender.drainSpool(); // → dead/
    const files = spoolFiles();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(f.content).not.toContain(SECRET);
      expect(f.content).not.toContain("query-credential");
    }
    const printed = [JSON.stringify(events), JSON.stringify(sender), inspect(sender, { showHidden: true, depth: 5 })];
    for (const p of printed) {
      expect(p).not.toContain(SECRET);
      expect(p).not.toContain("query-credential");
    }
  });

  it("files are 0600 and directories 0700", async () => {
    endpoint.always = { status: 500 };
    await makeSender({ maxAttempts: 1 }).deliver("e", {}, { id: "d-mode" });
    const spool = new WebhookSpool(dir);
    expect(spool.state("d-mode")).toBe("pending");
    for (const f of spoolFiles()) expect(statSync(f.path).mode & 0o777).toBe(0o600);
    for (const d of ["inflight", "delivered", "dead"]) expect(statSync(join(dir, d)).mode & 0o777).toBe(0o700);
  });

  it("refuses delivery ids that cannot name a file", async () => {
    await expect(makeSender().deliver("e", {}, { id: "../escape" })).rejects.toThrow(/delivery id/);
  });
});

describe("configuration", () => {
  it("refuses plain http to a non-loopback host, naming the field", () => {
    expect(() => makeSender({ url: "http://hooks.example.com/x" })).toThrow(NotifyError);
    expect(() => makeSender({ url: "http://hooks.example.com/x" })).toThrow(/notify\.webhook\.url uses http:\/\//);
    expect(() => makeSender({ url: "ftp://hooks.example.com/x" })).toThrow(/notify\.webhook\.url/);
    expect(() => makeSender({ url: "not a url" })).toThrow(/notify\.webhook\.url is not a valid URL/);
    for (const ok of ["https://hooks.example.com/x", "http://localhost:8080/x", "http://[::1]:9/x"])
      expect(() => makeSender({ url: ok })).not.toThrow();
  });

  it("reads the secret from the environment variable that secret_env names", async () => {
    const c = { url: endpoint.url, secret_env: "GSMCP_TEST_WEBHOOK_SECRET" };
    expect(() => webhookSenderFromConfig(c, { env: {} })).toThrow(
      /notify\.webhook\.secret_env names the environment variable GSMCP_TEST_WEBHOOK_SECRET, which is not set/,
    );
    expect(() => webhookSenderFromConfig(c, { env: { GSMCP_TEST_WEBHOOK_SECRET: "short" } })).toThrow(
      /fewer than 16 characters/,
    );
    const sender = webhookSenderFromConfig(
      { ...c, max_attempts: 1 },
      { env: { GSMCP_TEST_WEBHOOK_SECRET: SECRET }, now: () => clock },
    );
    expect(await sender.deliver("e", {})).toMatchObject({ status: "delivered" });
    const { headers, body } = endpoint.received[0]!;
    expect(verifyWebhookSignature(SECRET, headers[SIGNATURE_HEADER] as string, body, clock)).toBe(true);
  });
});
