import { type Ctx, checkSize, fail, KQL_TYPES, type Table } from "./context.js";
import { KqlError } from "./errors.js";
import { compile, constant } from "./expr.js";
import { adoptIngestionTimes, ingestionTimeOf } from "./ingestion.js";
import { outputNames } from "./naming.js";
import { apply, union, unionPart } from "./operators.js";
import { type Expr, parseKql, type Query, type Source, type Tabular, type TabularLambda } from "./parser.js";
import type { KqlDataSource, KqlExecuteOptions, KqlResult } from "./types.js";
import type { Row } from "./values.js";

// The local engine: parse once, compile each expression to a closure once, then run operators over row arrays.

const MAX_FUNCTION_DEPTH = 8;

export function executeKql(query: string, source: KqlDataSource, opts: KqlExecuteOptions = {}): KqlResult {
  return prepareKql(query)(source, opts);
}

/** A parsed query that can be run many times, each run with its own data source and options (now, timespan). */
export type PreparedKql = (source: KqlDataSource, opts?: KqlExecuteOptions) => KqlResult;

/**
 * Parses once (throws KqlError on a syntax error); every run binds lets and compiles afresh, so now()/ago() and the
 * timespan follow that run's options. For evaluating one query over many windows (src/kql/slide.ts).
 */
export function prepareKql(query: string): PreparedKql {
  const q: Query = parseKql(query);
  return (source, opts = {}) => runPrepared(q, query, source, opts);
}

function runPrepared(q: Query, query: string, source: KqlDataSource, opts: KqlExecuteOptions): KqlResult {
  const ctx: Ctx = {
    text: query,
    source,
    opts,
    now: opts.now ?? Date.now(),
    scalars: new Map(),
    tabulars: new Map(),
    lambdas: new Map(),
    depth: 0,
    run: runTabular,
    reads: { tables: new Set(), storedFunctions: new Set() },
  };
  bindLets(q, ctx);
  const out = runTabular(q.body, ctx);
  if (opts.maxResultRows !== undefined && out.rows.length > opts.maxResultRows) {
    throw new KqlError({
      code: "limit",
      message: `result has ${out.rows.length} rows, over the limit of ${opts.maxResultRows}`,
    });
  }
  return {
    columns: out.columns,
    rows: out.rows,
    reads: { tables: [...ctx.reads.tables].sort(), storedFunctions: [...ctx.reads.storedFunctions].sort() },
  };
}

/** Binds let statements in order; `let X = Name;` is tabular when Name is a table, function or tabular let. */
function bindLets(q: Query, ctx: Ctx): void {
  for (const l of q.lets) {
    if (l.lambda) {
      ctx.lambdas.set(l.name, l.lambda);
      // Checked where it is defined, as Kusto binds it, not only when called: a body Kusto cannot parse (e.g.
      // `() { materialize(T) }`) must not be skipped by us while the analyzer gives up on the rest of the query.
      const params = new Map(
        l.lambda.params.map((p) => [p.name, { fn: () => null, type: KQL_TYPES[p.type] ?? "dynamic" }] as const),
      );
      compile(l.lambda.body, [], { ...ctx, params, depth: ctx.depth + 1 });
      continue;
    }
    if (l.tabular) {
      ctx.tabulars.set(l.name, l.tabular);
      continue;
    }
    if (l.tabFn) {
      if (!ctx.tabFns) ctx.tabFns = new Map();
      ctx.tabFns.set(l.name, l.tabFn);
      continue;
    }
    const e = l.scalar as Expr;
    if (e.k === "col" && !ctx.scalars.has(e.name) && isTabularName(e.name, ctx)) {
      ctx.tabulars.set(l.name, { source: { k: "table", name: e.name, pos: e.pos }, ops: [] });
      continue;
    }
    const c = compile(e, [], ctx);
    ctx.scalars.set(l.name, { value: c.fn([]), type: c.type });
    ctx.tabulars.delete(l.name);
  }
}

