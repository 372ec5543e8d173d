// The syntax tree the parser builds and the engine, the lineage analysis and the naming rules read.

export type Expr =
  | {
      k: "lit";
      v: string | number | boolean | null;
      type: "string" | "real" | "long" | "bool" | "timespan" | "datetime" | "dynamic";
      pos: number;
    }
  | { k: "col"; name: string; pos: number }
  | { k: "bin"; op: string; l: Expr; r: Expr; pos: number }
  | { k: "not"; e: Expr; pos: number }
  | { k: "neg"; e: Expr; pos: number }
  | { k: "in"; e: Expr; list: Expr[]; tabular?: Tabular; negate: boolean; ci: boolean; pos: number }
  | { k: "call"; name: string; args: Expr[]; pos: number }
  | { k: "member"; e: Expr; key: Expr; pos: number }
  | { k: "dyn"; v: unknown; pos: number }
  | { k: "between"; e: Expr; lo: Expr; hi: Expr; negate: boolean; pos: number }
  | { k: "star"; pos: number }
  /** toscalar(T | ...): the first value of a tabular expression, computed once. */
  | { k: "toscalar"; t: Tabular; pos: number };

export type ParsePart = { k: "text"; text: string } | { k: "any" } | { k: "col"; name: string; type: string };

export interface SortKey {
  e: Expr;
  desc: boolean;
  /** Explicit `nulls first|last`; otherwise Kusto's default (first when ascending, last when descending). */
  nullsFirst: boolean;
}

export interface NamedExpr {
  name?: string;
  /** `(a, b) = f(...)`: one output column per name, from a function that returns several. */
  names?: string[];
  e: Expr;
}

export type Op =
  | { k: "where"; e: Expr; pos: number }
  | { k: "take"; n: Expr; pos: number }
  | { k: "project"; items: NamedExpr[]; pos: number }
  | { k: "extend"; items: NamedExpr[]; pos: number }
  | { k: "project-away"; cols: string[]; pos: number }
  | { k: "summarize"; aggs: NamedExpr[]; by: NamedExpr[]; pos: number }
  | { k: "sort"; keys: SortKey[]; pos: number }
  | { k: "top"; n: Expr; keys: SortKey[]; pos: number }
  | { k: "count"; pos: number }
  | { k: "distinct"; items: NamedExpr[]; star: boolean; pos: number }
  | { k: "render"; pos: number }
  /** serialize [Name = Expr, ...]: marks the rows as ordered (window functions may run), then extends like extend. */
  | { k: "serialize"; items: NamedExpr[]; pos: number }
  | { k: "join"; kind: string; right: Tabular; on: { left: string; right: string }[]; pos: number }
  | { k: "union"; tables: Tabular[]; withsource?: string; fuzzy?: boolean; pos: number }
  | { k: "mv-apply"; items: { name?: string; e: Expr; type?: string }[]; ops: Op[]; pos: number }
  | { k: "mv-expand"; items: { name?: string; e: Expr; type?: string }[]; limit?: Expr; pos: number }
  | { k: "project-rename"; renames: { to: string; from: string }[]; pos: number }
  | { k: "project-keep" | "project-reorder"; cols: string[]; pos: number }
  | { k: "lookup"; kind: string; right: Tabular; on: { left: string; right: string }[]; pos: number }
  | { k: "parse"; e: Expr; parts: ParsePart[]; pos: number }
  | {
      k: "make-series";
      aggs: NamedExpr[];
      defaults: (Expr | undefined)[];
      on: Expr;
      from?: Expr;
      to?: Expr;
      step: Expr;
      by: NamedExpr[];
      pos: number;
    };

export type Source =
  /** call: `F()`, only a stored function; tableFn: `table("X")`, only a table of the data source. */
  | { k: "table"; name: string; pos: number; call?: boolean; tableFn?: boolean; nameParam?: string }
  /**
   * A tabular function called with arguments: a let-bound one (`f("SigninLogs")`) or, when no let binds the name, a
   * stored function with parameters (`_GetWatchlist('AgentAllowlist')`).
   */
  | { k: "fncall"; name: string; args: Expr[]; pos: number }
  | { k: "sub"; t: Tabular; pos: number }
  | { k: "union"; tables: Tabular[]; withsource?: string; fuzzy?: boolean; pos: number }
  | { k: "datatable"; columns: { name: string; type: string }[]; values: Expr[]; pos: number }
  | { k: "range"; name: string; from: Expr; to: Expr; step: Expr; pos: number }
  | { k: "print"; items: NamedExpr[]; pos: number };

export interface Tabular {
  source: Source;
  ops: Op[];
}

/** A let-bound scalar function: `let f = (x:long, s:string) { x * 2 };`. */
export interface Lambda {
  params: { name: string; type: string }[];
  body: Expr;
}

/** A let-bound function with a tabular body: `let f = (t:string) { table(t) | where ... };`. */
export interface TabularLambda {
  params: { name: string; type: string }[];
  body: Query;
}

export interface Query {
  lets: { name: string; scalar?: Expr; tabular?: Tabular; lambda?: Lambda; tabFn?: TabularLambda; pos: number }[];
  body: Tabular;
}
