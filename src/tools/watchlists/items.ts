import { z } from "zod";
import { defineTool, READ_EFFECTS } from "../types.js";

export const watchlistAlias = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
  .describe("Watchlist alias.");

export default defineTool({
  op: "watchlists.items",
  title: "List watchlist items",
  description: "List the items of one watchlist.",
  input: z.strictObject({ watchlistAlias }),
  output: z.object({
    items: z.array(z.object({ id: z.string(), values: z.record(z.string(), z.unknown()) })),
    truncated: z.boolean(),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/watchlists/watchlistItems/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(args, ctx) {
    const all = await ctx.backend.listWatchlistItems(args.watchlistAlias);
    const cap = ctx.maxRows ?? all.length;
    return { items: all.slice(0, cap), truncated: all.length > cap };
  },
});
