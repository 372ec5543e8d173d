import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { type IncidentNotice, incidentSpoolDir } from "../../src/notify/incident-notice.js";
import { checkWebhookSignature, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER } from "../../src/notify/webhook.js";
import { startHttpServer } from "../../src/server/http.js";
import { openRuntime, type Runtime, webhookSpoolDir } from "../../src/server/runtime.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { rawJson } from "../helpers/raw-http.js";

// The notify playbook's step against the real server: POST /admin/incidents/{id}/notify reads the incident from the
// embedded workspace (SDK path) and sends a signed notice through WebhookSender to a loopback receiver that checks
// the signature, answers 503 once (the sender retries) and then 200.

const OPERATOR = "operator-secret-notify-0123456789";
const SECRET_ENV = "GSMCP_INCIDENT_WEBHOOK_SECRET_TEST";
const SECRET = "incident-hook-secret-0123456789abcdef";
const auth = { authorization: `Bearer ${OPERATOR}` };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  signatureOk: boolean;
}

class Receiver {
  readonly received: Received[] = [];
  script: number[] = [];
  private server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const sig = checkWebhookSignature(SECRET, req.headers[SIGNATURE_HEADER] as string, body);
      this.received.push({ headers: req.headers, body, signatureOk: sig.ok });
      res.writeHead(this.script.shift() ?? 200);
      res.end();
    });
  });
  port = 0;
  async start() {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const raw = rawJson;

describe("notify: POST /admin/incidents/{id}/notify → signed incident notice", () => {
  let h: TestHome;
  let runtime: Runtime;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  let receiver: Receiver;
  let base: string;
  let incidentId: string;
  const log: string[] = [];

  beforeAll(async () => {
    h = await makeHome();
    receiver = await new Receiver().start();
    const config = JSON.parse(readFileSync(h.paths.config, "utf8"));
    config.notify = {
      incident_webhook: {
        url: `http://127.0.0.1:${receiver.port}/api/now/table/incident?sig=url-credential`,
        secret_env: SECRET_ENV,
        max_attempts: 3,
        timeout_ms: 2000,
      },
    };
    writeFileSync(h.paths.config, JSON.stringify(config, null, 2), { mode: 0o600 });
    const policy = h.policyFile("triage-readonly");
    runtime = await openRuntime({ home: h.home, policyRef: policy, notify: { env: { [SECRET_ENV]: SECRET } } });
    http = await startHttpServer(runtime, {
      host: "127.0.0.1",
      port: 0,
      adminToken: OPERATOR,
      admin: {
        log: (l) => log.push(l),
        notify: {
          env: { [SECRET_ENV]: SECRET },
          report: (l) => log.push(l),
          sender: { backoff: { baseMs: 10, maxMs: 20 } },
        },
      },
    });
    base = http.url.replace("/mcp", "");
    const token = (await issueCst(h.home, { policy, job: "job-notify", agent: "claude" })).token;
    await runtime.governorFor(token).call("sentinel_incidents_list", { top: 1 });
    incidentId = (await (await runtime.backend()).listIncidents({ top: 1 }))[0]!.id;
  });
  afterAll(async () => {
    await http?.close();
    await runtime?.close();
    await receiver?.stop();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.script = [];
  });

  it("reads the incident through the backend and delivers a signed notice, retrying a 503", async () => {
    receiver.script = [503];
    const r = await raw(`${base}/admin/incidents/${incidentId}/notify`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ jobs: ["job-notify"] }),
    });
    expect(r.status).toBe(200);
    expect(r.json.delivery).toMatchObject({ status: "delivered", attempts: 2 });
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(first!.signatureOk && second!.signatureOk).toBe(true);
    // Same delivery id on the retry; each attempt signed afresh.
    expect(first!.headers[DELIVERY_HEADER]).toBe(second!.headers[DELIVERY_HEADER]);
    expect(second!.headers[EVENT_HEADER]).toBe("incident_notice");
    const body = JSON.parse(second!.body) as { id: string; event: string; data: IncidentNotice };
    expect(body.event).toBe("incident_notice");
    expect(body.id).toBe(second!.headers[DELIVERY_HEADER]);
    expect(body.id).toMatch(new RegExp(`^incident_notice\\.${incidentId}\\.[0-9a-f]{16}$`));
    const incident = await (await runtime.backend()).getIncident(incidentId);
    expect(body.data.incident).toMatchObject({ id: incidentId, title: incident.title, severity: incident.severity });
    expect(body.data.untrusted).toMatch(/attacker-influenced/);
    expect(body.data.jobs).toEqual([
      expect.objectContaining({ job: "job-notify", agent: "claude", status: "active", tree_size: 1 }),
    ]);
    expect(body.data.jobs[0]!.root_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // A tampered body does not verify.
    expect(
      checkWebhookSignature(
        SECRET,
        second!.headers[SIGNATURE_HEADER] as string,
        second!.body.replace("job-notify", "job-other"),
      ).ok,
    ).toBe(false);
    // Its own spool: the approval spool is untouched.
    expect(existsSync(join(incidentSpoolDir(runtime.paths), "delivered", `${body.id}.json`))).toBe(true);
    expect(existsSync(webhookSpoolDir(runtime.paths)) ? readdirSync(webhookSpoolDir(runtime.paths)) : []).toEqual([]);
    // The same incident state again is the same delivery: nothing is sent twice.
    const again = await raw(`${base}/admin/incidents/${incidentId}/notify`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ jobs: ["job-notify"] }),
    });
    expect(again.json.delivery).toMatchObject({ id: body.id, status: "duplicate" });
    expect(receiver.received).toHaveLength(2);
    expect(log.some((l) => l.includes(`incident ${incidentId} notice`))).toBe(true);
  });

  it("spools what the receiver cannot take (202), and reports a rejection (502)", async () => {
    receiver.script = [500, 500, 500];
    const spooled = await raw(`${base}/admin/incidents/${incidentId}/notify`, { method: "POST", headers: auth });
    expect(spooled.status).toBe(202);
    expect(spooled.json.delivery).toMatchObject({ status: "spooled", attempts: 3 });
    expect(receiver.received.every((x) => x.signatureOk)).toBe(true);

    // A changed incident is a new notice; a 400 from the receiver is final.
    const backend = await runtime.backend();
    const inc = await backend.getIncident(incidentId);
    await backend.updateIncident(incidentId, { severity: inc.severity === "High" ? "Low" : "High" });
    receiver.script = [400];
    const rejected = await raw(`${base}/admin/incidents/${incidentId}/notify`, { method: "POST", headers: auth });
    expect(rejected.status).toBe(502);
    expect(rejected.json).toMatchObject({ error: "notify_failed", delivery: { status: "rejected" } });
  });

  it("refuses bad input with the field and the fix, before anything is sent", async () => {
    const cases: [string, Record<string, string>, string | undefined, number, string][] = [
      [
        `/admin/incidents/${incidentId}/notify`,
        { "content-type": "application/json" },
        '{"jobs": "x"}',
        400,
        "body.jobs",
      ],
      [
        `/admin/incidents/${incidentId}/notify`,
        { "content-type": "application/json" },
        '{"jobs": ["ok", "bad job"]}',
        400,
        "body.jobs[1]",
      ],
      [`/admin/incidents/${incidentId}/notify`, { "content-type": "application/json" }, '{"job": []}', 400, "body.job"],
      [`/admin/incidents/${incidentId}/notify`, { "content-type": "text/plain" }, '{"jobs": []}', 400, "content-type"],
      [`/admin/incidents/${incidentId}/notify`, { "content-type": "application/json" }, "{not json", 400, "body"],
      [
        `/admin/incidents/${incidentId}/notify`,
        { "content-type": "application/json" },
        '{"jobs": ["no-such-job"]}',
        404,
        "body.jobs[0]",
      ],
      ["/admin/incidents/00000000-0000-0000-0000-00000000dead/notify", {}, undefined, 404, "incident"],
      ["/admin/incidents/bad%2Fid/notify", {}, undefined, 400, "incident"],
      [`/admin/incidents/${incidentId}/notify?x=1`, {}, undefined, 400, "query.x"],
    ];
    for (const [path, headers, body, status, field] of cases) {
      const r = await raw(`${base}${path}`, {
        method: "POST",
        headers: { ...auth, ...headers },
        ...(body ? { body } : {}),
      });
      expect({ path, body, status: r.status, field: r.json.field }).toEqual({ path, body, status, field });
      expect(typeof r.json.fix).toBe("string");
    }
    const big = await raw(`${base}/admin/incidents/${incidentId}/notify`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ jobs: ["x".repeat(20_000)] }),
    });
    expect({ status: big.status, field: big.json.field }).toEqual({ status: 413, field: "body" });
    expect(receiver.received).toHaveLength(0);
  });
});

