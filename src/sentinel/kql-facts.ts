import type { KqlFacts } from "../governance/decide.js";
import { analyzeKql } from "../kql/index.js";
import type { SentinelBackend } from "./backend.js";
import { SENTINEL_TABLE_SCHEMAS } from "./table-schemas.js";

/** Maps the analyzer's construct names onto the policy's forbidden-construct vocabulary. */
export function normalizeConstruct(construct: string): string {
  const c = construct.toLowerCase().replace(/[\s()]/g, "");
  if (c.startsWith("externaldata") || c.startsWith("external_table") || c === "externaltable") return "externaldata";
  if (c.startsWith("workspace")) return "workspace";
  if (c.startsWith("app")) return "app";
  if (c.startsWith("cluster")) return "cluster";
  if (c.startsWith("database")) return "database";
  if (c.startsWith("union*") || c.includes("wildcard")) return "union_wildcard";
  if (c.startsWith("evaluate")) return "evaluate";
  if (c.startsWith("table")) return "table_dynamic";
  if (c.startsWith(".") || c.includes("control")) return "control_command";
  return c;
}

export interface KqlFactsOptions {
  /** The policy's redaction.columns: output derived from them is masked by lineage. */
  redactedColumns?: string[];
}

/** Builds the policy-facing KQL analysis: Microsoft's Kusto language service over our table schemas. */
export function createKqlFactsAnalyzer(
  _backend: () => Promise<SentinelBackend>,
): (query: string, options?: KqlFactsOptions) => Promise<KqlFacts> {
  return async (query, options = {}) => {
    const a = await analyzeKql(query, SENTINEL_TABLE_SCHEMAS, {
      ...(options.redactedColumns ? { redactedColumns: options.redactedColumns } : {}),
    });
    return {
      ok: a.ok,
      diagnostics: a.diagnostics
        .filter((d) => d.severity === "Error" || d.severity === "error")
        .map((d) => `${d.message} (line ${d.line}, column ${d.column})`),
      tables: a.tables,
      forbidden: a.forbidden.map((f) => ({
        construct: normalizeConstruct(f.construct),
        line: f.line,
        column: f.column,
      })),
      functions: a.functions,
      ...(a.lineage ? { lineage: a.lineage } : {}),
    };
  };
}
