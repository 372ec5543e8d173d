import type { KqlFacts } from "../governance/decide.js";
import { GovernanceError } from "../governance/errors.js";
import { AnalysisTimeout, KqlAnalyzerWorker } from "../kql/analyzer-worker.js";
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

/** Deadline for one policy analysis (seconds); the language service binds a 10,000-character query in about one. */
const ANALYSIS_SECONDS = Number(process.env.GSMCP_KQL_ANALYSIS_SECONDS ?? 10);

/**
 * Builds the policy-facing KQL analysis: Microsoft's Kusto language service over our table schemas, in a worker off
 * the event loop (started on first use), with a deadline.
 */
export interface KqlFactsAnalyzer {
  (query: string, options?: KqlFactsOptions): Promise<KqlFacts>;
  /** Stops the language-service worker (if it was started). */
  close(): Promise<void>;
}

/** Analyses kept per (query, redacted columns): the analysis is a pure function of both (the schemas are fixed). */
const CACHE_ENTRIES = 512;

export function createKqlFactsAnalyzer(_backend: () => Promise<SentinelBackend>): KqlFactsAnalyzer {
  let worker: KqlAnalyzerWorker | undefined;
  // An agent re-runs and retries the same queries (hunting queries, refinements): those skip the language service.
  // Map order is insertion order, so re-inserting on a hit and evicting the first key is an LRU.
  const cache = new Map<string, KqlFacts>();
  const analyze = async (query: string, options: KqlFactsOptions = {}): Promise<KqlFacts> => {
    const key = JSON.stringify([query, options.redactedColumns ?? []]);
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const facts = await analyzeUncached(query, options);
    cache.set(key, facts);
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return facts;
  };
  const analyzeUncached = async (query: string, options: KqlFactsOptions): Promise<KqlFacts> => {
    worker ??= new KqlAnalyzerWorker(SENTINEL_TABLE_SCHEMAS, ANALYSIS_SECONDS * 1000);
    let a: Awaited<ReturnType<KqlAnalyzerWorker["analyze"]>>;
    try {
      a = await worker.analyze(query, options.redactedColumns ? { redactedColumns: options.redactedColumns } : {});
    } catch (e) {
      if (e instanceof AnalysisTimeout)
        throw new GovernanceError(
          "kql_query_limit",
          `${e.message}; nothing was run`,
          "split the query or shorten its pipeline (fewer operators and lets)",
        );
      throw new GovernanceError("internal_error", `policy analysis failed: ${(e as Error).message}`);
    }
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
  return Object.assign(analyze, {
    close: async () => {
      await worker?.close();
      worker = undefined;
    },
  });
}
