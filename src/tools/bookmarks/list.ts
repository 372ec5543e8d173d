import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { bookmark } from "./shared.js";

export default defineTool({
  op: "bookmarks.list",
  title: "List hunting bookmarks",
  description:
    "List the workspace's hunting bookmarks: query results analysts kept as evidence, with notes, labels, MITRE tactics/techniques and the incident they relate to.",
  input: z.strictObject({}),
  output: z.object({ note: untrustedNote, bookmarks: z.array(bookmark), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/Bookmarks/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(_args, ctx) {
    const all = await ctx.backend.listBookmarks();
    const cap = ctx.maxRows ?? all.length;
    return { note: UNTRUSTED_NOTE, bookmarks: all.slice(0, cap), truncated: all.length > cap };
  },
});
