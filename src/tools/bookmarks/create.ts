import { randomUUID } from "node:crypto";
import { z } from "zod";
import { attackTactic, techniqueId } from "../huntingQueries/shared.js";
import { WRITE_EFFECTS } from "../shared.js";
import { defineTool, priorOf } from "../types.js";
import { bookmark } from "./shared.js";

const dateTime = z.iso.datetime({ offset: true, message: "ISO 8601 date-time such as 2024-05-01T12:00:00Z" });

export default defineTool({
  op: "bookmarks.create",
  title: "Create hunting bookmark",
  description:
    "Keep a query and its result as a hunting bookmark (evidence for an investigation). A write: it adds content analysts and incidents will see; rollback deletes it.",
  input: z
    .strictObject({
      displayName: z.string().min(1).max(256),
      query: z.string().min(1).max(10000).describe("The KQL that produced the evidence (stored, not run)."),
      queryResult: z.string().max(10000).optional().describe("The result rows kept as evidence (JSON text)."),
      notes: z.string().max(10000).optional(),
      labels: z.array(z.string().min(1).max(64)).max(20).optional(),
      eventTime: dateTime.optional(),
      queryStartTime: dateTime.optional(),
      queryEndTime: dateTime.optional(),
      tactics: z.array(attackTactic).max(17).optional(),
      techniques: z.array(techniqueId).max(50).optional(),
    })
    .refine((a) => !a.queryStartTime || !a.queryEndTime || Date.parse(a.queryStartTime) <= Date.parse(a.queryEndTime), {
      message: "queryStartTime must not be after queryEndTime",
      path: ["queryStartTime"],
    }),
  output: z.object({ bookmark }),
  effects: WRITE_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Contributor",
    actions: ["Microsoft.SecurityInsights/Bookmarks/write"],
    rollback: ["Microsoft.SecurityInsights/Bookmarks/delete"],
  },
  approvalDefault: "required",
  rollback: { posture: "delete", description: "Delete the bookmark the agent created." },
  // The new bookmark's id is fixed before the write, so the intent receipt names what rollback deletes.
  capture: async () => ({ bookmarkId: randomUUID() }),
  async run(args, ctx) {
    const { bookmarkId } = priorOf(ctx);
    return { bookmark: await ctx.backend.putBookmark(bookmarkId, args) };
  },
  async revert(_args, prior, ctx) {
    const { bookmarkId } = prior;
    await ctx.backend.deleteBookmark(bookmarkId);
    return { deleted: bookmarkId };
  },
});
