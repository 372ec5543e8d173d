import { z } from "zod";
import type { AlertRuleTemplateSummary } from "../../sentinel/discovery-types.js";
import { ruleFields } from "../analyticsRules/rule-input.js";

export const templateId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/, "template id: letters, digits and dashes (a GUID from the list)")
  .describe("Alert rule template id, as returned by sentinel_alertRuleTemplates_list.");

export const templateSummary = z.object({
  id: z.string(),
  kind: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
  severity: z.string().optional(),
  query: z.string().optional(),
  queryFrequency: z.string().optional(),
  queryPeriod: z.string().optional(),
  triggerOperator: z.string().optional(),
  triggerThreshold: z.number().optional(),
  tactics: z.array(z.string()),
  techniques: z.array(z.string()),
  requiredDataConnectors: z.array(z.object({ connectorId: z.string(), dataTypes: z.array(z.string()) })),
  status: z.string().optional(),
  version: z.string().optional(),
});

/** Exactly the arguments sentinel_analyticsRules_create accepts, built from a template. */
export const createArguments = z.object(ruleFields);

export function toCreateArguments(
  t: AlertRuleTemplateSummary,
): { ok: true; args: z.infer<typeof createArguments> } | { ok: false; problem: string } {
  const parsed = createArguments.safeParse({
    displayName: t.displayName,
    ...(t.description ? { description: t.description } : {}),
    severity: t.severity,
    query: t.query,
    queryFrequency: t.queryFrequency,
    queryPeriod: t.queryPeriod,
    triggerOperator: t.triggerOperator,
    triggerThreshold: t.triggerThreshold,
    tactics: t.tactics,
  });
  if (parsed.success) return { ok: true, args: parsed.data };
  return {
    ok: false,
    problem: `a ${t.kind} template cannot be passed to sentinel_analyticsRules_create as is: ${parsed.error.issues
      .map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ")}`,
  };
}
