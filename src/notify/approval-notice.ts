import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { assertDeliveryId } from "./spool.js";
import {
  type DeliverOptions,
  type DeliveryResult,
  NotifyError,
  type WebhookConfig,
  webhookUrlProblem,
} from "./webhook.js";

// Approval notifications: when a governed write needs a human decision (`approval_required`), approvers get a webhook
// with a link to the approval in the approver console, and one `approval_reminder` shortly before it expires.

export const APPROVAL_REQUIRED = "approval_required";
export const APPROVAL_REMINDER = "approval_reminder";

// ---------------------------------------------------------------------------------------------------------------------
// Configuration

export interface NotifyConfig {
  webhook?: WebhookConfig;
  /** Base URL of the approver console: links are `${console_url}/approvals/${approval_id}`. */
  console_url?: string;
  /**
   * Where POST /admin/incidents/{id}/notify sends incident notices (ServiceNow/Jira-style): its own URL and secret,
   * and its own spool (src/notify/incident-notice.ts). Without it that endpoint answers 503.
   */
  incident_webhook?: Omit<WebhookConfig, "reminder_before_seconds">;
}

const urlField = (field: string) =>
  z.string().superRefine((v, ctx) => {
    const problem = webhookUrlProblem(v, field);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const WebhookConfigSchema = z
  .object({
    url: urlField("notify.webhook.url"),
    secret_env: z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]*$/,
        "must be the NAME of an environment variable (e.g. GSMCP_WEBHOOK_SECRET) that holds the secret, not the secret itself",
      ),
    timeout_ms: z.number().int().min(100).max(120_000).optional(),
    max_attempts: z.number().int().min(1).max(20).optional(),
    reminder_before_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional(),
  })
  .strict();

