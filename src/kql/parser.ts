import type { Query } from "./ast.js";
import { StatementParser } from "./parser-statements.js";

// A recursive-descent parser for the KQL surface the local engine runs. Anything else is rejected with the
// construct's name and position, so the engine never guesses. The grammar is split by level: parser-statements
// (let bindings), parser-sources (tabular sources), parser-operators (the `|` operators), parser-expressions
// (scalar expressions), all on parser-cursor (the token stream); the tree itself is in ast.ts.

export type {
  Expr,
  Lambda,
  NamedExpr,
  Op,
  ParsePart,
  Query,
  SortKey,
  Source,
  Tabular,
  TabularLambda,
} from "./ast.js";

export function parseKql(text: string): Query {
  return new StatementParser(text).query();
}
