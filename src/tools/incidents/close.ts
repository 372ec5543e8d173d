import { z } from "zod";
import { incidentId, incidentSummary, workspace } from "../shared.js";
import { defineTool, priorOf } from "../types.js";

export default defineTool({
  op: "incidents.close",
  title: "Close incident",
  description:
    "Close a Microsoft Sentinel incident with a classification and a closing comment. A write: requires the policy to allow it and, by default, a human approval bound to these exact arguments.",
  input: z.strictObject({
    incidentId,
    classification: z.enum(["TruePositive", "FalsePositive", "BenignPositive", "Undetermined"]),
    classificationReason: z
      .enum(["SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"])
      .optional(),
    comment: z.string().min(1).max(4000).describe("Why the incident is closed; stored as the classification comment."),
    workspace,
  }),
  output: z.object({
    incident: incidentSummary,
    previous: z.object({ status: z.string(), classification: z.string().optional() }),
  }),
  effects: { readOnly: false, destructive: true, idempotent: true, openWorld: true },
  rbac: {
    role: "Microsoft Sentinel Responder",
    actions: ["Microsoft.SecurityInsights/incidents/read", "Microsoft.SecurityInsights/incidents/write"],
  },
  approvalDefault: "required",
  rollback: {
    posture: "revert",
    description: "Reopen with the prior status, classification and owner captured before the write.",
  },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  capture: (args, ctx) => ctx.backend.getIncident(args.incidentId),
  async run(args, ctx) {
    const before = priorOf(ctx);
    const incident = await ctx.backend.updateIncident(
      args.incidentId,
      {
        status: "Closed",
        classification: args.classification,
        ...(args.classificationReason ? { classificationReason: args.classificationReason } : {}),
        classificationComment: args.comment,
      },
      before.etag,
    );
    return {
      incident,
      previous: { status: before.status, ...(before.classification ? { classification: before.classification } : {}) },
    };
  },
  async revert(args, prior, ctx) {
    const p = prior;
    const incident = await ctx.backend.updateIncident(args.incidentId, {
      status: p.status as "New" | "Active" | "Closed",
      classification: p.classification ?? "",
      classificationReason: "",
      classificationComment: "",
      owner: p.owner ?? null,
      labels: p.labels,
    });
    return { incident };
  },
});
