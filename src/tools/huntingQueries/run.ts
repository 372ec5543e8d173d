import { z } from "zod";
import { GovernanceError } from "../../governance/errors.js";
import { BackendError } from "../../sentinel/errors.js";
import { HUNTING_CATEGORY } from "../../sentinel/sdk-hunting.js";
import { queryResultFields, runBoundedQuery } from "../kql/bounded.js";
import { isoDuration, workspace } from "../shared.js";
import { defineTool, READ_EFFECTS } from "../types.js";
import { savedSearchId } from "./shared.js";

const SOURCE = "savedSearch:";

export default defineTool({
  op: "huntingQueries.run",
  title: "Run a hunting query",
  description:
    "Run a saved hunting query by id under exactly the policy that bounds sentinel_kql_query: allowed tables, forbidden constructs, the time range passed to the API as the hard timespan, row and size caps, redaction. The saved query's text is analysed before it runs; a query the policy forbids is refused, not run.",
  input: z.strictObject({
    savedSearchId,
    timespan: isoDuration
      .optional()
      .describe("Time range (ISO 8601 duration) to query; bounded by policy. Default: the policy maximum."),
    workspace,
  }),
  output: z.object({ savedSearch: z.object({ id: z.string(), query: z.string() }), ...queryResultFields }),
  effects: READ_EFFECTS,
  rbac: {
    role: "Microsoft Sentinel Reader",
    actions: [
      "Microsoft.OperationalInsights/workspaces/savedSearches/read",
      "Microsoft.OperationalInsights/workspaces/query/read",
    ],
    tables: "policy",
  },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only; restrict retention and sharing of query output." },
  facts: (a) => (a.workspace ? { workspace: a.workspace } : {}),
  // The query text lives in the workspace: fetched once here, analysed for the decision, and run as fetched.
  async resolveFacts(a, ctx) {
    let s: Awaited<ReturnType<typeof ctx.backend.getSavedSearch>>;
    try {
      s = await ctx.backend.getSavedSearch(a.savedSearchId);
    } catch (e) {
      if (e instanceof BackendError && e.failure === "not_found")
        throw new GovernanceError(
          "invalid_arguments",
          `savedSearchId: no saved search "${a.savedSearchId}" in this workspace`,
          "use an id from sentinel_huntingQueries_list",
        );
      throw e;
    }
    if (s.category !== HUNTING_CATEGORY)
      throw new GovernanceError(
        "invalid_arguments",
        `savedSearchId: saved search "${a.savedSearchId}" is in category "${s.category}", not "${HUNTING_CATEGORY}"; only hunting queries can be run`,
        "use an id from sentinel_huntingQueries_list, or run ad-hoc KQL with sentinel_kql_query",
      );
    return {
      kql: { query: s.query, ...(a.timespan ? { timespan: a.timespan } : {}), source: `${SOURCE}${s.id}` },
      ...(a.workspace ? { workspace: a.workspace } : {}),
    };
  },
  async run(args, ctx) {
    const kql = ctx.facts?.kql;
    // Never fetch again: without the analysed text there is nothing this call may run.
    if (!kql || kql.source?.toLowerCase() !== `${SOURCE}${args.savedSearchId}`.toLowerCase())
      throw new GovernanceError("internal_error", "the saved query was not resolved before the decision; nothing ran");
    return {
      savedSearch: { id: args.savedSearchId, query: kql.query },
      ...(await runBoundedQuery(ctx, kql.query, args.timespan)),
    };
  },
});
