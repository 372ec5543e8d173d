import { z } from "zod";
import { analyticsRule } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "analyticsRules.list",
  title: "List analytics rules",
  description: "List the workspace's scheduled analytics rules (detections): name, enabled, severity, query, schedule.",
  input: z.strictObject({}),
  output: z.object({ rules: z.array(analyticsRule), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/alertRules/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(_args, ctx) {
    const all = await ctx.backend.listAnalyticsRules();
    const cap = ctx.maxRows ?? all.length;
    return { rules: all.slice(0, cap), truncated: all.length > cap };
  },
});
