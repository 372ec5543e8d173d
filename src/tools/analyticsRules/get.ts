import { z } from "zod";
import { analyticsRule, ruleId } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "analyticsRules.get",
  title: "Get analytics rule",
  description: "Get one scheduled analytics rule by id.",
  input: z.strictObject({ ruleId }),
  output: z.object({ rule: analyticsRule }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/alertRules/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(args, ctx) {
    return { rule: await ctx.backend.getAnalyticsRule(args.ruleId) };
  },
});
