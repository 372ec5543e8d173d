import { z } from "zod";
import { listFacts, rowCap, UNTRUSTED_NOTE, untrustedNote, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { indicatorSummary, indicatorTop } from "./indicator.js";

export default defineTool({
  op: "threatIntelligence.indicators.list",
  title: "List threat-intelligence indicators",
  description:
    "List the workspace's threat-intelligence indicators (IPs, domains, URLs, file hashes…) with confidence, threat types and validity. Use sentinel_threatIntelligence_indicators_query to filter.",
  input: z.strictObject({ top: indicatorTop, workspace }),
  output: z.object({ note: untrustedNote, indicators: z.array(indicatorSummary), truncated: z.boolean() }),
  effects: READ_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Reader",
    actions: ["Microsoft.SecurityInsights/threatintelligence/indicators/read"],
  },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; nothing to roll back." },
  facts: listFacts,
  async run(args, ctx) {
    const cap = rowCap(args.top, ctx.maxRows);
    // One more than the cap tells whether there was more to return.
    const all = await ctx.backend.listIndicators(cap + 1);
    return { note: UNTRUSTED_NOTE, indicators: all.slice(0, cap), truncated: all.length > cap };
  },
});
