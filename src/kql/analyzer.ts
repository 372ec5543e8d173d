import { createRequire } from "node:module";
import { analyzeLineage, type LineageFacts } from "./lineage.js";
import { lookupTable } from "./lookup.js";
import type { KqlColumn } from "./types.js";

// Policy analysis runs on Microsoft's Kusto language service (the parser and binder behind Azure Data Explorer and
// Log Analytics), loaded lazily once: ~0.5 s and ~200 MB. Decisions come from the syntax tree and the binder's
// symbols, never from regexes over the text.
//
// How referenced tables are resolved (`tables`):
//  - every syntax node the binder resolved to a TableSymbol of our schema: this covers names reached through let
//    aliases (`let T = SecurityAlert; T`), subqueries, `join`, `union`, `lookup`, `materialize()`;
//  - `table("X")` with a literal argument: X if the schema has it (otherwise an unknown-table diagnostic);
//  - stored functions (schema.functions) that the query calls: their bodies are analyzed the same way, recursively,
//    and their tables added (the binder resolves the call, not into the body).
// Names the binder cannot resolve (unknown tables, Unicode look-alikes of real names) are never added; they produce
// an `unknown_table` error diagnostic and ok=false.
//
// `ok` is false when any error diagnostic exists (syntax, binding, unknown table). Forbidden constructs are reported
// separately in `forbidden` so that the policy decides which of them it blocks; a policy must check both.

export interface KqlSchema {
  tables: { name: string; columns: KqlColumn[] }[];
  functions?: { name: string; body: string }[];
}

export interface KqlDiagnostic {
  severity: string;
  message: string;
  line: number;
  column: number;
  code?: string;
}

export interface KqlAnalysis {
  ok: boolean;
  diagnostics: KqlDiagnostic[];
  /** Every table the query reads, resolved through aliases, functions, joins and unions; sorted. */
  tables: string[];
  /** Functions called (built-in and stored); sorted. */
  functions: string[];
  /** Query operators used, lower-case ("where", "summarize", "join", "evaluate", ...); sorted. */
  operators: string[];
  forbidden: { construct: string; line: number; column: number }[];
  /** True when some `where` predicate references a TimeGenerated column. */
  hasTimeFilter: boolean;
  /** Column lineage for redaction; present when options.redactedColumns apply to a table the query reads. */
  lineage?: LineageFacts;
}

export interface KqlAnalysisOptions {
  /** Redacted columns, `Table.Column` or `*.Column`: output derived from them is masked (see lineage.ts). */
  redactedColumns?: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: the language service is a Bridge.NET bundle without usable typings.
type Any = any;
let K: Any;
let BridgeRt: Any;

function load(): void {
  if (K) return;
  const require = createRequire(import.meta.url);
  const dir = "@kusto/language-service-next";
  require(`${dir}/bridge.min.js`);
  require(`${dir}/Kusto.Language.Bridge.min.js`);
  const g = globalThis as Any;
  K = g.Kusto.Language;
  BridgeRt = g.Bridge;
}

/** Loads the language service ahead of the first query (server start-up can call it in the background). */
export function preloadKqlAnalyzer(): void {
  load();
}

const globalsCache = new Map<string, Any>();

function globalsFor(schema: KqlSchema): Any {
  const key = JSON.stringify(schema);
  const hit = globalsCache.get(key);
  if (hit) return hit;
  const sym = K.Symbols;
  const quote = (n: string) => `['${n.replace(/'/g, "\\'")}']`;
  const members: Any[] = schema.tables.map(
    (t) =>
      new sym.TableSymbol.$ctor7(t.name, `(${t.columns.map((c) => `${quote(c.name)}:${c.type}`).join(", ")})`, null),
  );
  for (const f of schema.functions ?? []) {
    const { params, body } = splitStoredFunction(f.body);
    members.push(new sym.FunctionSymbol.$ctor16(f.name, params, `{ ${body} }`, null));
  }
  const db = new sym.DatabaseSymbol.ctor("workspace", members);
  const globals = K.GlobalState.Default.WithDatabase(db);
  if (globalsCache.size > 32) globalsCache.clear();
  globalsCache.set(key, globals);
  return globals;
}

/**
 * A stored function body as saved: `query`, or `(p:type, ...) { query }` for a function with parameters. Returns the
 * parameter list (`()` when none) and the query.
 */
export function splitStoredFunction(text: string): { params: string; body: string; declarations: string } {
  const m = /^\s*(\((?:[^()]*)\))\s*\{([\s\S]*)\}\s*$/.exec(text);
  if (!m) return { params: "()", body: text, declarations: "" };
  const params = m[1]!;
  // Each parameter as a typed let, so the body analyses on its own (the binder needs every name bound).
  const declarations = params
    .slice(1, -1)
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const [name, type] = p.split(":").map((x) => x.trim()) as [string, string | undefined];
      const value = (type ?? "string").toLowerCase() === "string" ? '""' : `${type}(null)`;
      return `let ${name} = ${value};\n`;
    })
    .join("");
  return { params, body: m[2]!, declarations };
}

