import { z } from "zod";
import { automationRule } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "automationRules.list",
  title: "List automation rules",
  description: "List the workspace's automation rules (what runs automatically when incidents are created or updated).",
  input: z.strictObject({}),
  output: z.object({ rules: z.array(automationRule), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/automationRules/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(_args, ctx) {
    const all = await ctx.backend.listAutomationRules();
    const cap = ctx.maxRows ?? all.length;
    return { rules: all.slice(0, cap), truncated: all.length > cap };
  },
});
