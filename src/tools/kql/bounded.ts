import { z } from "zod";
import { DEFAULT_MAX_QUERY_SECONDS, type KqlFacts } from "../../governance/decide.js";
import { GovernanceError } from "../../governance/errors.js";
import type { QueryTable } from "../../sentinel/backend.js";
import { UNTRUSTED_NOTE, untrustedNote } from "../shared.js";
import type { ToolContext } from "../types.js";

// One way to run KQL for every tool that runs it (kql.query, huntingQueries.run): the decision's timespan is the
// API's hard time bound, its query timeout the server timeout, its row cap cuts the result, and the result is checked
// against the analysis the decision was made on (what the engine read, which columns carry redacted data).

export const COLUMN_MASK = "«redacted:column»";

export const queryResultFields = {
  note: untrustedNote,
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  truncated: z.boolean(),
  timespan: z.string(),
  redactedColumns: z
    .array(z.string())
    .optional()
    .describe("Output columns whose values were masked because they derive from a column the policy redacts."),
};

export async function runBoundedQuery(ctx: ToolContext, query: string, requestedTimespan?: string) {
  const timespan = ctx.timespan ?? requestedTimespan ?? "P1D";
  const limit = ctx.decision.constraints.find((c) => c.kind === "query_timeout");
  const seconds = limit?.kind === "query_timeout" ? limit.seconds : DEFAULT_MAX_QUERY_SECONDS;
  ctx.progress?.("running", `query running in the workspace (timespan ${timespan}, limit ${seconds} s)`);
  const table = await ctx.backend.queryLogs(query, timespan, {
    serverTimeoutSeconds: seconds,
    ...(ctx.signal ? { abortSignal: ctx.signal } : {}),
  });
  // The query API answers with every row at once: there is no partial-row progress to report, only that they came.
  ctx.progress?.("rows", `${table.rows.length} row(s) received; checking, masking and capping them`);
  if (!ctx.ungoverned) checkReads(table, ctx.kql);
  const redactedColumns = ctx.ungoverned ? [] : maskColumns(table, ctx);
  const cap = ctx.maxRows ?? table.rows.length;
  return {
    note: UNTRUSTED_NOTE,
    columns: table.columns,
    rows: table.rows.slice(0, cap),
    truncated: table.rows.length > cap,
    timespan,
    ...(redactedColumns.length ? { redactedColumns } : {}),
  };
}

/**
 * read ⊆ analysed: the embedded engine reports every table and stored function it read; anything the policy analysis
 * did not see means the engine and the analyzer parsed the query differently. The result is withheld (fail closed).
 */
export function checkReads(table: QueryTable, kql: KqlFacts | undefined): void {
  if (!kql)
    throw new GovernanceError("internal_error", "query result cannot be checked: no analysis reached the handler");
  if (!table.reads) return; // Azure's engine is Microsoft's own; only the embedded engine reports reads.
  const tables = table.reads.tables.filter((t) => !kql.tables.includes(t));
  const functions = table.reads.storedFunctions.filter((f) => !(kql.functions ?? []).includes(f));
  if (tables.length || functions.length) {
    const what = [...tables.map((t) => `table ${t}`), ...functions.map((f) => `stored function ${f}`)].join(", ");
    throw new GovernanceError(
      "kql_read_outside_analysis",
      `the query engine read ${what}, which the policy analysis did not report; the result was withheld. This is a defect in the server (the analyzer and the engine read the query differently)`,
      "report the query to the maintainers; rewrite it without unusual quoting or escapes",
      { defect: true, read: table.reads, analysed: { tables: kql.tables, functions: kql.functions ?? [] } },
    );
  }
}

/**
 * Masks output columns the lineage analysis found derived from a redacted column (the decision's column_redaction
 * constraint records the same list). When redaction applies, a column the analysis did not predict (an engine naming
 * it differently) is masked too: lineage unknown means masked.
 */
export function maskColumns(table: QueryTable, ctx: ToolContext): string[] {
  const lineage = ctx.kql?.lineage;
  if (!lineage) return [];
  const masked = new Set(lineage.masked);
  const predicted = new Set(lineage.outputColumns);
  const idx: number[] = [];
  const names: string[] = [];
  table.columns.forEach((col, i) => {
    if (masked.has(col.name) || !predicted.has(col.name)) {
      idx.push(i);
      names.push(col.name);
    }
  });
  if (!idx.length) return [];
  for (const row of table.rows) for (const i of idx) if (row[i] !== null && row[i] !== undefined) row[i] = COLUMN_MASK;
  for (const i of idx) table.columns[i] = { name: table.columns[i]!.name, type: "string" };
  return names;
}