/** Functions that reach outside the workspace (other workspaces, apps, clusters, databases, resources, files). */
const CROSS_RESOURCE: Record<string, string> = lookupTable({
  workspace: "workspace",
  app: "app",
  cluster: "cluster",
  database: "database",
  resource: "resource",
  adx: "adx",
  arg: "arg",
  external_table: "external_table",
  externaldata: "externaldata",
  entity_group: "entity_group",
});

const TABULAR_PARENTS = new Set(["PipeExpression", "ExpressionStatement", "JoinOperator", "LookupOperator"]);

function typeName(n: Any): string {
  return String(BridgeRt.getTypeName(n)).replace("Kusto.Language.Syntax.", "");
}

const MAX_FUNCTION_DEPTH = 8;

export function analyzeKqlSync(query: string, schema: KqlSchema, options: KqlAnalysisOptions = {}): KqlAnalysis {
  load();
  return analyze(query, schema, 0, options);
}

function analyze(query: string, schema: KqlSchema, depth: number, options: KqlAnalysisOptions = {}): KqlAnalysis {
  const code = K.KustoCode.ParseAndAnalyze(query, globalsFor(schema));
  const at = (pos: number): { line: number; column: number } => {
    const line = { v: 0 };
    const off = { v: 0 };
    if (code.TryGetLineAndOffset(pos, line, off)) return { line: line.v, column: off.v };
    return { line: 1, column: pos + 1 };
  };
  const diagnostics: KqlDiagnostic[] = [];
  const diags = code.GetDiagnostics();
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    diagnostics.push({
      severity: String(d.Severity),
      message: String(d.Message),
      code: String(d.Code),
      ...at(d.Start),
    });
  }
  const known = new Set(schema.tables.map((t) => t.name));
  const tables = new Set<string>();
  const functions = new Set<string>();
  const operators = new Set<string>();
  const forbidden: KqlAnalysis["forbidden"] = [];
  let hasTimeFilter = false;
  const flag = (construct: string, pos: number) => {
    const p = at(pos);
    if (!forbidden.some((f) => f.construct === construct && f.line === p.line && f.column === p.column))
      forbidden.push({ construct, ...p });
  };
  const unknownTable = (name: string, pos: number) => {
    const p = at(pos);
    if (!diagnostics.some((d) => d.code === "unknown_table" && d.line === p.line && d.column === p.column))
      diagnostics.push({ severity: "Error", code: "unknown_table", message: `unknown table "${name}"`, ...p });
  };

  if (String(code.Kind) !== "Query") flag("control_command", 0);
  const SymbolKind = K.Symbols.SymbolKind;
  K.Syntax.SyntaxElement.WalkNodes(code.Syntax, (n: Any) => {
    const t = typeName(n);
    if (t.endsWith("Operator") && t !== "BadQueryOperator")
      operators.add(
        t
          .replace(/Operator$/, "")
          .replace(/([a-z])([A-Z])/g, "$1-$2")
          .toLowerCase()
          .replace(/^filter$/, "where")
          .replace(/^make-series$/, "make-series"),
      );
    switch (t) {
      case "ExternalDataExpression":
        flag("externaldata", n.TextStart);
        break;
      case "EvaluateOperator":
        flag("evaluate", n.TextStart);
        break;
      case "MacroExpandOperator":
        flag("macro-expand", n.TextStart);
        break;
      case "FindOperator":
        flag("find", n.TextStart);
        break;
      case "SearchOperator":
        flag("search", n.TextStart);
        break;
      case "WildcardedName": {
        flag("union_wildcard", n.TextStart);
        // A wildcard reads every matching table: list them, so an allowed-tables check cannot pass vacuously.
        const pattern = String(n.ToString()).trim();
        for (const name of known) if (wildcardMatch(pattern, name)) tables.add(name);
        break;
      }
      case "FilterOperator":
        if (referencesTimeGenerated(n.Condition)) hasTimeFilter = true;
        break;
      case "FunctionCallExpression": {
        const name = String(n.Name?.SimpleName ?? "").toLowerCase();
        const cross = CROSS_RESOURCE[name];
        if (cross) flag(cross, n.TextStart);
        if (name === "table") {
          const args = n.ArgumentList?.Expressions;
          const first = args && args.Count > 0 ? args.getItem(0).Element : null;
          if (!first || typeName(first) !== "LiteralExpression" || typeof first.LiteralValue !== "string")
            flag("table_dynamic", n.TextStart);
          else if (known.has(first.LiteralValue)) tables.add(first.LiteralValue);
          else unknownTable(first.LiteralValue, first.TextStart);
        }
        break;
      }
      case "NameReference": {
        if (!n.ReferencedSymbol && n.Parent && TABULAR_PARENTS.has(typeName(n.Parent)) && n.Parent.Expression === n)
          unknownTable(String(n.SimpleName), n.TextStart);
        break;
      }
    }
    const r = n.ReferencedSymbol;
    if (r && t !== "WildcardedName" && !(t === "NameReference" && typeName(n.Name) === "WildcardedName")) {
      if (r.Kind === SymbolKind.Table && known.has(r.Name)) tables.add(r.Name);
      else if (r.Kind === SymbolKind.Function) functions.add(String(r.Name));
    }
  });
  // Binder errors that say a tabular name is unknown are unknown tables too (e.g. a name in union or join).
  for (const d of [...diagnostics])
    if (d.code === "KS204") {
      const name = /'([^']*)'/.exec(d.message)?.[1] ?? "";
      if (!diagnostics.some((x) => x.code === "unknown_table" && x.line === d.line && x.column === d.column))
        diagnostics.push({ ...d, code: "unknown_table", message: `unknown table "${name}"` });
    }
  tokenBelt(code, flag);
  // Tables reached through stored functions: the binder resolves the call, not into the body's tables.
  for (const f of schema.functions ?? []) {
    if (!functions.has(f.name)) continue;
    if (depth >= MAX_FUNCTION_DEPTH) {
      diagnostics.push({
        severity: "Error",
        code: "function_depth",
        message: `stored function "${f.name}" nests too deeply`,
        line: 1,
        column: 1,
      });
      continue;
    }
    const split = splitStoredFunction(f.body);
    const inner = analyze(split.declarations + split.body, schema, depth + 1);
    for (const t of inner.tables) tables.add(t);
    for (const fn of inner.functions) functions.add(fn);
    for (const x of inner.forbidden) flag(`${x.construct}`, 0);
    if (!inner.ok)
      diagnostics.push({
        severity: "Error",
        code: "function_body",
        message: `stored function "${f.name}" does not analyze cleanly`,
        line: 1,
        column: 1,
      });
  }
  const lineage = depth === 0 ? lineageFor(code, schema, tables, functions, options, at) : undefined;
  return {
    ok: !diagnostics.some((d) => d.severity === "Error"),
    diagnostics,
    tables: [...tables].sort(),
    functions: [...functions].sort(),
    operators: [...operators].sort(),
    forbidden,
    hasTimeFilter,
    ...(lineage ? { lineage } : {}),
  };
}

