import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { jcsHash } from "../../src/crypto/jcs.js";
import { approvalRuleView } from "../../src/governance/approval-rules.js";
import type { Approval } from "../../src/governance/approvals.js";
import type { Decision } from "../../src/governance/decide.js";
import { NotifyConfigError, validateNotifyConfig } from "../../src/governance/home.js";
import { approvalGate } from "../../src/governance/stages/approval-gate.js";
import { WebhookSpool } from "../../src/notify/spool.js";
import { checkWebhookSignature, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER } from "../../src/notify/webhook.js";
import { openRuntime, type Runtime, webhookSpoolDir } from "../../src/server/runtime.js";
import { harness } from "../governance/stages/harness.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { textOf } from "../helpers/state.js";

// The approval_required webhook from the server: a call that creates a pending approval sends one signed notice (link
// to the approver console, redacted arguments) to config.json's notify.webhook; asking again sends nothing; an
// endpoint that is down or slow never delays or fails the call — the notice waits in the spool and the drain delivers
// it. A bad notify block stops `gsmcp serve` before it serves, naming the field.

const SECRET_ENV = "GSMCP_TEST_WEBHOOK_SECRET";
const SECRET = randomBytes(32).toString("hex");
const CONSOLE_URL = "https://approvals.contoso.test/";
const PASSWORD = "hunter2hunter2";

interface Hit {
  headers: IncomingMessage["headers"];
  raw: string;
  body: { id: string; event: string; created_at: string; data: Record<string, unknown> };
}

/** A loopback webhook endpoint on a fixed port that can go down ("refused"), hang, and come back. */
class Receiver {
  hits: Hit[] = [];
  private server: Server | undefined;
  private held: ServerResponse[] = [];
  mode: "ok" | "hang" = "ok";
  port = 0;

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        this.hits.push({ headers: req.headers, raw, body: JSON.parse(raw) });
        if (this.mode === "hang") this.held.push(res);
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Answers every held request with 204. */
  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(204).end();
    this.mode = "ok";
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    this.release();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/approvals?code=not-for-logs`;
  }

  of(approvalId: string): Hit[] {
    return this.hits.filter((h) => h.body.data.approval_id === approvalId);
  }
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function approvalIdOf(r: unknown): string {
  const m = /apr_[0-9a-f]{16}/.exec(textOf(r));
  if (!m) throw new Error(`no approval id in: ${textOf(r)}`);
  return m[0];
}

function setNotify(h: TestHome, notify: unknown): void {
  const config = JSON.parse(readFileSync(h.paths.config, "utf8"));
  writeFileSync(h.paths.config, JSON.stringify({ ...config, notify }, null, 2));
}

/** Every file under the spool, as text (for "no secret in it"). */
function spoolText(dir: string): string {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  return walk(dir)
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
}

function expectSignedNotice(hit: Hit, approvalId: string): void {
  expect(checkWebhookSignature(SECRET, hit.headers[SIGNATURE_HEADER] as string, hit.raw)).toMatchObject({ ok: true });
  expect(
    checkWebhookSignature("another-secret-of-enough-length", hit.headers[SIGNATURE_HEADER] as string, hit.raw),
  ).toMatchObject({ ok: false, reason: "signature_mismatch" });
  expect(hit.headers[EVENT_HEADER]).toBe("approval_required");
  expect(hit.headers[DELIVERY_HEADER]).toBe(`approval_required.${approvalId}`);
  expect(hit.body).toMatchObject({ id: `approval_required.${approvalId}`, event: "approval_required" });
  expect(hit.body.data).toMatchObject({
    approval_id: approvalId,
    op: "incidents.close",
    rule: "containment-approval",
    agent: "agent-1",
    link: `https://approvals.contoso.test/approvals/${approvalId}`,
  });
  // Only the redacted arguments travel: the password in the comment never leaves the server.
  expect(hit.raw).not.toContain(PASSWORD);
}

