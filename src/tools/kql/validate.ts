import { z } from "zod";
import { isoDuration } from "../shared.js";
import { defineTool } from "../types.js";

export default defineTool({
  op: "kql.validate",
  title: "Validate a KQL query",
  description:
    "Check a KQL query without running it: syntax and schema diagnostics (line/column) from Microsoft's Kusto language service, and what the policy would decide for sentinel_kql_query (and why).",
  input: z.strictObject({ query: z.string().min(1).max(10000), timespan: isoDuration.optional() }),
  output: z.object({
    valid: z.boolean(),
    diagnostics: z.array(z.string()),
    tables: z.array(z.string()),
    forbidden: z.array(z.object({ construct: z.string(), line: z.number().optional(), column: z.number().optional() })),
    policyEffect: z.enum(["ALLOW", "CONSTRAIN", "LOG", "BLOCK"]),
    reasons: z.array(z.object({ code: z.string(), message: z.string(), rule: z.string().optional() })),
    redactedColumns: z
      .array(z.string())
      .optional()
      .describe("Output columns that would be masked: they derive from a column the policy redacts."),
    redactedPredicates: z
      .array(z.string())
      .optional()
      .describe(
        "Filters, sorts or joins on redacted data (each can reveal one bit per row), e.g. where:UserPrincipalName.",
      ),
  }),
  effects: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  rbac: { role: "none", actions: [], note: "analysis only; nothing is sent to Log Analytics" },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only." },
  async run(args, ctx) {
    const g = ctx.governance!;
    const a = await g.analyzeKql(args.query);
    const { decision } = await g.explain("kql.query", {
      query: args.query,
      ...(args.timespan ? { timespan: args.timespan } : {}),
    });
    return {
      valid: a.ok && decision.effect !== "BLOCK",
      diagnostics: a.diagnostics,
      tables: a.tables,
      forbidden: a.forbidden,
      policyEffect: decision.effect,
      reasons: decision.reasons,
      ...(a.lineage?.masked.length ? { redactedColumns: a.lineage.masked } : {}),
      ...(a.lineage?.predicates.length ? { redactedPredicates: a.lineage.predicates } : {}),
    };
  },
});
