import { z } from "zod";
import { HUNTING_CATEGORY } from "../../sentinel/sdk-hunting.js";
import { UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { attackTactic, huntingQuery, techniqueId, toHuntingQuery } from "./shared.js";

export default defineTool({
  op: "huntingQueries.list",
  title: "List hunting queries",
  description:
    'List the workspace\'s hunting queries (Log Analytics saved searches in the "Hunting Queries" category) with their MITRE tactics and techniques, optionally filtered by technique (T1110 also matches T1110.003) or tactic. Run one with sentinel_huntingQueries_run.',
  input: z.strictObject({
    technique: techniqueId.optional(),
    tactic: attackTactic.optional().describe("MITRE ATT&CK tactic, e.g. CredentialAccess."),
    workspace,
  }),
  output: z.object({ note: untrustedNote, queries: z.array(huntingQuery), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.OperationalInsights/workspaces/savedSearches/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  async run(args, ctx) {
    const all = (await ctx.backend.listSavedSearches())
      .filter((s) => s.category === HUNTING_CATEGORY)
      .map(toHuntingQuery)
      .filter(
        (q) =>
          (!args.technique || q.techniques.some((t) => t === args.technique || t.startsWith(`${args.technique}.`))) &&
          (!args.tactic || q.tactics.includes(args.tactic)),
      );
    const cap = ctx.maxRows ?? all.length;
    return { note: UNTRUSTED_NOTE, queries: all.slice(0, cap), truncated: all.length > cap };
  },
});
