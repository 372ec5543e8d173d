import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { checkRange, entityId, MAX_WINDOW_DAYS, resolveRange, timeRangeFields } from "./inputs.js";

export default defineTool({
  op: "entities.timeline",
  title: "Entity timeline",
  description: `Timeline of one entity between startTime and endTime (at most ${MAX_WINDOW_DAYS} days): security alerts that involve it and bucketed activity from the logs (sign-ins for accounts and IPs, processes for hosts), newest first. Rows are capped by policy.`,
  input: z
    .strictObject({
      entityId,
      ...timeRangeFields,
      kinds: z
        .array(z.enum(["Activity", "SecurityAlert", "Bookmark", "Anomaly"]))
        .min(1)
        .max(4)
        .optional()
        .describe("Kinds of timeline items to include. Default: all."),
      buckets: z
        .number()
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe("How many time buckets activity is grouped into. Default: 24."),
      workspace,
    })
    .superRefine(checkRange),
  output: z.object({
    note: untrustedNote,
    entityId: z.string(),
    startTime: z.string(),
    endTime: z.string(),
    items: z.array(
      z.object({
        kind: z.string(),
        time: z.string(),
        title: z.string(),
        description: z.string().optional(),
        severity: z.string().optional(),
        product: z.string().optional(),
        alertId: z.string().optional(),
        queryId: z.string().optional(),
        bucketStart: z.string().optional(),
        bucketEnd: z.string().optional(),
        firstActivity: z.string().optional(),
        lastActivity: z.string().optional(),
      }),
    ),
    totals: z.array(z.object({ kind: z.string(), count: z.number() })),
    errors: z.array(z.string()),
    truncated: z.boolean(),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Contributor", actions: ["Microsoft.SecurityInsights/entities/gettimeline/action"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    const range = resolveRange(args);
    ctx.progress?.("running", `timeline of ${args.entityId} computing in the workspace`);
    const tl = await ctx.backend.entityTimeline(
      args.entityId,
      {
        ...range,
        ...(args.kinds ? { kinds: args.kinds } : {}),
        ...(args.buckets ? { buckets: args.buckets } : {}),
      },
      ctx.signal ? { abortSignal: ctx.signal } : {},
    );
    // The timeline API answers in one response: the items arrive at once.
    ctx.progress?.("rows", `${tl.items.length} timeline item(s) received`);
    const cap = ctx.maxRows ?? tl.items.length;
    return {
      note: UNTRUSTED_NOTE,
      entityId: args.entityId,
      ...range,
      items: tl.items.slice(0, cap),
      totals: tl.aggregations,
      errors: tl.errors,
      truncated: tl.items.length > cap,
    };
  },
});
