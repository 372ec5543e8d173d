import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { checkRange, entityId, MAX_WINDOW_DAYS, resolveRange, timeRangeFields } from "./inputs.js";

export default defineTool({
  op: "entities.insights",
  title: "Entity insights",
  description: `Run the entity's insights between startTime and endTime (at most ${MAX_WINDOW_DAYS} days): tables computed from the logs, such as sign-ins by IP for an account, accounts and threat-intelligence matches for an IP, processes for a host. The policy's row cap applies to the rows of all insights together.`,
  input: z
    .strictObject({
      entityId,
      ...timeRangeFields,
      insightIds: z
        .array(z.uuid({ message: "insight ids are GUIDs, as returned in insights[].queryId" }))
        .min(1)
        .max(20)
        .optional()
        .describe("Run only these insights (queryId values from an earlier call). Default: all for the entity's kind."),
      extendTimeRange: z
        .boolean()
        .optional()
        .describe("Extend the range back by the insights' default range (one day)."),
      workspace,
    })
    .superRefine(checkRange),
  output: z.object({
    note: untrustedNote,
    entityId: z.string(),
    insights: z.array(
      z.object({
        queryId: z.string(),
        title: z.string().optional(),
        description: z.string().optional(),
        startTime: z.string().optional(),
        endTime: z.string().optional(),
        columns: z.array(z.object({ name: z.string(), type: z.string() })),
        rows: z.array(z.array(z.string())),
        truncated: z.boolean(),
      }),
    ),
    errors: z.array(z.string()),
    truncated: z.boolean(),
  }),
  effects: READ_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Contributor",
    actions: [
      "Microsoft.SecurityInsights/entities/getInsights/action",
      "Microsoft.SecurityInsights/entities/queries/read",
    ],
  },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    const res = await ctx.backend.entityInsights(args.entityId, {
      ...resolveRange(args),
      ...(args.insightIds ? { insightIds: args.insightIds } : {}),
      ...(args.extendTimeRange !== undefined ? { extendTimeRange: args.extendTimeRange } : {}),
    });
    // One row budget across all insight tables, so the cap bounds what the whole call returns.
    let left = ctx.maxRows ?? Number.POSITIVE_INFINITY;
    const insights = res.insights.map((i) => {
      const rows = i.rows.slice(0, Math.max(0, left));
      left -= rows.length;
      return { ...i, rows, truncated: rows.length < i.rows.length };
    });
    return {
      note: UNTRUSTED_NOTE,
      entityId: args.entityId,
      insights,
      errors: res.errors,
      truncated: insights.some((i) => i.truncated),
    };
  },
});
