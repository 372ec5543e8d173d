import { z } from "zod";
import { DESTRUCTIVE_EFFECTS, incidentId, incidentSummary, severity, workspace } from "../shared.js";
import { defineTool, priorOf } from "../types.js";

export default defineTool({
  op: "incidents.update",
  title: "Update incident",
  description:
    "Change a Microsoft Sentinel incident's status (New/Active), severity, owner or labels. To close, use sentinel_incidents_close.",
  input: z
    .strictObject({
      incidentId,
      status: z.enum(["New", "Active"]).optional(),
      severity: severity.optional(),
      owner: z.string().email().max(200).nullable().optional().describe("Owner UPN; null to unassign."),
      labels: z.array(z.string().min(1).max(100)).max(20).optional().describe("Replaces the incident's labels."),
      workspace,
    })
    .refine(
      (a) => a.status !== undefined || a.severity !== undefined || a.owner !== undefined || a.labels !== undefined,
      {
        message: "give at least one of status, severity, owner, labels",
      },
    ),
  output: z.object({ incident: incidentSummary }),
  effects: DESTRUCTIVE_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Responder",
    actions: ["Microsoft.SecurityInsights/incidents/read", "Microsoft.SecurityInsights/incidents/write"],
  },
  approvalDefault: "required",
  rollback: {
    posture: "revert",
    description: "Restore the prior status, severity, owner and labels captured before the write.",
  },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  capture: (args, ctx) => ctx.backend.getIncident(args.incidentId),
  async run(args, ctx) {
    const before = priorOf(ctx);
    const incident = await ctx.backend.updateIncident(
      args.incidentId,
      {
        ...(args.status ? { status: args.status } : {}),
        ...(args.severity ? { severity: args.severity } : {}),
        ...(args.owner !== undefined ? { owner: args.owner } : {}),
        ...(args.labels ? { labels: args.labels } : {}),
      },
      before.etag,
    );
    return { incident };
  },
  async revert(args, prior, ctx) {
    const p = prior;
    const incident = await ctx.backend.updateIncident(args.incidentId, {
      status: p.status as "New" | "Active" | "Closed",
      severity: p.severity as "High",
      owner: p.owner ?? null,
      labels: p.labels,
      ...(p.classification ? { classification: p.classification } : {}),
    });
    return { incident };
  },
});
