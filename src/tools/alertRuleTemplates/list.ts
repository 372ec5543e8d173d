import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { templateSummary } from "./template.js";

export default defineTool({
  op: "alertRuleTemplates.list",
  title: "List alert rule templates",
  description:
    "List the analytics rule templates available in the workspace (detections ready to enable), with severity, tactics, techniques and the data connectors they need. Optionally filter by tactic.",
  input: z.strictObject({
    tactic: z
      .string()
      .regex(/^[A-Za-z]+$/, "a MITRE tactic name such as CredentialAccess")
      .optional()
      .describe("Only templates for this MITRE ATT&CK tactic, e.g. CredentialAccess."),
  }),
  output: z.object({
    note: untrustedNote,
    templates: z.array(templateSummary.omit({ query: true })),
    truncated: z.boolean(),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/alertRuleTemplates/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(args, ctx) {
    const all = (await ctx.backend.listAlertRuleTemplates())
      .filter((t) => !args.tactic || t.tactics.some((x) => x.toLowerCase() === args.tactic!.toLowerCase()))
      // The query is in sentinel_alertRuleTemplates_get; the list stays small enough to scan.
      .map(({ query: _q, ...t }) => t);
    const cap = ctx.maxRows ?? all.length;
    return { note: UNTRUSTED_NOTE, templates: all.slice(0, cap), truncated: all.length > cap };
  },
});
