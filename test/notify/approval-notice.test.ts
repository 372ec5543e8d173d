import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  APPROVAL_REMINDER,
  APPROVAL_REQUIRED,
  type ApprovalLike,
  buildApprovalNotice,
  type NoticeSend,
  notifyApprovalRequired,
  parseNotifyConfig,
  scheduleReminders,
} from "../../src/notify/approval-notice.js";
import { WebhookSpool } from "../../src/notify/spool.js";
import { verifyWebhookSignature, WebhookSender } from "../../src/notify/webhook.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const CONSOLE = "https://approvals.contoso.net/console/";

const approval = (id: string, o: Partial<ApprovalLike> = {}): ApprovalLike => ({
  approval_id: id,
  job: "triage-42",
  agent: "claude",
  op: "incidents.close",
  rule: "close-needs-approval",
  requested_at: iso(T0),
  expires_at: iso(T0 + 3_600_000),
  args_redacted: { incident: "INC-7", comment: "[REDACTED]" },
  decision: "pending",
  ...o,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gsmcp-approval-notice-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("approval notice", () => {
  it("has the documented shape, redacted arguments only, and a link to the approval in the console", () => {
    const { decision: _, ...input } = approval("apr_0123abcd");
    expect(buildApprovalNotice({ ...input, args_redacted: { incident: "INC-7" } }, CONSOLE)).toEqual({
      approval_id: "apr_0123abcd",
      job: "triage-42",
      agent: "claude",
      op: "incidents.close",
      rule: "close-needs-approval",
      requested_at: iso(T0),
      expires_at: iso(T0 + 3_600_000),
      args_redacted: { incident: "INC-7" },
      link: "https://approvals.contoso.net/console/approvals/apr_0123abcd",
    });
  });

  it("agent and args_redacted may be absent: null and {}", () => {
    const { agent: _a, args_redacted: _r, ...minimal } = approval("apr_x");
    const n = buildApprovalNotice(minimal, "https://c.example");
    expect(n.agent).toBeNull();
    expect(n.args_redacted).toEqual({});
    expect(n.link).toBe("https://c.example/approvals/apr_x");
  });

  it("approval_required goes out once per approval (deterministic delivery id), signed, through a real sender", async () => {
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const secret = "approval-secret-0123456789";
      const sender = new WebhookSender({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        secret,
        spool: new WebhookSpool(dir),
        now: () => T0,
      });
      const send: NoticeSend = (e, p, o) => sender.deliver(e, p, o);
      const a = approval("apr_1");
      expect(await notifyApprovalRequired(send, a, CONSOLE)).toMatchObject({
        status: "delivered",
        id: "approval_required.apr_1",
      });
      expect(await notifyApprovalRequired(send, a, CONSOLE)).toMatchObject({ status: "duplicate" });
      expect(received).toHaveLength(1);
      const env = JSON.parse(received[0]!.body);
      expect(env.event).toBe(APPROVAL_REQUIRED);
      expect(env.data).toEqual(buildApprovalNotice(a, CONSOLE));
      expect(
        verifyWebhookSignature(secret, received[0]!.headers["x-gsmcp-signature"] as string, received[0]!.body, T0),
      ).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("reminders", () => {
  function recorder() {
    const sent: { event: string; id: string; approval: string; expiresAt: unknown }[] = [];
    const send: NoticeSend = async (event, payload, o) => {
      sent.push({ event, id: o.id!, approval: payload.approval_id, expiresAt: o.expiresAt });
      return { status: "delivered" };
    };
    return { sent, send };
  }

  it("sends one approval_reminder when a pending approval enters the window, and only once", async () => {
    let clock = T0;
    const pending = [approval("apr_a")];
    const { sent, send } = recorder();
    const s = scheduleReminders(async () => pending, send, {
      beforeSeconds: 600,
      consoleUrl: CONSOLE,
      now: () => clock,
    });
    expect(await s.tick()).toEqual([]); // 60 min before expiry: too early
    clock = T0 + 49 * 60_000; // 11 min before
    expect(await s.tick()).toEqual([]);
    clock = T0 + 50 * 60_000; // exactly 10 min before
    expect(await s.tick()).toEqual(["apr_a"]);
    clock = T0 + 55 * 60_000;
    expect(await s.tick()).toEqual([]);
    expect(sent).toEqual([
      { event: APPROVAL_REMINDER, id: "approval_reminder.apr_a", approval: "apr_a", expiresAt: iso(T0 + 3_600_000) },
    ]);
    s.stop();
  });

  it("does not remind decided, expired or out-of-window approvals, nor one whose whole life is in the window", async () => {
    const clock = T0 + 55 * 60_000; // 5 min before the default expiry
    const list = [
      approval("apr_approved", { decision: "approved" }),
      approval("apr_denied", { decision: "denied" }),
      approval("apr_expired", { expires_at: iso(clock - 1) }),
      approval("apr_expiring_now", { expires_at: iso(clock) }),
      approval("apr_far", { expires_at: iso(clock + 3_600_000) }),
      approval("apr_short", { requested_at: iso(clock - 60_000), expires_at: iso(clock + 4 * 60_000) }),
      approval("apr_due"),
    ];
    const { sent, send } = recorder();
    const s = scheduleReminders(async () => list, send, { beforeSeconds: 600, consoleUrl: CONSOLE, now: () => clock });
    expect(await s.tick()).toEqual(["apr_due"]);
    expect(sent.map((x) => x.approval)).toEqual(["apr_due"]);
  });

  it("remembers across a restart through marker files in stateDir (0600)", async () => {
    const clock = T0 + 55 * 60_000;
    const stateDir = join(dir, "reminders");
    const list = async () => [approval("apr_r")];
    const first = recorder();
    await scheduleReminders(list, first.send, {
      beforeSeconds: 600,
      consoleUrl: CONSOLE,
      now: () => clock,
      stateDir,
    }).tick();
    expect(first.sent).toHaveLength(1);
    const [marker] = readdirSync(stateDir);
    expect(marker).toBe("apr_r.json");
    expect(statSync(join(stateDir, marker!)).mode & 0o777).toBe(0o600);

    const second = recorder(); // a new process: nothing in memory
    await scheduleReminders(list, second.send, {
      beforeSeconds: 600,
      consoleUrl: CONSOLE,
      now: () => clock,
      stateDir,
    }).tick();
    expect(second.sent).toEqual([]);

    // Markers of long-expired approvals are pruned.
    await scheduleReminders(async () => [], second.send, {
      beforeSeconds: 600,
      consoleUrl: CONSOLE,
      now: () => T0 + 3 * 24 * 3_600_000,
      stateDir,
    }).tick();
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it("a send that throws is not recorded: the reminder is tried again at the next tick", async () => {
    const clock = T0 + 55 * 60_000;
    let fail = true;
    const calls: string[] = [];
    const send: NoticeSend = async (_e, p) => {
      calls.push(p.approval_id);
      if (fail) throw new Error("boom");
      return {};
    };
    const s = scheduleReminders(async () => [approval("apr_t")], send, {
      beforeSeconds: 600,
      consoleUrl: CONSOLE,
      now: () => clock,
    });
    await expect(s.tick()).rejects.toThrow("boom");
    fail = false;
    expect(await s.tick()).toEqual(["apr_t"]);
    expect(await s.tick()).toEqual([]);
    expect(calls).toEqual(["apr_t", "apr_t"]);
  });
});

describe("notify configuration", () => {
  it("accepts a complete block", () => {
    const c = {
      webhook: {
        url: "https://prod-12.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke",
        secret_env: "GSMCP_WEBHOOK_SECRET",
        timeout_ms: 5000,
        max_attempts: 4,
        reminder_before_seconds: 900,
      },
      console_url: "https://approvals.contoso.net",
    };
    expect(parseNotifyConfig(c)).toEqual(c);
    expect(parseNotifyConfig(undefined)).toEqual({});
  });

  it("names every bad field and the fix", () => {
    let err: Error | undefined;
    try {
      parseNotifyConfig({
        webhook: { url: "http://hooks.example.com/x", secret_env: "s3cr3t-value-pasted-here", max_attempts: 0 },
        console_url: "ftp://c",
        extra: true,
      });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe("NotifyError");
    const m = err!.message;
    expect(m).toContain("notify.webhook.url uses http:// to hooks.example.com: use https://");
    expect(m).toContain("notify.webhook.secret_env: must be the NAME of an environment variable");
    expect(m).toContain("notify.webhook.max_attempts");
    expect(m).toContain("notify.console_url has scheme ftp:");
    expect(m).toMatch(/extra/);
  });

  it("requires console_url when a webhook is configured", () => {
    expect(() => parseNotifyConfig({ webhook: { url: "https://h.example/x", secret_env: "S" } })).toThrow(
      /notify\.console_url is missing/,
    );
  });
});