export const NotifyConfigSchema = z
  .object({
    webhook: WebhookConfigSchema.optional(),
    console_url: urlField("notify.console_url").optional(),
    incident_webhook: WebhookConfigSchema.omit({ reminder_before_seconds: true })
      .extend({ url: urlField("notify.incident_webhook.url") })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Validates a `notify` configuration block; a NotifyError lists every bad field with what to do. `console_url` is
 * required when a webhook is configured (the notice's link needs it).
 */
export function parseNotifyConfig(raw: unknown): NotifyConfig {
  const r = NotifyConfigSchema.safeParse(raw ?? {});
  const problems: string[] = [];
  if (!r.success) {
    for (const i of r.error.issues) {
      const field = ["notify", ...i.path.map(String)].join(".");
      // URL problems already name their field.
      problems.push(i.message.startsWith(`${field} `) ? i.message : `${field}: ${i.message}`);
    }
  } else if (r.data.webhook && !r.data.console_url) {
    problems.push(
      "notify.console_url is missing: set it to the approver console's base URL (approval links are <console_url>/approvals/<id>)",
    );
  }
  if (problems.length)
    throw new NotifyError(
      "notify_config_invalid",
      `invalid notify configuration: ${problems.join("; ")}`,
      "fix the fields named above in the notify block of the configuration",
    );
  return r.data as NotifyConfig;
}

// ---------------------------------------------------------------------------------------------------------------------
// The payload

/** What the notice needs from an approval (a subset of src/types/approval.ts's Approval). */
export interface ApprovalLike {
  approval_id: string;
  job: string;
  agent?: string;
  op: string;
  rule: string;
  requested_at: string;
  expires_at: string;
  args_redacted?: Record<string, unknown>;
  /** When present, only "pending" approvals get reminders. */
  decision?: "pending" | "approved" | "denied";
}

export interface ApprovalNotice {
  approval_id: string;
  job: string;
  agent: string | null;
  op: string;
  rule: string;
  requested_at: string;
  expires_at: string;
  args_redacted: Record<string, unknown>;
  /** `${consoleUrl}/approvals/${approval_id}` */
  link: string;
}

export function approvalLink(consoleUrl: string, approvalId: string): string {
  return `${consoleUrl.replace(/\/+$/, "")}/approvals/${encodeURIComponent(approvalId)}`;
}

/** The approval_required / approval_reminder payload. Arguments are the redacted ones only. */
export function buildApprovalNotice(a: ApprovalLike, consoleUrl: string): ApprovalNotice {
  return {
    approval_id: a.approval_id,
    job: a.job,
    agent: a.agent ?? null,
    op: a.op,
    rule: a.rule,
    requested_at: a.requested_at,
    expires_at: a.expires_at,
    args_redacted: a.args_redacted ?? {},
    link: approvalLink(consoleUrl, a.approval_id),
  };
}

/** The delivery id of an approval's notice: deterministic, so sending it twice delivers it once. */
export const noticeDeliveryId = (event: string, approvalId: string): string => `${event}.${approvalId}`;

/** Compatible with `WebhookSender.prototype.deliver`. */
export type NoticeSend = (
  event: string,
  payload: ApprovalNotice,
  o: DeliverOptions,
) => Promise<DeliveryResult | unknown>;

/** Sends approval_required for one approval (deduplicated by approval id; dropped from the spool once expired). */
export function notifyApprovalRequired(send: NoticeSend, a: ApprovalLike, consoleUrl: string): Promise<unknown> {
  return send(APPROVAL_REQUIRED, buildApprovalNotice(a, consoleUrl), {
    id: noticeDeliveryId(APPROVAL_REQUIRED, a.approval_id),
    expiresAt: a.expires_at,
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Reminders

export interface ReminderOptions {
  /** Remind when an approval is at most this many seconds from expiry. */
  beforeSeconds: number;
  consoleUrl: string;
  /**
   * Where "already reminded" is recorded, one marker file per approval, so a restart does not remind again (e.g.
   * `<spool dir>/reminders`). Without it the record is in memory only.
   */
  stateDir?: string;
  /** Clock, ms since the epoch. */
  now?: () => number;
  /** Check every `intervalMs` (the timer does not keep the process alive). Without it, call `tick()` yourself. */
  intervalMs?: number;
  onError?: (e: unknown) => void;
}

export interface ReminderScheduler {
  /** One pass: sends the reminders that are due. Resolves to the approval ids reminded. */
  tick(): Promise<string[]>;
  stop(): void;
}

interface ReminderMarker {
  approval_id: string;
  expires_at: string;
  reminded_at: string;
}

/**
 * Sends one approval_reminder per pending approval once it is within `beforeSeconds` of expiry. Not for decided or
 * expired approvals, nor for an approval whose whole lifetime is within the window (its approval_required notice was
 * already sent inside it). Each approval is reminded once, across restarts when `stateDir` is given.
 */
export function scheduleReminders(
  listPending: () => Promise<ApprovalLike[]>,
  send: NoticeSend,
  o: ReminderOptions,
): ReminderScheduler {
  const now = o.now ?? Date.now;
  const windowMs = o.beforeSeconds * 1000;
  const reminded = new Set<string>();
  const stateDir = o.stateDir;
  if (stateDir && !existsSync(stateDir)) mkdirSync(stateDir, { recursive: true, mode: 0o700 });

  const markerPath = (id: string) => {
    assertDeliveryId(id);
    return join(stateDir!, `${id}.json`);
  };
  const wasReminded = (id: string) => reminded.has(id) || (stateDir !== undefined && existsSync(markerPath(id)));
  const record = (a: ApprovalLike, at: number) => {
    reminded.add(a.approval_id);
    if (!stateDir) return;
    const m: ReminderMarker = {
      approval_id: a.approval_id,
      expires_at: a.expires_at,
      reminded_at: new Date(at).toISOString(),
    };
    const p = markerPath(a.approval_id);
    const tmp = `${p}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(m), { mode: 0o600 });
    renameSync(tmp, p);
  };
  /** Markers of approvals long expired are no longer needed. */
  const prune = (t: number) => {
    if (!stateDir) return;
    for (const f of readdirSync(stateDir)) {
      if (!f.endsWith(".json")) continue;
      try {
        const m = JSON.parse(readFileSync(join(stateDir, f), "utf8")) as ReminderMarker;
        if (Date.parse(m.expires_at) + 24 * 3600_000 < t) {
          unlinkSync(join(stateDir, f));
          reminded.delete(m.approval_id);
        }
      } catch {
        // unreadable marker: leave it (it only suppresses a reminder)
      }
    }
  };

  let running: Promise<string[]> | undefined;
  const tickOnce = async (): Promise<string[]> => {
    const t = now();
    prune(t);
    const sent: string[] = [];
    for (const a of await listPending()) {
      if (a.decision !== undefined && a.decision !== "pending") continue;
      const expires = Date.parse(a.expires_at);
      if (!(expires > t) || expires - t > windowMs) continue;
      if (expires - Date.parse(a.requested_at) <= windowMs) continue;
      if (wasReminded(a.approval_id)) continue;
      await send(APPROVAL_REMINDER, buildApprovalNotice(a, o.consoleUrl), {
        id: noticeDeliveryId(APPROVAL_REMINDER, a.approval_id),
        expiresAt: a.expires_at,
      });
      record(a, t);
      sent.push(a.approval_id);
    }
    return sent;
  };
  const tick = () => {
    if (!running)
      running = tickOnce().finally(() => {
        running = undefined;
      });
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  if (o.intervalMs && o.intervalMs > 0) {
    timer = setInterval(() => {
      tick().catch((e) => o.onError?.(e));
    }, o.intervalMs);
    timer.unref();
  }
  return {
    tick,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
