import { z } from "zod";
import type { AnalyticsRule } from "../../sentinel/backend.js";
import { analyticsRule, ruleId, WRITE_EFFECTS } from "../shared.js";
import { defineTool, priorOf } from "../types.js";
import { ruleFields } from "./rule-input.js";

export default defineTool({
  op: "analyticsRules.update",
  title: "Update analytics rule",
  description: "Change fields of a scheduled analytics rule. An admin-level write: changes future detections.",
  input: z.strictObject({
    ruleId,
    displayName: ruleFields.displayName.optional(),
    description: ruleFields.description,
    severity: ruleFields.severity.optional(),
    query: ruleFields.query.optional(),
    queryFrequency: ruleFields.queryFrequency.optional(),
    queryPeriod: ruleFields.queryPeriod.optional(),
    triggerOperator: ruleFields.triggerOperator.optional(),
    triggerThreshold: ruleFields.triggerThreshold.optional(),
    enabled: z.boolean().optional(),
  }),
  output: z.object({ rule: analyticsRule }),
  effects: { ...WRITE_EFFECTS, destructive: true, idempotent: true },
  rbac: {
    role: "Microsoft Sentinel Contributor",
    actions: ["Microsoft.SecurityInsights/alertRules/read", "Microsoft.SecurityInsights/alertRules/write"],
  },
  approvalDefault: "required",
  rollback: {
    posture: "disable-restore",
    description: "Restore the rule version captured before the write (the known-good version).",
  },
  facts: (a) => (a.query ? { kql: { query: a.query } } : {}),
  capture: (args, ctx) => ctx.backend.getAnalyticsRule(args.ruleId),
  async run(args, ctx) {
    const prior = priorOf(ctx);
    const { ruleId: _id, ...changes } = args;
    const next: AnalyticsRule = {
      ...prior,
      ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
    };
    return { rule: await ctx.backend.putAnalyticsRule(next, prior.etag) };
  },
  async revert(_args, prior, ctx) {
    const p = prior;
    const { etag: _e, ...rule } = p;
    return { rule: await ctx.backend.putAnalyticsRule(rule) };
  },
});
