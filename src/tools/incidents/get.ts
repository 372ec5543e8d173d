import { z } from "zod";
import { incidentId, incidentSummary, UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "incidents.get",
  title: "Get incident",
  description: "Get one Microsoft Sentinel incident by id.",
  input: z.strictObject({ incidentId, workspace }),
  output: z.object({ note: untrustedNote, incident: incidentSummary }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/incidents/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    return { note: UNTRUSTED_NOTE, incident: await ctx.backend.getIncident(args.incidentId) };
  },
});
