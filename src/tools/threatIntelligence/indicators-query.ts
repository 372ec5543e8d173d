import { z } from "zod";
import { listFacts, rowCap, UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { indicatorSummary, indicatorTop } from "./indicator.js";

const term = z.string().min(1).max(200);
const terms = (what: string) => z.array(term).min(1).max(20).optional().describe(what);
const confidence = z.number().min(0).max(100).optional();
const isoTime = z.iso
  .datetime({ offset: true, message: "an ISO 8601 date-time with a zone, such as 2024-05-01T00:00:00Z" })
  .optional();

export default defineTool({
  op: "threatIntelligence.indicators.query",
  title: "Query threat-intelligence indicators",
  description:
    "Find threat-intelligence indicators by keywords (every keyword must match the name, description, pattern or tags), pattern types (ipv4-addr, domain-name, url, file, email-addr…), threat types, sources, confidence and validity range, sorted as asked. Revoked indicators are excluded unless includeDisabled is true.",
  input: z
    .strictObject({
      keywords: terms("Keywords; every one must occur (case-insensitive)."),
      patternTypes: terms("Pattern types, e.g. ipv4-addr, domain-name, url, file."),
      threatTypes: terms("Threat types, e.g. malicious-activity, compromised, anonymization."),
      sources: terms("Indicator sources, e.g. Microsoft Emerging Threat Feed."),
      minConfidence: confidence,
      maxConfidence: confidence,
      minValidUntil: isoTime.describe("Only indicators valid until at least this time (e.g. now, for active ones)."),
      maxValidUntil: isoTime.describe("Only indicators whose validity ends by this time."),
      includeDisabled: z.boolean().optional().describe("Include revoked indicators."),
      sortBy: z
        .array(
          z.strictObject({
            itemKey: z.enum([
              "confidence",
              "created",
              "displayName",
              "lastUpdatedTimeUtc",
              "source",
              "validFrom",
              "validUntil",
            ]),
            sortOrder: z.enum(["ascending", "descending"]),
          }),
        )
        .min(1)
        .max(3)
        .optional(),
      top: indicatorTop,
      workspace,
    })
    .refine(
      (a) => a.minConfidence === undefined || a.maxConfidence === undefined || a.minConfidence <= a.maxConfidence,
      {
        path: ["maxConfidence"],
        message: "maxConfidence must be ≥ minConfidence",
      },
    )
    .refine(
      (a) => {
        // A malformed time is reported on its own field; only valid times are compared.
        const [lo, hi] = [Date.parse(a.minValidUntil ?? ""), Date.parse(a.maxValidUntil ?? "")];
        return !Number.isFinite(lo) || !Number.isFinite(hi) || lo <= hi;
      },
      { path: ["maxValidUntil"], message: "maxValidUntil must be ≥ minValidUntil" },
    ),
  output: z.object({ note: untrustedNote, indicators: z.array(indicatorSummary), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Reader",
    actions: ["Microsoft.SecurityInsights/threatintelligence/queryIndicators/action"],
  },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: listFacts,
  async run(args, ctx) {
    const { top, workspace: _w, ...query } = args;
    const cap = rowCap(top, ctx.maxRows);
    const all = await ctx.backend.queryIndicators(query, cap + 1);
    return { note: UNTRUSTED_NOTE, indicators: all.slice(0, cap), truncated: all.length > cap };
  },
});