describe("approval_required webhook from the server", () => {
  let h: TestHome;
  const receiver = new Receiver();
  const policy = () => h.policyFile("containment-with-approvals");
  let incidents: string[];
  const closeArgs = (incidentId: string, comment = `contained; password=${PASSWORD}`) => ({
    incidentId,
    classification: "TruePositive",
    classificationReason: "SuspiciousActivity",
    comment,
  });

  beforeAll(async () => {
    await receiver.up();
    h = await makeHome();
    setNotify(h, { webhook: { url: receiver.url, secret_env: SECRET_ENV }, console_url: CONSOLE_URL });
    const s = await startSession(h, { job: "probe", env: { [SECRET_ENV]: SECRET } });
    const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 5 } });
    incidents = (list.structuredContent as { incidents: { id: string }[] }).incidents.map((i) => i.id);
    await s.close();
    expect(incidents.length).toBeGreaterThanOrEqual(3);
  });
  afterAll(async () => {
    await receiver.down();
  });

  it("gsmcp serve: one signed approval_required per new approval, redacted, linked; asking again sends nothing", async () => {
    const s = await startSession(h, {
      policy: "containment-with-approvals",
      job: "job-notify",
      env: { [SECRET_ENV]: SECRET },
    });
    try {
      const r = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs(incidents[0]!) });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("approval_required");
      const id = approvalIdOf(r);
      const [hit] = await until("the approval_required POST", () => receiver.of(id).length > 0 && receiver.of(id));
      expectSignedNotice(hit!, id);
      expect(hit!.body.data).toMatchObject({ job: "job-notify" });
      const shown = hit!.body.data.args_redacted as Record<string, string>;
      expect(shown).toMatchObject({ incidentId: incidents[0], classification: "TruePositive" });
      expect(shown.comment).toMatch(/^contained; /);
      expect(shown.comment).not.toContain(PASSWORD);

      // The same call again finds the same pending approval: no new notice, from this process or the spool.
      const again = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs(incidents[0]!) });
      expect(approvalIdOf(again)).toBe(id);
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.of(id)).toHaveLength(1);
      expect(receiver.hits).toHaveLength(1);

      const spool = new WebhookSpool(webhookSpoolDir(h.paths));
      expect(spool.state(`approval_required.${id}`)).toBe("delivered");
      const onDisk = spoolText(spool.dir);
      expect(onDisk).not.toContain(SECRET);
      expect(onDisk).not.toContain("not-for-logs");
      expect(onDisk).not.toContain(PASSWORD);
    } finally {
      await s.close();
    }
  });

  describe("an endpoint that is down or slow (the runtime gsmcp serve opens, in process)", () => {
    let runtime: Runtime;
    const spoolOf = () => new WebhookSpool(webhookSpoolDir(h.paths));

    beforeAll(async () => {
      const { token } = await issueCst(h.home, { policy: policy(), job: "job-notify-down", agent: "agent-1" });
      runtime = await openRuntime({
        home: h.home,
        tokenRef: token,
        policyRef: policy(),
        notify: {
          env: { [SECRET_ENV]: SECRET },
          drainIntervalMs: 100,
          // Short waits so the test sees the retries, the spool and the drain within seconds.
          sender: { backoff: { baseMs: 20, maxMs: 40 }, spoolBackoff: { baseMs: 150, maxMs: 300 } },
        },
      });
      expect(runtime.notifier).toBeDefined();
      // Warm up (backend open, KQL analyzer) so the timed calls measure the gate.
      await runtime.governor.call("sentinel_incidents_get", { incidentId: incidents[1] });
    });
    afterAll(async () => {
      await runtime?.close();
    });

    it("receiver down: the call returns approval_required at once, the notice is spooled, then the drain delivers it", async () => {
      await receiver.down();
      const before = receiver.hits.length;
      const t0 = Date.now();
      const r = await runtime.governor.call("sentinel_incidents_close", closeArgs(incidents[1]!));
      const elapsed = Date.now() - t0;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("approval_required");
      expect(elapsed).toBeLessThan(2_000);
      const id = approvalIdOf(r);
      const delivery = `approval_required.${id}`;
      // Written ahead before the first attempt: on disk by the time the call has returned.
      expect(["inflight", "pending"]).toContain(spoolOf().state(delivery));
      // In-process attempts used up: it waits in the spool.
      await until("the notice to be spooled", () => spoolOf().state(delivery) === "pending");
      const waiting = JSON.parse(readFileSync(join(spoolOf().dir, `${delivery}.json`), "utf8"));
      expect(waiting).toMatchObject({ id: delivery, event: "approval_required", attempts: 3 });
      expect(waiting.last_error).toMatch(/network error/);

      // Asking again while it waits sends nothing new.
      const again = await runtime.governor.call("sentinel_incidents_close", closeArgs(incidents[1]!));
      expect(approvalIdOf(again)).toBe(id);

      await receiver.up();
      const [hit] = await until("the drain to deliver", () => receiver.of(id).length > 0 && receiver.of(id));
      expectSignedNotice(hit!, id);
      const approval = (await runtime.approvals.get(id)) as Approval;
      expect(hit!.body.data.args_redacted).toEqual(approval.args_redacted);
      expect(hit!.body.data).toMatchObject({
        job: "job-notify-down",
        requested_at: approval.requested_at,
        expires_at: approval.expires_at,
      });
      await until("delivered", () => spoolOf().state(delivery) === "delivered");
      await new Promise((r) => setTimeout(r, 400)); // a few more drains
      expect(receiver.hits.length - before).toBe(1);
    });

    it("receiver hanging: the call does not wait for it; the notice goes out when the endpoint answers", async () => {
      receiver.mode = "hang";
      const t0 = Date.now();
      const r = await runtime.governor.call("sentinel_incidents_close", closeArgs(incidents[2]!, "contained"));
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(textOf(r)).toContain("approval_required");
      const id = approvalIdOf(r);
      await until("the POST to arrive", () => receiver.of(id).length > 0);
      expect(spoolOf().state(`approval_required.${id}`)).toBe("inflight");
      receiver.release();
      await runtime.notifier!.settled();
      expect(spoolOf().state(`approval_required.${id}`)).toBe("delivered");
      expect(receiver.of(id)).toHaveLength(1);
      expectSignedNotice(receiver.of(id)[0]!, id);
    });
  });

  it("without notify in config.json, nothing is sent and no notifier is built", async () => {
    const bare = await makeHome();
    const rt = await openRuntime({
      home: bare.home,
      policyRef: bare.policyFile("containment-with-approvals"),
      notify: true,
    });
    try {
      expect(rt.notifier).toBeUndefined();
    } finally {
      await rt.close();
    }
  });
});