/** Lineage only when a redacted column belongs to a table the query reads (directly or through functions). */
function lineageFor(
  code: Any,
  schema: KqlSchema,
  tables: Set<string>,
  functions: Set<string>,
  options: KqlAnalysisOptions,
  at: (pos: number) => { line: number; column: number },
): LineageFacts | undefined {
  const applying: string[] = [];
  const seeds = new Set<string>();
  for (const spec of options.redactedColumns ?? []) {
    const dot = spec.indexOf(".");
    const table = spec.slice(0, dot);
    const column = spec.slice(dot + 1);
    const hit =
      table === "*"
        ? [...tables].some((t) => schema.tables.find((x) => x.name === t)?.columns.some((c) => c.name === column))
        : tables.has(table);
    if (!hit) continue;
    applying.push(spec);
    seeds.add(column);
  }
  if (!seeds.size) return undefined;
  const functionBodies = (schema.functions ?? [])
    .filter((f) => functions.has(f.name))
    .map((f) => {
      const split = splitStoredFunction(f.body);
      return K.KustoCode.ParseAndAnalyze(split.declarations + split.body, globalsFor(schema));
    });
  return analyzeLineage({
    K,
    Bridge: BridgeRt,
    code,
    functionBodies,
    seeds: [...seeds],
    redactedColumns: applying,
    at,
  });
}

