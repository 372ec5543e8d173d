import { z } from "zod";
import { defineTool, READ_EFFECTS } from "../types.js";

export default defineTool({
  op: "dataConnectors.list",
  title: "List data connectors",
  description:
    "List the workspace's data connectors (e.g. AzureActiveDirectory, MicrosoftDefenderAdvancedThreatProtection, ThreatIntelligence, Office365) and whether each data type is Enabled. Compare with a template's requiredDataConnectors before proposing a rule.",
  input: z.strictObject({}),
  output: z.object({
    connectors: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        tenantId: z.string().optional(),
        dataTypes: z.array(z.object({ name: z.string(), state: z.string() })),
      }),
    ),
    truncated: z.boolean(),
  }),
  effects: READ_EFFECTS,
  rbac: { role: "Microsoft Sentinel Reader", actions: ["Microsoft.SecurityInsights/dataConnectors/read"] },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  async run(_args, ctx) {
    const all = await ctx.backend.listDataConnectors();
    const cap = ctx.maxRows ?? all.length;
    return { connectors: all.slice(0, cap), truncated: all.length > cap };
  },
});