/** A let-bound tabular function: its parameters become scalar lets of a scope that sees the caller's lets. */
function callTabularFunction(src: Extract<Source, { k: "fncall" }>, ctx: Ctx): Table {
  const local = ctx.tabFns?.get(src.name);
  const stored = local ? undefined : storedWithParameters(src, ctx);
  const fn = local ?? stored?.fn;
  if (!fn) fail(ctx, "semantic", `tabular function "${src.name}" is not defined`, src.pos);
  if (src.args.length !== fn.params.length)
    fail(ctx, "semantic", `${src.name}() takes ${fn.params.length} argument(s), got ${src.args.length}`, src.pos);
  if (ctx.depth >= MAX_FUNCTION_DEPTH) fail(ctx, "semantic", `function "${src.name}" nests too deeply`, src.pos);
  // A let-bound function sees the caller's lets; a stored function's body only its own (and its parameters).
  const scalars = stored ? new Map() : new Map(ctx.scalars);
  const tabulars = stored ? new Map() : new Map(ctx.tabulars);
  fn.params.forEach((p, i) => {
    const c = compile(src.args[i]!, [], ctx);
    scalars.set(p.name, { value: c.fn([]), type: c.type });
    tabulars.delete(p.name);
  });
  const inner: Ctx = {
    ...ctx,
    ...(stored ? { text: stored.text } : {}),
    depth: ctx.depth + 1,
    scalars,
    tabulars,
    lambdas: stored ? new Map() : new Map(ctx.lambdas),
    tabFns: stored ? new Map() : new Map(ctx.tabFns),
  };
  bindLets(fn.body, inner);
  return runTabular(fn.body.body, inner);
}

const storedParsed = new Map<string, { fn: TabularLambda; text: string }>();

/**
 * A stored function with parameters (Log Analytics' `functionParameters`; Sentinel's `_GetWatchlist(alias)`): its
 * body is saved as `(p:type, ...) { query }`, parsed once per body text.
 */
function storedWithParameters(
  src: Extract<Source, { k: "fncall" }>,
  ctx: Ctx,
): { fn: TabularLambda; text: string } | undefined {
  const body = ctx.source.storedFunction?.(src.name);
  if (body === undefined) return undefined;
  if (!body.trimStart().startsWith("("))
    fail(ctx, "semantic", `stored function "${src.name}" takes no arguments: write ${src.name}()`, src.pos);
  let hit = storedParsed.get(body);
  if (!hit) {
    const text = `let ${src.name} = ${body};\nprint 0`;
    const q = parseKql(text);
    const fn = q.lets[0]?.tabFn;
    if (!fn) fail(ctx, "semantic", `stored function "${src.name}" does not have a tabular body`, src.pos);
    hit = { fn, text };
    if (storedParsed.size > 64) storedParsed.clear();
    storedParsed.set(body, hit);
  }
  ctx.reads.storedFunctions.add(src.name);
  return hit;
}

/** union legs; with isfuzzy=true a leg naming a table or function that does not exist is skipped, as Kusto does. */
export function fuzzyParts(tables: Tabular[], fuzzy: boolean, first: number, ctx: Ctx): { t: Table; name: string }[] {
  const out: { t: Table; name: string }[] = [];
  tables.forEach((t, i) => {
    if (!fuzzy) {
      out.push(unionPart(t, i + first, ctx));
      return;
    }
    try {
      out.push(unionPart(t, i + first, ctx));
    } catch (err) {
      if (!(err instanceof KqlError && err.info.code === "semantic" && / does not exist/.test(err.info.message)))
        throw err;
    }
  });
  return out;
}

function isTabularName(name: string, ctx: Ctx): boolean {
  return (
    ctx.tabulars.has(name) || ctx.source.table(name) !== undefined || ctx.source.storedFunction?.(name) !== undefined
  );
}

function runTabular(t: Tabular, octx: Ctx): Table {
  // A nested tabular expression (toscalar, `in (T)`, a subquery) starts outside any operator's row window.
  const ctx = octx.win ? { ...octx, win: undefined } : octx;
  let table = runSource(t.source, ctx);
  for (const op of t.ops) table = apply(op, table, ctx);
  return table;
}

