import { z } from "zod";
import { incidentSummary, listFacts, rowCap, severity, UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "incidents.list",
  title: "List incidents",
  description: "List Microsoft Sentinel incidents, newest first, optionally filtered by status and severity.",
  input: z.strictObject({
    top: z.number().int().min(1).max(1000).optional().describe("Maximum incidents to return (capped by policy)."),
    status: z.enum(["New", "Active", "Closed"]).optional(),
    severity: severity.optional(),
    workspace,
  }),
  output: z.object({ note: untrustedNote, incidents: z.array(incidentSummary), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/incidents/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: listFacts,
  async run(args, ctx) {
    const cap = rowCap(args.top, ctx.maxRows);
    const incidents = await ctx.backend.listIncidents({
      top: cap,
      ...(args.status ? { status: args.status } : {}),
      ...(args.severity ? { severity: args.severity } : {}),
    });
    return { note: UNTRUSTED_NOTE, incidents, truncated: args.top !== undefined && args.top > cap };
  },
});
