import { z } from "zod";
import { analyticsRule, DESTRUCTIVE_EFFECTS, ruleId } from "../shared.js";
import { defineTool, priorOf } from "../types.js";

export default defineTool({
  op: "analyticsRules.disable",
  title: "Disable analytics rule",
  description: "Disable a scheduled analytics rule. Detections stop until it is re-enabled — a high-impact write.",
  input: z.strictObject({ ruleId, reason: z.string().min(1).max(2000) }),
  output: z.object({ rule: analyticsRule }),
  effects: DESTRUCTIVE_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Contributor",
    actions: ["Microsoft.SecurityInsights/alertRules/read", "Microsoft.SecurityInsights/alertRules/write"],
  },
  approvalDefault: "required",
  rollback: { posture: "revert", description: "Re-enable the rule with its captured configuration." },
  capture: (args, ctx) => ctx.backend.getAnalyticsRule(args.ruleId),
  async run(_args, ctx) {
    const prior = priorOf(ctx);
    return { rule: await ctx.backend.putAnalyticsRule({ ...prior, enabled: false }, prior.etag) };
  },
  async revert(_args, prior, ctx) {
    const { etag: _e, ...rule } = prior;
    return { rule: await ctx.backend.putAnalyticsRule(rule) };
  },
});
