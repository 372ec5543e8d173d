import { join } from "node:path";
import { ApprovalStore } from "../governance/approvals.js";
import type { HomeConfig, HomePaths } from "../governance/home.js";
import { scheduleReminders } from "../notify/approval-notice.js";
import { WebhookSpool } from "../notify/spool.js";
import { startSpoolDrain, webhookSenderFromConfig } from "../notify/webhook.js";
import type { StateStore } from "../state/contract.js";

export const REMINDER_INTERVAL_MS = 30_000;

/**
 * The console's part of notifications: an approval_reminder before a pending approval expires (config.json
 * notify.webhook.reminder_before_seconds; none when unset), and draining the shared webhook spool, since the console
 * runs as long as approvers work. Returns a stop function, or undefined when nothing is configured.
 */
export function startReminders(o: {
  paths: HomePaths;
  config: HomeConfig;
  state: StateStore;
  consoleUrl: string;
  intervalMs?: number;
  env?: NodeJS.ProcessEnv;
}): (() => void) | undefined {
  const webhook = o.config.notify?.webhook;
  if (!webhook) return undefined;
  const sender = webhookSenderFromConfig(webhook, {
    ...(o.env ? { env: o.env } : {}),
    spool: new WebhookSpool(join(o.paths.root, "spool", "webhooks")),
  });
  const onError = (e: unknown) => process.stderr.write(`gsmcp console: notification: ${(e as Error).message ?? e}\n`);
  const stopDrain = startSpoolDrain(sender, { onError });
  const before = webhook.reminder_before_seconds;
  if (before === undefined || before === 0) return stopDrain;
  const reminders = scheduleReminders(
    () => new ApprovalStore(o.state.approvals).list({ status: "pending" }),
    (event, payload, opts) => sender.deliver(event, payload, opts),
    {
      beforeSeconds: before,
      consoleUrl: o.config.notify?.console_url ?? o.consoleUrl,
      stateDir: join(o.paths.root, "spool", "reminders"),
      intervalMs: o.intervalMs ?? REMINDER_INTERVAL_MS,
      onError,
    },
  );
  void reminders.tick().catch(onError);
  return () => {
    reminders.stop();
    stopDrain();
  };
}
