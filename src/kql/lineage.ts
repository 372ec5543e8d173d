import { lookupTable } from "./lookup.js";

// Column lineage for redaction: which output columns of a query carry values derived from a redacted column.
//
// Runs on the Kusto language service's bound syntax tree (the same parse the policy decides on). The analysis is a
// deliberate over-approximation by *name*: a set T of tainted names (columns, let variables, functions) starts with
// the redacted columns of the tables the query reads and grows to a fixpoint:
//  - an assignment `n = e` anywhere (extend, project, summarize, project-rename, print, let) taints n when e
//    references a tainted name, a tabular value with a tainted column (subqueries, toscalar, materialize, function
//    calls returning tables), or the whole row (pack_all(), `*`) while the row has a tainted column;
//  - an unnamed computed column (`tolower(UPN)`, `make_list(UPN)`) taints the name the binder gives it and every new
//    column of its operator that no other element names;
//  - every other operator (parse, mv-expand, mv-apply, make-series, scan, top-nested, ...) taints all the columns it
//    creates when anything in it is tainted;
//  - join, lookup and union carry taint by column name, including the `1`-suffixed copies a join makes.
// Control flow needs no special case: `iff(UPN startswith "a", x, y)` references UPN, so its column is tainted.
// Output columns whose names are in T are masked. Constructs whose output columns come from data (evaluate plugins
// such as bag_unpack/pivot, find, column_ifexists with a computed name) make lineage unknown: the query is refused.
// Predicates (where, sort, top, join keys) on tainted names are counted: each can leak one bit per row.

// biome-ignore lint/suspicious/noExplicitAny: the language service is a Bridge.NET bundle without usable typings.
type Any = any;

export interface LineageFacts {
  /** Redacted columns that apply to this query (Table.Column as configured). */
  redactedColumns: string[];
  /** Output columns of the query, as the binder names them. */
  outputColumns: string[];
  /** Output columns masked because they may derive from a redacted column. */
  masked: string[];
  /** Predicates over tainted names: construct and name, e.g. "where:UserPrincipalName". */
  predicates: string[];
  /** Set when lineage cannot be established; the query must be refused. */
  unknown?: { construct: string; line: number; column: number; reason: string };
}

export interface LineageInput {
  /** Language service globals (Kusto.Language), the Bridge runtime and the analyzed code of the query. */
  K: Any;
  Bridge: Any;
  code: Any;
  /** Analyzed codes of stored functions the query calls (their bodies create columns too). */
  functionBodies: Any[];
  /** Initial tainted column names. */
  seeds: string[];
  redactedColumns: string[];
  at(pos: number): { line: number; column: number };
}

const LIST_OPERATORS = new Set([
  "ProjectOperator",
  "ExtendOperator",
  "SummarizeOperator",
  "ProjectRenameOperator",
  "DistinctOperator",
  "PrintOperator",
  // serialize [a = e, ...] extends like extend; a window function (prev/next) names its column, so a value read from
  // another row is tainted by that column exactly as on its own row.
  "SerializeOperator",
]);
const NAME_CARRYING = new Set(["JoinOperator", "LookupOperator", "UnionOperator"]);
const PREDICATE_OPERATORS: Record<string, string> = lookupTable({
  FilterOperator: "where",
  SortOperator: "sort",
  TopOperator: "top",
  TopHittersOperator: "top-hitters",
  TopNestedOperator: "top-nested",
  JoinOperator: "join",
  LookupOperator: "lookup",
  PartitionOperator: "partition",
  TakeOperator: "take",
  SampleDistinctOperator: "sample-distinct",
});
/** Operators whose output columns are named by the data, so lineage by name cannot follow them. */
const OPAQUE_OPERATORS: Record<string, string> = lookupTable({
  EvaluateOperator: "evaluate (plugins such as bag_unpack and pivot name their columns from the data)",
  FindOperator: "find (packs every column of every table into one value)",
  SearchOperator: "search (matches every column, including redacted ones)",
  MacroExpandOperator: "macro-expand",
});
const ROW_FUNCTIONS = new Set(["pack_all", "bag_pack_columns"]);
const MAX_ROUNDS = 16;

