import { z } from "zod";
import { isoDurationMs } from "../../governance/decide.js";
import {
  alertSummary,
  isoDuration,
  listFacts,
  rowCap,
  severity,
  UNTRUSTED_NOTE,
  untrustedNote,
  workspace,
} from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "alerts.list",
  title: "List alerts",
  description: "List recent Microsoft Sentinel security alerts (SecurityAlert table), newest first.",
  input: z.strictObject({
    top: z.number().int().min(1).max(1000).optional().describe("Maximum alerts to return (capped by policy)."),
    severity: severity.optional(),
    since: isoDuration.optional().describe("How far back to look (ISO 8601 duration); default P1D."),
    workspace,
  }),
  output: z.object({ note: untrustedNote, alerts: z.array(alertSummary), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Reader",
    actions: [
      "Microsoft.OperationalInsights/workspaces/query/read",
      "Microsoft.OperationalInsights/workspaces/query/SecurityAlert/read",
    ],
  },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: listFacts,
  async run(args, ctx) {
    const cap = rowCap(args.top, ctx.maxRows);
    const since = args.since ?? "P1D";
    // Arguments are schema-validated enums and integers, so the composed query has no injection surface.
    const query = [
      "SecurityAlert",
      args.severity ? `| where AlertSeverity == "${args.severity}"` : "",
      "| sort by TimeGenerated desc",
      `| take ${cap}`,
      "| project SystemAlertId, AlertName, Description, AlertSeverity, Status, TimeGenerated, Tactics, ProductName",
    ]
      .filter(Boolean)
      .join("\n");
    const spanMs = isoDurationMs(since);
    const table = await ctx.backend.queryLogs(query, spanMs <= isoDurationMs("P90D") ? since : "P90D");
    const alerts = table.rows.map((r) => {
      const [id, name, description, sev, status, time, tactics, product] = r as (string | null)[];
      return {
        id: id ?? "",
        name: name ?? "",
        ...(description ? { description } : {}),
        ...(sev ? { severity: sev } : {}),
        ...(status ? { status } : {}),
        ...(time ? { time } : {}),
        tactics: tactics
          ? tactics
              .split(",")
              .map((t) => t.trim())
              .filter(Boolean)
          : [],
        ...(product ? { product } : {}),
      };
    });
    return { note: UNTRUSTED_NOTE, alerts, truncated: args.top !== undefined && args.top > cap };
  },
});
