import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { createArguments, templateId, templateSummary, toCreateArguments } from "./template.js";

export default defineTool({
  op: "alertRuleTemplates.get",
  title: "Get alert rule template",
  description:
    "Get one analytics rule template with its KQL query. createArguments holds exactly the arguments sentinel_analyticsRules_create takes, so the template can be proposed as a rule (the create is still policy- and approval-gated).",
  input: z.strictObject({ templateId }),
  output: z.object({
    note: untrustedNote,
    template: templateSummary,
    createArguments: createArguments.optional(),
    createArgumentsProblem: z.string().optional(),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/alertRuleTemplates/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(args, ctx) {
    const template = await ctx.backend.getAlertRuleTemplate(args.templateId);
    const c = toCreateArguments(template);
    return {
      note: UNTRUSTED_NOTE,
      template,
      ...(c.ok ? { createArguments: c.args } : { createArgumentsProblem: c.problem }),
    };
  },
});
