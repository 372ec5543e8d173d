import {
  analyzeKqlSync,
  type KqlAnalysis,
  type KqlAnalysisOptions,
  type KqlSchema,
  preloadKqlAnalyzer,
} from "../../src/kql/analyzer.js";
import { AnalysisTimeout, KqlAnalyzerWorker } from "../../src/kql/analyzer-worker.js";
import type { KqlColumn, KqlDataSource, KqlTable } from "../../src/kql/types.js";

// Test helpers around Microsoft's Kusto language service, the oracle for how KQL text is read.

// biome-ignore lint/suspicious/noExplicitAny: the language service is a Bridge.NET bundle without usable typings.
type Any = any;

function kusto(): Any {
  preloadKqlAnalyzer();
  return (globalThis as Any).Kusto.Language;
}

export interface LsToken {
  kind: string;
  text: string;
  pos: number;
  end: number;
  /** For string literals: the value the language service gives them. */
  value?: string;
  /** The token carries a diagnostic (unterminated string, bad character, ...). */
  bad: boolean;
}

/** The language service's tokens for `text` (trivia skipped). */
export function lsTokens(text: string): LsToken[] {
  const K = kusto();
  const toks = K.Parsing.TokenParser.ParseTokens(text, null);
  const out: LsToken[] = [];
  let pos = 0;
  for (const t of toks) {
    const start = pos + t.Trivia.length;
    const kind = String(K.Syntax.SyntaxKind[t.Kind] ?? t.Kind);
    const name = Object.keys(K.Syntax.SyntaxKind).find((k) => K.Syntax.SyntaxKind[k] === t.Kind) ?? kind;
    const tokText = String(t.Text);
    out.push({
      kind: name,
      text: tokText,
      pos: start,
      end: start + tokText.length,
      ...(name === "StringLiteralToken" ? { value: String(K.KustoFacts.GetStringLiteralValue(tokText)) } : {}),
      bad: (t.Diagnostics?.length ?? 0) > 0,
    });
    pos = start + tokText.length;
  }
  return out;
}

const cols: KqlColumn[] = [
  { name: "TimeGenerated", type: "datetime" },
  { name: "Name", type: "string" },
  { name: "Id", type: "long" },
];

/** Tables shared by the differential tests: SecurityAlert plays the forbidden table. */
export const TABLE_NAMES = ["SecurityAlert", "AuditLogs", "SigninLogs", "Heartbeat", "AgentEvent_CL"];
export const FUNCTIONS = [
  { name: "AgentEvent", body: "AgentEvent_CL | project TimeGenerated, Name, Id" },
  { name: "Alerts2", body: "SecurityAlert | where Id > 0" },
];
export const SCHEMA: KqlSchema = { tables: TABLE_NAMES.map((name) => ({ name, columns: cols })), functions: FUNCTIONS };

export function makeSource(): KqlDataSource {
  const tables = new Map<string, KqlTable>(
    TABLE_NAMES.map((name, k) => [
      name,
      {
        name,
        columns: cols,
        rows: [
          [1_700_000_000_000 + k, `${name}-a`, 1],
          [1_700_000_000_001 + k, `${name}-b`, 2],
        ],
      },
    ]),
  );
  return {
    table: (n) => tables.get(n),
    tableNames: () => [...tables.keys()],
    storedFunction: (n) => FUNCTIONS.find((f) => f.name === n)?.body,
  };
}

export { analyzeKqlSync };

/**
 * Analysis as the server runs it, for fuzzers: on the analyzer worker with a deadline. The language service never
 * returns for some queries (test/security/analyzer-hang.test.ts); in the test's own thread one such query would block
 * the file for good, where vitest's timeout cannot fire. The server refuses a query whose analysis passes its deadline
 * or throws, so nothing of it runs: the caller counts "timeout" and "error", never as a violation.
 */
export function deadlineAnalyzer(schema: KqlSchema, deadlineMs = 5_000) {
  const worker = new KqlAnalyzerWorker(schema, deadlineMs);
  return {
    deadlineMs,
    async analyze(query: string, options: KqlAnalysisOptions = {}): Promise<KqlAnalysis | "timeout" | "error"> {
      try {
        return await worker.analyze(query, options);
      } catch (e) {
        return e instanceof AnalysisTimeout ? "timeout" : "error";
      }
    },
    close: () => worker.close(),
  };
}