describe("notify without an incident webhook", () => {
  it("answers 503 naming the configuration field; a webhook whose secret is missing stops the server from starting", async () => {
    const h = await makeHome();
    const runtime = await openRuntime({ home: h.home, policyRef: h.policyFile("triage-readonly") });
    try {
      const http = await startHttpServer(runtime, {
        host: "127.0.0.1",
        port: 0,
        adminToken: OPERATOR,
        admin: { log: () => {} },
      });
      try {
        const r = await raw(`${http.url.replace("/mcp", "")}/admin/incidents/abc/notify`, {
          method: "POST",
          headers: auth,
        });
        expect(r.status).toBe(503);
        expect(r.json).toMatchObject({ error: "notify_not_configured", field: "notify.incident_webhook" });
      } finally {
        await http.close();
      }
      (runtime.config as { notify?: unknown }).notify = {
        incident_webhook: { url: "https://tickets.example.com/hook", secret_env: SECRET_ENV },
      };
      await expect(
        startHttpServer(runtime, { host: "127.0.0.1", port: 0, adminToken: OPERATOR, admin: { notify: { env: {} } } }),
      ).rejects.toThrow(
        /notify\.incident_webhook\.secret_env names the environment variable GSMCP_INCIDENT_WEBHOOK_SECRET_TEST, which is not set/,
      );
    } finally {
      await runtime.close();
    }
  });
});
