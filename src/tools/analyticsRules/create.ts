import { randomUUID } from "node:crypto";
import { z } from "zod";
import { isoDurationMs } from "../../governance/decide.js";
import { analyticsRule, WRITE_EFFECTS } from "../shared.js";
import { defineTool, priorOf } from "../types.js";
import { ruleFields } from "./rule-input.js";

const MIN = 5 * 60_000;
const MAX = 14 * 86_400_000;

export default defineTool({
  op: "analyticsRules.create",
  title: "Create analytics rule",
  description:
    "Create a scheduled analytics rule (created disabled unless enabled is true). An admin-level write: changes future detections.",
  input: z
    .strictObject({ ...ruleFields, enabled: z.boolean().default(false) })
    .refine((a) => isoDurationMs(a.queryFrequency) >= MIN && isoDurationMs(a.queryPeriod) <= MAX, {
      message: "queryFrequency must be ≥ PT5M and queryPeriod ≤ P14D",
    })
    .refine((a) => isoDurationMs(a.queryPeriod) >= isoDurationMs(a.queryFrequency), {
      message: "queryPeriod must be ≥ queryFrequency",
    }),
  output: z.object({ rule: analyticsRule }),
  effects: WRITE_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Contributor",
    actions: ["Microsoft.SecurityInsights/alertRules/read", "Microsoft.SecurityInsights/alertRules/write"],
    rollback: ["Microsoft.SecurityInsights/alertRules/delete"],
  },
  approvalDefault: "required",
  rollback: { posture: "delete", description: "Delete the rule the agent created." },
  facts: (a) => ({ kql: { query: a.query } }),
  capture: async () => ({ ruleId: randomUUID() }),
  async run(args, ctx) {
    const { ruleId } = priorOf(ctx);
    return { rule: await ctx.backend.putAnalyticsRule({ id: ruleId, ...args, tactics: args.tactics ?? [] }) };
  },
  async revert(_args, prior, ctx) {
    const { ruleId } = prior;
    await ctx.backend.deleteAnalyticsRule(ruleId);
    return { deleted: ruleId };
  },
});
