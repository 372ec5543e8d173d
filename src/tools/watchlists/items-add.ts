import { randomUUID } from "node:crypto";
import { z } from "zod";
import { WRITE_EFFECTS } from "../shared.js";
import { defineTool, priorOf } from "../types.js";
import { watchlistAlias } from "./items.js";

export default defineTool({
  op: "watchlists.items.add",
  title: "Add watchlist item",
  description:
    "Add an item to a watchlist (e.g. a host to HighValueAssets). Watchlists feed detections, so this is a write.",
  input: z.strictObject({
    watchlistAlias,
    values: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_ ]{0,63}$/),
        z.union([z.string().max(1000), z.number(), z.boolean()]),
      )
      .refine((v) => Object.keys(v).length > 0 && Object.keys(v).length <= 50, { message: "1 to 50 fields" }),
  }),
  output: z.object({ item: z.object({ id: z.string(), values: z.record(z.string(), z.unknown()) }) }),
  effects: WRITE_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Contributor",
    actions: ["Microsoft.SecurityInsights/watchlists/watchlistItems/write"],
    rollback: ["Microsoft.SecurityInsights/watchlists/watchlistItems/delete"],
  },
  approvalDefault: "required",
  rollback: { posture: "delete", description: "Delete the item the agent added." },
  capture: async (args) => ({ watchlistAlias: args.watchlistAlias, itemId: randomUUID() }),
  async run(args, ctx) {
    const { itemId } = priorOf(ctx);
    return { item: await ctx.backend.putWatchlistItem(args.watchlistAlias, itemId, args.values) };
  },
  async revert(args, prior, ctx) {
    const { itemId } = prior;
    await ctx.backend.deleteWatchlistItem(args.watchlistAlias, itemId);
    return { deleted: itemId };
  },
});
