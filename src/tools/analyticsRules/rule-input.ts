import { z } from "zod";
import { isoDuration, severity } from "../shared.js";

/** The fields of a scheduled rule an agent may set, with Sentinel's limits (5 minutes to 14 days, period ≥ frequency). */
export const ruleFields = {
  displayName: z.string().min(1).max(256),
  description: z.string().max(5000).optional(),
  severity,
  query: z.string().min(1).max(10000).describe("KQL; analysed by policy like sentinel_kql_query."),
  queryFrequency: isoDuration.describe("How often the rule runs (PT5M to P14D)."),
  queryPeriod: isoDuration.describe("How far back each run looks (≥ queryFrequency, ≤ P14D)."),
  triggerOperator: z.enum(["GreaterThan", "LessThan", "Equal", "NotEqual"]),
  triggerThreshold: z.number().int().min(0).max(10000),
  tactics: z
    .array(z.string().regex(/^[A-Za-z]+$/))
    .max(14)
    .default([]),
};
