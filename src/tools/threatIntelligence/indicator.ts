import { z } from "zod";

export const indicatorSummary = z.object({
  id: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
  pattern: z.string(),
  patternType: z.string(),
  values: z.array(z.string()).describe("Observables parsed from the pattern (IP, domain, URL, file hash…)."),
  source: z.string().optional(),
  confidence: z.number().optional(),
  threatTypes: z.array(z.string()),
  tags: z.array(z.string()),
  killChainPhases: z.array(z.string()),
  validFrom: z.string().optional(),
  validUntil: z.string().optional(),
  revoked: z.boolean(),
  lastUpdated: z.string().optional(),
});

export const indicatorTop = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .describe("Maximum indicators to return (capped by policy). Default: 50.");
