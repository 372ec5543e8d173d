import { z } from "zod";
import { automationRule, DESTRUCTIVE_EFFECTS, ruleId } from "../shared.js";
import { defineTool, priorOf } from "../types.js";

export default defineTool({
  op: "automationRules.disable",
  title: "Disable automation rule",
  description: "Disable an automation rule. Admin-level: response automation stops until re-enabled.",
  input: z.strictObject({ ruleId, reason: z.string().min(1).max(2000) }),
  output: z.object({ rule: automationRule }),
  effects: DESTRUCTIVE_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Responder",
    actions: ["Microsoft.SecurityInsights/automationRules/read", "Microsoft.SecurityInsights/automationRules/write"],
  },
  approvalDefault: "required",
  rollback: { posture: "revert", description: "Re-enable the automation rule with its captured configuration." },
  capture: (args, ctx) => ctx.backend.getAutomationRule(args.ruleId),
  async run(_args, ctx) {
    const prior = priorOf(ctx);
    return { rule: await ctx.backend.putAutomationRule({ ...prior, enabled: false }, prior.etag) };
  },
  async revert(_args, prior, ctx) {
    return { rule: await ctx.backend.putAutomationRule(prior) };
  },
});
