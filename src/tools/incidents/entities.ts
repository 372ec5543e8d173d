import { z } from "zod";
import { incidentId, UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "incidents.entities",
  title: "List an incident's entities",
  description: "List the entities (accounts, hosts, IPs…) related to a Microsoft Sentinel incident.",
  input: z.strictObject({ incidentId, workspace }),
  output: z.object({
    note: untrustedNote,
    entities: z.array(z.object({ id: z.string(), kind: z.string(), name: z.string() })),
    truncated: z.boolean(),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Responder", actions: ["Microsoft.SecurityInsights/incidents/entities/action"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    const all = await ctx.backend.incidentEntities(args.incidentId);
    const cap = ctx.maxRows ?? all.length;
    return { note: UNTRUSTED_NOTE, entities: all.slice(0, cap), truncated: all.length > cap };
  },
});
