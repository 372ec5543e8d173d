import { randomUUID } from "node:crypto";
import { z } from "zod";
import { incidentId, WRITE_EFFECTS, workspace } from "../shared.js";
import { defineTool, priorOf } from "../types.js";

const comment = z.object({
  id: z.string(),
  message: z.string(),
  author: z.string().optional(),
  createdTime: z.string().optional(),
});

export default defineTool({
  op: "incidents.comments.add",
  title: "Add incident comment",
  description:
    "Add a comment to a Microsoft Sentinel incident. A write: it cannot be deleted by rollback, only superseded by a correction note.",
  input: z.strictObject({ incidentId, message: z.string().min(1).max(30000), workspace }),
  output: z.object({ comment }),
  effects: WRITE_EFFECTS,
  rbac: { role: "Microsoft Sentinel Responder", actions: ["Microsoft.SecurityInsights/incidents/comments/write"] },
  approvalDefault: "required",
  rollback: {
    posture: "supersede",
    description: "Add a correction comment that supersedes the agent's comment (comments are kept as evidence).",
  },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  capture: async (args) => ({ incidentId: args.incidentId, commentId: randomUUID() }),
  async run(args, ctx) {
    const prior = priorOf(ctx);
    return { comment: await ctx.backend.addComment(args.incidentId, prior.commentId, args.message) };
  },
  async revert(args, prior, ctx) {
    const p = prior;
    const note = `Correction: comment ${p.commentId} was added by an AI agent and has been withdrawn by an operator (rollback). Disregard it.`;
    return { comment: await ctx.backend.addComment(args.incidentId, randomUUID(), note) };
  },
});
