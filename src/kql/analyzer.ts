import { createRequire } from "node:module";
import type { KqlColumn } from "./types.js";

// Policy analysis runs on Microsoft's Kusto language service (the same parser and binder Azure uses), loaded lazily
// once: it costs ~0.5 s and ~200 MB. Referenced tables come from the binder's symbols, so let-aliases, stored
// functions, joins and unions resolve to the real tables; forbidden constructs come from syntax node types, never
// from regexes over the text.

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
  tables: string[];
  functions: string[];
  operators: string[];
  forbidden: { construct: string; line: number; column: number }[];
  hasTimeFilter: boolean;
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
  const members: Any[] = schema.tables.map(
    (t) => new sym.TableSymbol.$ctor7(t.name, `(${t.columns.map((c) => `['${c.name}']:${c.type}`).join(", ")})`, null),
  );
  for (const f of schema.functions ?? [])
    members.push(new sym.FunctionSymbol.$ctor16(f.name, "()", `{ ${f.body} }`, null));
  const db = new sym.DatabaseSymbol.ctor("workspace", members);
  const globals = K.GlobalState.Default.WithDatabase(db);
  globalsCache.set(key, globals);
  return globals;
}

const CROSS_RESOURCE = new Set(["workspace", "app", "cluster", "database", "resource", "adx"]);

function typeName(n: Any): string {
  return String(BridgeRt.getTypeName(n)).replace("Kusto.Language.Syntax.", "");
}

export function analyzeKqlSync(query: string, schema: KqlSchema): KqlAnalysis {
  load();
  const code = K.KustoCode.ParseAndAnalyze(query, globalsFor(schema));
  const lineOf = (pos: number): { line: number; column: number } => {
    const line = { v: 0 };
    const off = { v: 0 };
    if (code.TryGetLineAndOffset(pos, line, off)) return { line: line.v, column: off.v };
    return { line: 1, column: pos + 1 };
  };
  const diagnostics: KqlDiagnostic[] = [];
  const diags = code.GetDiagnostics();
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    const severity = String(d.Severity);
    diagnostics.push({ severity, message: d.Message, code: d.Code, ...lineOf(d.Start) });
  }
  const tables = new Set<string>();
  const functions = new Set<string>();
  const operators = new Set<string>();
  const forbidden: KqlAnalysis["forbidden"] = [];
  let hasTimeFilter = false;
  const flag = (construct: string, n: Any) => {
    const at = lineOf(n.TextStart);
    if (!forbidden.some((f) => f.construct === construct && f.line === at.line && f.column === at.column))
      forbidden.push({ construct, ...at });
  };

  if (String(code.Kind) !== "Query") {
    forbidden.push({ construct: "control_command", line: 1, column: 1 });
  }
  K.Syntax.SyntaxElement.WalkNodes(code.Syntax, (n: Any) => {
    const t = typeName(n);
    if (t.endsWith("Operator")) operators.add(t.replace(/Operator$/, "").toLowerCase());
    if (t === "ExternalDataExpression") flag("externaldata", n);
    if (t === "EvaluateOperator") flag("evaluate", n);
    if (t === "CustomCommand" || t.includes("Command")) flag("control_command", n);
    if (t === "UnionOperator" || t === "FindOperator" || t === "SearchOperator") {
      const text = String(n.ToString());
      if (/\*/.test(text.replace(/\/\/.*$/gm, "")) || t !== "UnionOperator")
        flag(t === "UnionOperator" ? "union_wildcard" : t.replace("Operator", "").toLowerCase(), n);
    }
    if (t === "FunctionCallExpression") {
      const name = String(n.Name?.SimpleName ?? "").toLowerCase();
      if (CROSS_RESOURCE.has(name)) flag(name, n);
      if (name === "external_table") flag("externaldata", n);
      if (name === "table") {
        const args = n.ArgumentList?.Expressions;
        const first = args && args.Count > 0 ? args.getItem(0).Element : null;
        if (!first || typeName(first) !== "LiteralExpression") flag("table_dynamic", n);
        else
          tables.add(
            String(first.ToString())
              .trim()
              .replace(/^@?['"]|['"]$/g, ""),
          );
      }
    }
    const r = n.ReferencedSymbol;
    if (r) {
      if (r.Kind === K.Symbols.SymbolKind.Table) tables.add(r.Name);
      else if (r.Kind === K.Symbols.SymbolKind.Function) functions.add(r.Name);
      else if (r.Kind === K.Symbols.SymbolKind.Column && r.Name === "TimeGenerated") hasTimeFilter = true;
    }
  });
  // Tables reached through stored functions: the binder resolves the call, but not into the body's tables.
  for (const f of schema.functions ?? []) {
    if (functions.has(f.name)) for (const t of analyzeKqlSync(f.body, { tables: schema.tables }).tables) tables.add(t);
  }
  const errors = diagnostics.filter((d) => d.severity === "Error");
  return {
    ok: errors.length === 0,
    diagnostics,
    tables: [...tables].sort(),
    functions: [...functions].sort(),
    operators: [...operators].sort(),
    forbidden,
    hasTimeFilter,
  };
}

export async function analyzeKql(query: string, schema: KqlSchema): Promise<KqlAnalysis> {
  return analyzeKqlSync(query, schema);
}
