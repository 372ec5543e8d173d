import { z } from "zod";
import { automationRule, ruleId } from "../shared.js";
import { defineTool, priorOf } from "../types.js";

export default defineTool({
  op: "automationRules.update",
  title: "Update automation rule",
  description: "Rename or reorder an automation rule. Admin-level: automation acts on every matching incident.",
  input: z
    .strictObject({
      ruleId,
      displayName: z.string().min(1).max(256).optional(),
      order: z.number().int().min(1).max(1000).optional(),
    })
    .refine((a) => a.displayName !== undefined || a.order !== undefined, { message: "give displayName or order" }),
  output: z.object({ rule: automationRule }),
  effects: { readOnly: false, destructive: true, idempotent: true, openWorld: true },
  rbac: {
    role: "Microsoft Sentinel Responder",
    actions: ["Microsoft.SecurityInsights/automationRules/read", "Microsoft.SecurityInsights/automationRules/write"],
  },
  approvalDefault: "required",
  rollback: { posture: "disable-restore", description: "Restore the configuration captured before the write." },
  capture: (args, ctx) => ctx.backend.getAutomationRule(args.ruleId),
  async run(args, ctx) {
    const prior = priorOf(ctx);
    return {
      rule: await ctx.backend.putAutomationRule(
        {
          ...prior,
          ...(args.displayName ? { displayName: args.displayName } : {}),
          ...(args.order ? { order: args.order } : {}),
        },
        prior.etag,
      ),
    };
  },
  async revert(_args, prior, ctx) {
    return { rule: await ctx.backend.putAutomationRule(prior) };
  },
});