export function analyzeLineage(input: LineageInput): LineageFacts {
  const { K, Bridge, at } = input;
  const T = new Set(input.seeds);
  const predicates = new Set<string>();
  let unknown: LineageFacts["unknown"];
  const typeName = (n: Any): string =>
    String(Bridge.getTypeName(n)).replace(/^Kusto\.Language\.(Syntax|Symbols)\./, "");
  const isTable = (rt: Any): boolean => !!rt && typeName(rt) === "TableSymbol";
  const columnsOf = (rt: Any): Any[] => {
    const out: Any[] = [];
    if (!isTable(rt)) return out;
    for (let i = 0; i < rt.Columns.Count; i++) out.push(rt.Columns.getItem(i));
    return out;
  };
  const tableTainted = (rt: Any): boolean => columnsOf(rt).some((c) => T.has(String(c.Name)));
  // A whole-row reader (pack_all(), `*`) over a row we cannot see may be reading a redacted column: assume it is.
  // Inside a function body a tabular parameter's declared schema is only a minimum (`(T:(*))`, `(T:(Ip:string))`):
  // the caller's table brings all its columns, so the body's rows are never fully known.
  const inFunctionBody = (n: Any): boolean => {
    for (let p = n.Parent; p; p = p.Parent) if (typeName(p) === "FunctionBody") return true;
    return false;
  };
  const rowTainted = (row: Any, at: Any): boolean =>
    !isTable(row) || !!row.IsOpen || row.Columns.Count === 0 || inFunctionBody(at) || tableTainted(row);
  const refuse = (construct: string, pos: number, reason: string) => {
    if (!unknown) unknown = { construct, ...at(pos), reason };
  };

  /**
   * Does anything in `root` carry a tainted value? Nested tabular expressions are judged by their result columns
   * (their own operators are analysed separately) and not entered.
   */
  const taints = (root: Any, row: Any, onRef?: (name: string) => void): boolean => {
    let found = false;
    const visit = (n: Any, isRoot: boolean): void => {
      if (!n) return;
      const t = typeName(n);
      if (!isRoot && isTable(n.ResultType) && !t.endsWith("Operator")) {
        // Inside a function body a tabular value may be a parameter, whose real columns only the caller knows.
        if (tableTainted(n.ResultType) || inFunctionBody(n)) found = true;
        return;
      }
      if (t === "NameReference") {
        const name = String(n.SimpleName);
        if (T.has(name)) {
          found = true;
          onRef?.(name);
        }
      } else if (t === "StarExpression") {
        if (rowTainted(row, n)) found = true;
      } else if (t === "FunctionCallExpression") {
        const fname = String(n.Name?.SimpleName ?? "").toLowerCase();
        if (ROW_FUNCTIONS.has(fname) && rowTainted(row, n)) found = true;
        if (fname === "column_ifexists") {
          const first = n.ArgumentList?.Expressions?.Count ? n.ArgumentList.Expressions.getItem(0).Element : null;
          if (!first || typeName(first) !== "LiteralExpression" || typeof first.LiteralValue !== "string")
            refuse("column_ifexists", n.TextStart, "column_ifexists with a computed column name");
          else if (T.has(first.LiteralValue)) found = true;
        }
      }
      for (let i = 0; i < n.ChildCount; i++) {
        const c = n.GetChild(i);
        if (c && typeof c.ChildCount === "number" && !c.IsToken) visit(c, false);
      }
    };
    visit(root, true);
    return found;
  };

  const listElements = (op: Any): Any[] => {
    const lists = [op.Expressions, op.Aggregates, op.ByClause?.Expressions].filter(Boolean);
    const out: Any[] = [];
    for (const l of lists) for (let i = 0; i < l.Count; i++) out.push(l.getItem(i).Element);
    return out;
  };

  const declaredNames = (el: Any): string[] => {
    const t = typeName(el);
    if (t === "SimpleNamedExpression") return [String(el.Name.SimpleName)];
    if (t === "CompoundNamedExpression") {
      const names: string[] = [];
      const list = el.Names?.Names;
      for (let i = 0; i < (list?.Count ?? 0); i++) names.push(String(list.getItem(i).Element.SimpleName));
      return names;
    }
    return [];
  };

  const operator = (op: Any, inRt: Any, outRt: Any): void => {
    const t = typeName(op);
    const opaque = OPAQUE_OPERATORS[t];
    if (opaque) {
      refuse(t.replace(/Operator$/, "").toLowerCase(), op.TextStart, opaque);
      return;
    }
    const pred = PREDICATE_OPERATORS[t];
    if (pred) taints(op, inRt, (name) => predicates.add(`${pred}:${name}`));
    const inCols = new Set(columnsOf(inRt));
    const created = columnsOf(outRt)
      .filter((c) => !inCols.has(c))
      .map((c) => String(c.Name));
    if (t === "InvokeOperator") {
      // The invoked function's body was bound against its declared parameter schema, not this input: everything
      // it creates from a tainted input is tainted.
      if (tableTainted(inRt) || taints(op, inRt)) for (const c of created) T.add(c);
      return;
    }
    if (NAME_CARRYING.has(t)) {
      for (const c of created) if (T.has(c) || T.has(c.replace(/\d+$/, ""))) T.add(c);
      return;
    }
    if (LIST_OPERATORS.has(t)) {
      const elements = listElements(op);
      const declared = new Set(elements.flatMap(declaredNames));
      for (const el of elements) {
        const names = declaredNames(el);
        const et = typeName(el);
        if (names.length) {
          const value = et === "SimpleNamedExpression" || et === "CompoundNamedExpression" ? el.Expression : el;
          if (taints(value, inRt)) for (const n of names) T.add(n);
          continue;
        }
        if (et === "NameReference" || et === "StarExpression") continue; // kept under its own name
        if (!taints(el, inRt)) continue;
        const rn = String(K.KustoFacts.GetExpressionResultName(el, "", inRt) ?? "");
        if (rn) T.add(rn);
        for (const c of created) if (!declared.has(c)) T.add(c);
      }
      return;
    }
    if (pred && created.length === 0) return;
    if (taints(op, inRt)) for (const c of created) T.add(c);
  };

  // Post-order (children first): in `A | op1 | op2` the tree is Pipe(Pipe(A, op1), op2), so op1 is seen before op2
  // and taint flows down a pipeline in one pass.
  const pass = (code: Any): void => {
    K.Syntax.SyntaxElement.WalkNodes(code.Syntax, null, (n: Any) => {
      const t = typeName(n);
      if (t === "PipeExpression") {
        operator(n.Operator, n.Expression?.ResultType, n.ResultType);
      } else if (t.endsWith("Operator") && t !== "BadQueryOperator") {
        const parent = n.Parent;
        const piped = parent && typeName(parent) === "PipeExpression" && parent.Operator === n;
        if (!piped) operator(n, null, n.ResultType);
      } else if (t === "LetStatement") {
        if (taints(n.Expression, null)) T.add(String(n.Name.SimpleName));
      } else if (t === "FunctionCallExpression") {
        // Rows packed outside any operator we track (e.g. inside a scalar function body) still count.
        const fname = String(n.Name?.SimpleName ?? "");
        if (fname.toLowerCase() === "column_ifexists") taints(n, null);
        // A user-defined function's body was bound against its declared parameters, not these arguments: its
        // result, as bound here, is tainted wholesale when any argument is.
        if (userFunctions.has(fname) && isTable(n.ResultType) && taints(n.ArgumentList, null))
          for (const c of columnsOf(n.ResultType)) T.add(String(c.Name));
      }
    });
  };

  const codes = [input.code, ...input.functionBodies];
  const userFunctions = new Set<string>();
  for (const c of codes)
    K.Syntax.SyntaxElement.WalkNodes(c.Syntax, (n: Any) => {
      if (typeName(n) === "LetStatement" && n.Expression && typeName(n.Expression) === "FunctionDeclaration")
        userFunctions.add(String(n.Name.SimpleName));
    });
  // T only grows, so this reaches a fixpoint; queries converge in a pass or two (function bodies add a round). One
  // that has not converged within the bound is refused rather than half-analysed.
  let converged = false;
  for (let round = 0; round < MAX_ROUNDS && !converged; round++) {
    const before = T.size;
    for (const c of codes) pass(c);
    converged = T.size === before;
  }
  if (!converged) refuse("query", 0, `lineage did not settle within ${MAX_ROUNDS} passes; simplify the query`);
  const outputColumns = columnsOf(input.code.ResultType).map((c) => String(c.Name));
  return {
    redactedColumns: input.redactedColumns,
    outputColumns,
    masked: outputColumns.filter((c) => T.has(c)),
    predicates: [...predicates].sort(),
    ...(unknown ? { unknown } : {}),
  };
}