/** `Sec*Alert` style table-name wildcard (only `*` is special). */
function wildcardMatch(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === name;
  if (!name.startsWith(parts[0]!) || !name.endsWith(parts[parts.length - 1]!)) return false;
  let from = parts[0]!.length;
  for (const mid of parts.slice(1, -1)) {
    const i = name.indexOf(mid, from);
    if (i < 0) return false;
    from = i + mid.length;
  }
  return from <= name.length - parts[parts.length - 1]!.length;
}

function referencesTimeGenerated(expr: Any): boolean {
  if (!expr) return false;
  let found = false;
  K.Syntax.SyntaxElement.WalkNodes(expr, (n: Any) => {
    const r = n.ReferencedSymbol;
    if (r && r.Kind === K.Symbols.SymbolKind.Column && r.Name === "TimeGenerated") found = true;
  });
  return found;
}

/**
 * A second, independent belt over the parser's tokens (not the raw text, so strings and comments never match):
 * forbidden names in any casing used as calls (`ExternalData(`, `Workspace(`), `evaluate`/`Evaluate` after a pipe,
 * and `union` followed by `*`. Miscased forms do not parse as the real construct, so they are errors anyway; this
 * keeps them visible as forbidden constructs too.
 */
function tokenBelt(code: Any, flag: (construct: string, pos: number) => void): void {
  const toks: { text: string; pos: number }[] = [];
  for (let tok = code.Syntax.GetFirstToken(); tok; tok = tok.GetNextToken()) {
    const text = String(tok.Text ?? "");
    if (text) toks.push({ text, pos: tok.TextStart });
  }
  for (let i = 0; i < toks.length; i++) {
    const w = toks[i]!.text.toLowerCase();
    const next = toks[i + 1]?.text;
    const prev = toks[i - 1]?.text;
    if (next === "(" && CROSS_RESOURCE[w]) flag(CROSS_RESOURCE[w]!, toks[i]!.pos);
    if (w === "externaldata") flag("externaldata", toks[i]!.pos);
    if (w === "evaluate" && prev === "|") flag("evaluate", toks[i]!.pos);
    if (w === "union" && next !== undefined && next.endsWith("*")) flag("union_wildcard", toks[i]!.pos);
  }
}

export async function analyzeKql(
  query: string,
  schema: KqlSchema,
  options: KqlAnalysisOptions = {},
): Promise<KqlAnalysis> {
  return analyzeKqlSync(query, schema, options);
}
