import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type HomeConfig, homePaths, validateNotifyConfig } from "../../src/governance/home.js";
import { parseNotifyConfig } from "../../src/notify/approval-notice.js";
import {
  buildIncidentNotice,
  clip,
  INCIDENT_NOTICE,
  incidentDeliveryId,
  incidentSpoolDir,
  MAX_NOTICE_ALERTS,
  openIncidentNotifier,
} from "../../src/notify/incident-notice.js";
import { NotifyError } from "../../src/notify/webhook.js";
import type { AlertSummary, IncidentSummary } from "../../src/sentinel/backend.js";

const INCIDENT: IncidentSummary = {
  id: "7e1c2f0a-0000-4000-8000-000000000001",
  number: 42,
  title: "AI agent: repeated policy violations",
  description: "job triage-42",
  severity: "High",
  status: "New",
  labels: ["ai-agent"],
  createdTime: "2026-03-01T12:00:00Z",
  lastModifiedTime: "2026-03-01T12:00:00Z",
  alertsCount: 1,
};
const alert = (i: number): AlertSummary => ({
  id: `a${i}`,
  name: `alert ${i}`,
  tactics: ["Execution"],
  severity: "High",
});
const JOB = {
  job: "triage-42",
  agent: "claude",
  status: "paused",
  tree_size: 7,
  root_hash: `sha256:${"a".repeat(64)}`,
};

describe("incident notice payload", () => {
  it("copies the incident and its alerts as data, bounded, and says they are untrusted", () => {
    const n = buildIncidentNotice("srv-1", INCIDENT, [alert(1)], [JOB]);
    expect(n).toMatchObject({
      source: "governed-sentinel-mcp",
      server_id: "srv-1",
      incident: { id: INCIDENT.id, number: 42, title: INCIDENT.title, severity: "High", status: "New", owner: null },
      alerts: [{ id: "a1", name: "alert 1", tactics: ["Execution"], status: null }],
      alerts_total: 1,
      jobs: [JOB],
    });
    expect(n.untrusted).toMatch(/attacker-influenced/);

    const hostile = buildIncidentNotice(
      "srv-1",
      { ...INCIDENT, title: `${"x".repeat(600)}\u0000\u001b[31m`, description: "a\u0007b\nc" },
      Array.from({ length: 30 }, (_, i) => alert(i)),
      [],
    );
    expect(Array.from(hostile.incident.title)).toHaveLength(501);
    expect(hostile.incident.title.endsWith("…")).toBe(true);
    expect(hostile.incident.description).toBe("ab\nc");
    expect(hostile.alerts).toHaveLength(MAX_NOTICE_ALERTS);
    expect(hostile.alerts_total).toBe(30);
    expect(clip("😀😀😀", 2)).toBe("😀😀…");
  });

  it("has a deterministic delivery id that changes with the incident's state", () => {
    const n = buildIncidentNotice("srv-1", INCIDENT, [alert(1)], [JOB]);
    const id = incidentDeliveryId(n);
    expect(id).toMatch(new RegExp(`^${INCIDENT_NOTICE}\\.${INCIDENT.id}\\.[0-9a-f]{16}$`));
    expect(incidentDeliveryId(buildIncidentNotice("srv-1", INCIDENT, [alert(1)], [JOB]))).toBe(id);
    expect(
      incidentDeliveryId(buildIncidentNotice("srv-1", { ...INCIDENT, severity: "Low" }, [alert(1)], [JOB])),
    ).not.toBe(id);
    expect(incidentDeliveryId(buildIncidentNotice("srv-1", INCIDENT, [alert(1)], [{ ...JOB, tree_size: 8 }]))).not.toBe(
      id,
    );
    // An id that cannot name a spool file is left out.
    expect(incidentDeliveryId(buildIncidentNotice("srv-1", { ...INCIDENT, id: "../../x" }, [], []))).toMatch(
      /^incident_notice\.[0-9a-f]{16}$/,
    );
  });
});

describe("notify.incident_webhook configuration", () => {
  const hook = { url: "https://tickets.example.com/api/hook", secret_env: "GSMCP_INCIDENT_WEBHOOK_SECRET" };

  it("is accepted alone (no console_url needed) and checked field by field", () => {
    expect(parseNotifyConfig({ incident_webhook: hook }).incident_webhook).toEqual(hook);
    expect(validateNotifyConfig({ incident_webhook: { ...hook, max_attempts: 5, timeout_ms: 20000 } })).toBeDefined();
    const problems = (raw: unknown) => {
      try {
        parseNotifyConfig(raw);
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    expect(problems({ incident_webhook: { ...hook, url: "http://tickets.example.com/x" } })).toMatch(
      /notify\.incident_webhook\.url uses http:\/\/ to tickets\.example\.com: use https:\/\//,
    );
    expect(problems({ incident_webhook: { ...hook, secret_env: "s3cr3t value!" } })).toMatch(
      /notify\.incident_webhook\.secret_env: must be the NAME of an environment variable/,
    );
    expect(problems({ incident_webhook: { ...hook, reminder_before_seconds: 60 } })).toMatch(/reminder_before_seconds/);
    expect(problems({ incident_webhook: { ...hook, max_attempts: 0 } })).toMatch(
      /notify\.incident_webhook\.max_attempts/,
    );
  });

  it("opens a sender with its own spool, or refuses to (naming its own field) when the secret is missing", () => {
    const root = mkdtempSync(join(tmpdir(), "gsmcp-incident-notifier-"));
    const paths = homePaths(root);
    const config = { notify: { incident_webhook: hook } } as unknown as HomeConfig;
    expect(openIncidentNotifier(paths, { notify: {} } as unknown as HomeConfig)).toBeUndefined();
    expect(() => openIncidentNotifier(paths, config, { env: {} })).toThrow(NotifyError);
    expect(() => openIncidentNotifier(paths, config, { env: {} })).toThrow(
      /notify\.incident_webhook\.secret_env names the environment variable GSMCP_INCIDENT_WEBHOOK_SECRET/,
    );
    expect(() => openIncidentNotifier(paths, config, { env: { GSMCP_INCIDENT_WEBHOOK_SECRET: "short" } })).toThrow(
      /fewer than 16 characters/,
    );
    const n = openIncidentNotifier(paths, config, {
      env: { GSMCP_INCIDENT_WEBHOOK_SECRET: "0123456789abcdef0123" },
      drainIntervalMs: 3_600_000,
    })!;
    try {
      expect(n.sender.spool?.dir).toBe(incidentSpoolDir(paths));
      expect(incidentSpoolDir(paths)).toBe(join(root, "spool", "incident-webhooks"));
      expect(JSON.stringify(n.sender)).not.toContain("0123456789abcdef0123");
    } finally {
      n.close();
    }
  });
});
