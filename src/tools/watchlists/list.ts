import { z } from "zod";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "watchlists.list",
  title: "List watchlists",
  description: "List the workspace's watchlists (reference lists such as high-value assets or VIP users).",
  input: z.strictObject({}),
  output: z.object({
    watchlists: z.array(
      z.object({
        alias: z.string(),
        displayName: z.string(),
        provider: z.string().optional(),
        itemsSearchKey: z.string().optional(),
        description: z.string().optional(),
      }),
    ),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/Watchlists/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(_args, ctx) {
    return { watchlists: await ctx.backend.listWatchlists() };
  },
});
