import { z } from "zod";
import { isoDuration, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { queryResultFields, runBoundedQuery } from "./bounded.js";

export default defineTool({
  op: "kql.query",
  title: "Run a KQL query",
  description:
    "Run a read-only KQL query against the Sentinel Log Analytics workspace. The policy restricts tables, forbids cross-workspace and external access, bounds the time range (passed to the API as the hard timespan) and caps rows.",
  input: z.strictObject({
    query: z.string().min(1).max(10000).describe("KQL query text."),
    timespan: isoDuration
      .optional()
      .describe("Time range (ISO 8601 duration) to query; bounded by policy. Default: the policy maximum."),
    workspace,
  }),
  output: z.object(queryResultFields),
  effects: READ_EFFECTS,
  rbac: {
    role: "Log Analytics Reader",
    actions: ["Microsoft.OperationalInsights/workspaces/query/read"],
    tables: "policy",
  },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; restrict retention and sharing of query output." },
  facts: (a) => ({
    kql: { query: a.query, ...(a.timespan ? { timespan: a.timespan } : {}) },
    ...(a.workspace ? { workspace: a.workspace } : {}),
  }),
  run: (args, ctx) => runBoundedQuery(ctx, args.query, args.timespan),
});
