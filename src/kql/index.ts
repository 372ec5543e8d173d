// Public surface of src/kql.
//
// executeKql(query, source, opts?) — the local engine: runs a KQL query synchronously over in-memory tables
//   (types.ts). Honours opts.timespan as a hard bound on every table scan, opts.now for now()/ago(),
//   opts.maxResultRows and opts.maxIntermediateRows (default DEFAULT_MAX_INTERMEDIATE_ROWS). Returns `reads`: every
//   table and stored function it read. Lexes exactly as the Kusto language service does (lexer.ts); regexes run on
//   RE2. Throws KqlError (.info = { code, message, line, column }) on syntax errors, limits and anything it does not
//   support, naming the construct — it never guesses.
// prepareKql(query) — parse once, run many times (each run its own source and options); slideRule (slide.ts) uses it.
// analyzeKql(query, schema) — policy analysis on Microsoft's Kusto language service (see analyzer.ts for how
//   referenced tables are resolved and what is reported as forbidden). preloadKqlAnalyzer() loads it ahead of time.
export {
  analyzeKql,
  analyzeKqlSync,
  type KqlAnalysis,
  type KqlDiagnostic,
  type KqlSchema,
  preloadKqlAnalyzer,
} from "./analyzer.js";
export { DEFAULT_MAX_INTERMEDIATE_ROWS } from "./context.js";
export { executeKql, type PreparedKql, prepareKql } from "./engine.js";
export { KqlError } from "./errors.js";
export type * from "./types.js";