function runSource(src: Source, ctx: Ctx): Table {
  switch (src.k) {
    case "table": {
      if (src.nameParam !== undefined) {
        const p = ctx.scalars.get(src.nameParam);
        if (!p || typeof p.value !== "string")
          fail(ctx, "semantic", `table(${src.nameParam}) needs a string parameter or let`, src.pos);
        return scan(p.value, src.pos, ctx, "table()");
      }
      return scan(src.name, src.pos, ctx, src.call ? "call" : src.tableFn ? "table()" : "name");
    }
    case "fncall":
      return callTabularFunction(src, ctx);
    case "sub":
      return runTabular(src.t, ctx);
    case "union":
      return union(fuzzyParts(src.tables, src.fuzzy === true, 0, ctx), src.withsource, ctx, src.pos);
    case "datatable": {
      const columns = src.columns.map((c) => {
        const type = KQL_TYPES[c.type];
        if (!type) fail(ctx, "semantic", `unknown type "${c.type}" in datatable`, src.pos);
        return { name: c.name, type };
      });
      if (src.values.length % columns.length !== 0)
        fail(ctx, "semantic", `datatable has ${src.values.length} values for ${columns.length} columns`, src.pos);
      const vals = src.values.map((v) => constant(v, ctx));
      const rows: Row[] = [];
      for (let i = 0; i < vals.length; i += columns.length) rows.push(vals.slice(i, i + columns.length));
      return { columns, rows };
    }
    case "range": {
      const from = compile(src.from, [], ctx);
      const start = Number(from.fn([]));
      const to = Number(constant(src.to, ctx));
      const step = Number(constant(src.step, ctx));
      if (!(step > 0)) fail(ctx, "semantic", "range step must be positive", src.pos);
      checkSize(ctx, Math.floor((to - start) / step) + 1, "range", src.pos, "(a smaller to, or a larger step)");
      const rows: Row[] = [];
      for (let v = start; v <= to; v += step) rows.push([v]);
      return { columns: [{ name: src.name, type: from.type }], rows, serialized: true };
    }
    case "print": {
      const names = outputNames(src.items).map((n, i) => (/^Column\d+$/.test(n) ? `print_${i}` : n));
      const items = src.items.map((it) => compile(it.e, [], ctx));
      return {
        columns: items.map((c, i) => ({ name: names[i]!, type: c.type })),
        rows: [items.map((c) => c.fn([]))],
      };
    }
  }
}

/**
 * Resolves a name to rows: a let-bound tabular expression, then a table, then a stored function. Every table scan
 * applies the API timespan as a hard bound, so no query shape (let, join, union, function) can see past it.
 */
function scan(name: string, pos: number, ctx: Ctx, how: "name" | "call" | "table()" = "name"): Table {
  // Resolve exactly as Kusto binds: F() is a function call (a table cannot be called), table("X") names a table.
  const letT = how === "name" ? ctx.tabulars.get(name) : undefined;
  if (letT) return runTabular(letT, ctx);
  const t = how !== "call" ? ctx.source.table(name) : undefined;
  if (how === "call" && (ctx.tabulars.has(name) || ctx.source.table(name)))
    fail(ctx, "semantic", `"${name}" is a table, not a function: write ${name} without ()`, pos);
  if (t) {
    ctx.reads.tables.add(t.name);
    adoptIngestionTimes(t);
    const span = ctx.opts.unboundedTables?.includes(t.name) ? undefined : ctx.opts.timespan;
    const ti = t.columns.findIndex((c) => c.name === "TimeGenerated");
    const by = ctx.opts.ingestedBy;
    if ((span && ti >= 0) || by !== undefined) {
      const rows: Row[] = [];
      const start = span && ti >= 0 ? span.start : Number.NEGATIVE_INFINITY;
      const end = span && ti >= 0 ? span.end : Number.POSITIVE_INFINITY;
      for (const r of t.rows) {
        if (by !== undefined) {
          const at = ingestionTimeOf(r);
          if (at !== null && at > by) continue;
        }
        if (ti < 0 || !span) {
          rows.push(r);
          continue;
        }
        const v = r[ti];
        if (typeof v === "number" && v >= start && v < end) rows.push(r);
      }
      return { columns: t.columns, rows };
    }
    return { columns: t.columns, rows: t.rows };
  }
  const body = how !== "table()" ? ctx.source.storedFunction?.(name) : undefined;
  if (body !== undefined) {
    if (ctx.depth >= MAX_FUNCTION_DEPTH) fail(ctx, "semantic", `stored function "${name}" nests too deeply`, pos);
    ctx.reads.storedFunctions.add(name);
    const q = parseKql(body);
    // A function body sees only its own lets, never the caller's.
    const inner: Ctx = {
      ...ctx,
      text: body,
      depth: ctx.depth + 1,
      tabulars: new Map(),
      scalars: new Map(),
      lambdas: new Map(),
    };
    bindLets(q, inner);
    return runTabular(q.body, inner);
  }
  fail(ctx, "semantic", `table or function "${name}" does not exist`, pos);
}
