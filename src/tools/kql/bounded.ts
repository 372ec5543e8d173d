import { z } from "zod";
import { UNTRUSTED_NOTE, untrustedNote } from "../shared.js";
import type { ToolContext } from "../types.js";

// One way to run KQL for every tool that runs it (kql.query, huntingQueries.run): the decision's timespan is the
// API's hard time bound and its row cap cuts the result, so a saved query gets exactly what an ad-hoc one gets.

export const queryResultFields = {
  note: untrustedNote,
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  truncated: z.boolean(),
  timespan: z.string(),
};

export async function runBoundedQuery(ctx: ToolContext, query: string, requestedTimespan?: string) {
  const timespan = ctx.timespan ?? requestedTimespan ?? "P1D";
  const table = await ctx.backend.queryLogs(query, timespan);
  const cap = ctx.maxRows ?? table.rows.length;
  return {
    note: UNTRUSTED_NOTE,
    columns: table.columns,
    rows: table.rows.slice(0, cap),
    truncated: table.rows.length > cap,
    timespan,
  };
}
