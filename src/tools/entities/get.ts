import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { entityId } from "./inputs.js";

export default defineTool({
  op: "entities.get",
  title: "Get entity",
  description:
    "Get one Microsoft Sentinel entity (account, host, IP…) by id, with its kind-specific properties (e.g. UPN suffix, host OS, IP location and matching threat intelligence). Ids come from sentinel_incidents_entities.",
  input: z.strictObject({ entityId, workspace }),
  output: z.object({
    note: untrustedNote,
    entity: z.object({
      id: z.string(),
      kind: z.string(),
      name: z.string(),
      properties: z.record(z.string(), z.unknown()),
    }),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/entities/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    return { note: UNTRUSTED_NOTE, entity: await ctx.backend.getEntity(args.entityId) };
  },
});
