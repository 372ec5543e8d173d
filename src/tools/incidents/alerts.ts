import { z } from "zod";
import { alertSummary, incidentId, UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "incidents.alerts",
  title: "List an incident's alerts",
  description: "List the security alerts grouped into one Microsoft Sentinel incident.",
  input: z.strictObject({ incidentId, workspace }),
  output: z.object({ note: untrustedNote, alerts: z.array(alertSummary), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Responder", actions: ["Microsoft.SecurityInsights/incidents/alerts/action"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    const all = await ctx.backend.incidentAlerts(args.incidentId);
    const cap = ctx.maxRows ?? all.length;
    return { note: UNTRUSTED_NOTE, alerts: all.slice(0, cap), truncated: all.length > cap };
  },
});