describe("a bad notify block in config.json", () => {
  let h: TestHome;
  let env: Record<string, string>;
  beforeAll(async () => {
    h = await makeHome();
    const policy = h.policyFile("containment-with-approvals");
    const { token } = await issueCst(h.home, { policy, job: "j", agent: "a" });
    env = { GSMCP_HOME: h.home, GSMCP_POLICY: policy, GSMCP_CST: token };
  });

  const cases: [string, unknown, Record<string, string>, RegExp[]][] = [
    [
      "http:// to a remote host",
      { webhook: { url: "http://hooks.example.com/x", secret_env: SECRET_ENV }, console_url: CONSOLE_URL },
      { [SECRET_ENV]: SECRET },
      [/config\.json notify\.webhook\.url uses http:\/\/ to hooks\.example\.com: use https:\/\//],
    ],
    [
      "a secret in place of the variable's name, and no console_url",
      { webhook: { url: "https://hooks.example.com/x", secret_env: "s3cr3t-value!" } },
      {},
      [/config\.json notify\.webhook\.secret_env: must be the NAME of an environment variable/],
    ],
    [
      "a webhook without console_url",
      { webhook: { url: "https://hooks.example.com/x", secret_env: SECRET_ENV } },
      { [SECRET_ENV]: SECRET },
      [/config\.json notify\.console_url is missing/],
    ],
    [
      "an unknown field",
      { webhook: { url: "https://hooks.example.com/x", secret_env: SECRET_ENV, retries: 5 }, console_url: CONSOLE_URL },
      { [SECRET_ENV]: SECRET },
      [/config\.json notify\.webhook/, /retries/],
    ],
    [
      "the secret's variable not set",
      { webhook: { url: "https://hooks.example.com/x", secret_env: SECRET_ENV }, console_url: CONSOLE_URL },
      {},
      [
        /config\.json notify\.webhook\.secret_env names the environment variable GSMCP_TEST_WEBHOOK_SECRET, which is not set/,
      ],
    ],
  ];

  for (const [what, notify, extraEnv, patterns] of cases)
    it(`gsmcp serve refuses to start: ${what}`, async () => {
      setNotify(h, notify);
      const r = await runCli(["serve"], { ...env, ...extraEnv });
      expect(r.code, r.out).toBe(2);
      for (const p of patterns) expect(r.stderr).toMatch(p);
      expect(r.stderr).toContain(" — "); // the fix follows the problem
      expect(r.stderr).not.toContain(SECRET);
    });

  it("validateNotifyConfig reports every bad field at once, naming the file", () => {
    let err: unknown;
    try {
      validateNotifyConfig(
        { webhook: { url: "ftp://x", secret_env: "1bad", timeout_ms: 5 }, console_url: "http://approvals.example.com" },
        "/h/config.json",
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotifyConfigError);
    const m = (err as Error).message;
    for (const f of ["url", "secret_env", "timeout_ms"]) expect(m).toContain(`/h/config.json notify.webhook.${f}`);
    expect(m).toContain("/h/config.json notify.console_url");
    expect((err as NotifyConfigError).fix).toContain("docs/notifications.md");
    expect(() => validateNotifyConfig("yes")).toThrow(/config\.json "notify" must be an object/);
    expect(validateNotifyConfig(undefined)).toBeUndefined();
  });
});

describe("stage: approval gate tells the notifier about new pending approvals only", () => {
  const ARGS = { incidentId: "inc-1", severity: "High" };
  const gated: Decision = {
    effect: "ALLOW",
    reasons: [],
    constraints: [],
    approval: approvalRuleView({
      name: "updates",
      required_for: ["incidents.update"],
      mode: "explicit",
      ttl_seconds: 600,
    }),
  };

  it("once when the request is created, not when it is found again, and again for new arguments", async () => {
    const h = await harness();
    const told: Approval[] = [];
    h.deps.notifyApproval = (a) => told.push(a);
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated, h.env);
    expect(!r.ok && r.error.code).toBe("approval_required");
    expect(told.map((a) => a.approval_id)).toEqual([!r.ok && r.approvalId]);
    expect(told[0]).toMatchObject({ decision: "pending", args_hash: jcsHash(ARGS), op: "incidents.update" });
    await approvalGate(h.caller(), "incidents.update", ARGS, gated, h.env);
    expect(told).toHaveLength(1);
    await approvalGate(h.caller(), "incidents.update", { ...ARGS, severity: "Low" }, gated, h.env);
    expect(told).toHaveLength(2);
    // Decided approvals are not announced: approved passes, nothing is told.
    await h.deps.approvals.decide(told[0]!.approval_id, "approved", h.keys.approver, "ok", new Date(h.clock.now));
    const ok = await approvalGate(h.caller(), "incidents.update", ARGS, gated, h.env);
    expect(ok.ok).toBe(true);
    expect(told).toHaveLength(2);
  });

  it("an expired pending request is replaced by a new one, which is announced", async () => {
    const h = await harness();
    const told: string[] = [];
    h.deps.notifyApproval = (a) => told.push(a.approval_id);
    const first = await approvalGate(h.caller(), "incidents.update", ARGS, gated, h.env);
    h.clock.now += 601_000;
    const second = await approvalGate(h.caller(), "incidents.update", ARGS, gated, h.env);
    expect(!second.ok && second.approvalId).not.toBe(!first.ok && first.approvalId);
    expect(told).toEqual([!first.ok && first.approvalId, !second.ok && second.approvalId]);
  });

  it("a notifier that throws does not change the call's outcome", async () => {
    const h = await harness();
    h.deps.notifyApproval = () => {
      throw new Error("webhook exploded");
    };
    const r = await approvalGate(h.caller(), "incidents.update", ARGS, gated, h.env);
    expect(!r.ok && r.error.code).toBe("approval_required");
  });

  it("an interactive rule answered in the client announces nothing; unanswered, the pending request is announced", async () => {
    const h = await harness();
    const told: string[] = [];
    h.deps.notifyApproval = (a) => told.push(a.approval_id);
    const interactive: Decision = {
      ...gated,
      approval: approvalRuleView({ name: "updates", required_for: ["incidents.update"], mode: "interactive" }),
    };
    const yes = await approvalGate(h.caller(), "incidents.update", ARGS, interactive, h.env, async () => ({
      approve: true,
    }));
    expect(yes.ok).toBe(true);
    expect(told).toEqual([]);
    const other = { ...ARGS, severity: "Low" };
    const unanswered = await approvalGate(
      h.caller(),
      "incidents.update",
      other,
      interactive,
      h.env,
      async () => undefined,
    );
    expect(!unanswered.ok && unanswered.error.code).toBe("approval_required");
    expect(told).toEqual([!unanswered.ok && unanswered.approvalId]);
  });
});
