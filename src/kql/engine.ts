import { KqlError, positionOf } from "./errors.js";
import { type Expr, type NamedExpr, type Op, parseKql, type Query, type Tabular } from "./parser.js";
import type { KqlColumn, KqlDataSource, KqlExecuteOptions, KqlResult, KqlType, KqlValue } from "./types.js";

// The local engine: compiles each expression once to a closure over row arrays, then streams operators.

type Row = KqlValue[];
type Fn = (row: Row) => KqlValue;
interface Compiled {
  fn: Fn;
  type: KqlType;
}
interface Table {
  columns: KqlColumn[];
  rows: Row[];
}

interface Ctx {
  text: string;
  source: KqlDataSource;
  opts: KqlExecuteOptions;
  now: number;
  scalars: Map<string, { value: KqlValue; type: KqlType }>;
  tabulars: Map<string, Tabular>;
  depth: number;
}

export function executeKql(query: string, source: KqlDataSource, opts: KqlExecuteOptions = {}): KqlResult {
  const q: Query = parseKql(query);
  const ctx: Ctx = {
    text: query,
    source,
    opts,
    now: opts.now ?? Date.now(),
    scalars: new Map(),
    tabulars: new Map(),
    depth: 0,
  };
  for (const l of q.lets) {
    if (l.tabular) ctx.tabulars.set(l.name, l.tabular);
    else {
      const c = compile(l.scalar!, [], ctx);
      ctx.scalars.set(l.name, { value: c.fn([]), type: c.type });
    }
  }
  const out = runTabular(q.body, ctx);
  if (opts.maxResultRows !== undefined && out.rows.length > opts.maxResultRows) {
    throw new KqlError({
      code: "limit",
      message: `result has ${out.rows.length} rows, over the limit of ${opts.maxResultRows}`,
    });
  }
  return out;
}

function fail(ctx: Ctx, code: "semantic" | "unsupported", message: string, pos: number): never {
  throw new KqlError({ code, message, ...positionOf(ctx.text, pos) });
}

function runTabular(t: Tabular, ctx: Ctx): Table {
  let table = scan(t.source.name, t.source.pos, ctx);
  for (const op of t.ops) table = apply(op, table, ctx);
  return table;
}

function scan(name: string, pos: number, ctx: Ctx): Table {
  const letT = ctx.tabulars.get(name);
  if (letT) return runTabular(letT, ctx);
  const t = ctx.source.table(name);
  if (t) {
    const span = ctx.opts.timespan;
    const ti = t.columns.findIndex((c) => c.name === "TimeGenerated");
    if (span && ti >= 0) {
      return {
        columns: t.columns,
        rows: t.rows.filter(
          (r) => typeof r[ti] === "number" && (r[ti] as number) >= span.start && (r[ti] as number) < span.end,
        ),
      };
    }
    return { columns: t.columns, rows: t.rows };
  }
  const body = ctx.source.storedFunction?.(name);
  if (body !== undefined) {
    if (ctx.depth > 8) fail(ctx, "semantic", `stored function "${name}" recurses too deeply`, pos);
    const q = parseKql(body);
    return runTabular(q.body, { ...ctx, text: body, depth: ctx.depth + 1, tabulars: new Map() });
  }
  fail(ctx, "semantic", `table or function "${name}" does not exist`, pos);
}

function colIndex(columns: KqlColumn[], name: string, ctx: Ctx, pos: number): number {
  const i = columns.findIndex((c) => c.name === name);
  if (i < 0)
    fail(ctx, "semantic", `column "${name}" does not exist (columns: ${columns.map((c) => c.name).join(", ")})`, pos);
  return i;
}

function apply(op: Op, t: Table, ctx: Ctx): Table {
  switch (op.k) {
    case "where": {
      const p = compile(op.e, t.columns, ctx).fn;
      return { columns: t.columns, rows: t.rows.filter((r) => p(r) === true) };
    }
    case "take": {
      const n = Number(compile(op.n, [], ctx).fn([]));
      return { columns: t.columns, rows: t.rows.slice(0, Math.max(0, n)) };
    }
    case "project":
    case "extend": {
      const items = op.items.map((it, i) => ({
        name: outName(it, t.columns.length + i),
        c: compile(it.e, t.columns, ctx),
      }));
      if (op.k === "project") {
        return {
          columns: items.map((i) => ({ name: i.name, type: i.c.type })),
          rows: t.rows.map((r) => items.map((i) => i.c.fn(r))),
        };
      }
      const columns = [...t.columns];
      const slots = items.map((i) => {
        const existing = columns.findIndex((c) => c.name === i.name);
        if (existing >= 0) {
          columns[existing] = { name: i.name, type: i.c.type };
          return existing;
        }
        columns.push({ name: i.name, type: i.c.type });
        return columns.length - 1;
      });
      return {
        columns,
        rows: t.rows.map((r) => {
          const out = r.slice();
          items.forEach((i, j) => {
            out[slots[j]!] = i.c.fn(r);
          });
          return out;
        }),
      };
    }
    case "project-away": {
      const drop = new Set(op.cols.map((c) => colIndex(t.columns, c, ctx, op.pos)));
      const keep = t.columns.map((_, i) => i).filter((i) => !drop.has(i));
      return { columns: keep.map((i) => t.columns[i]!), rows: t.rows.map((r) => keep.map((i) => r[i]!)) };
    }
    case "summarize":
      return summarize(op.aggs, op.by, t, ctx);
    case "sort": {
      const keys = op.keys.map((k) => ({ fn: compile(k.e, t.columns, ctx).fn, desc: k.desc }));
      const rows = t.rows.slice().sort((a, b) => {
        for (const k of keys) {
          const c = compareValues(k.fn(a), k.fn(b), k.desc);
          if (c !== 0) return c;
        }
        return 0;
      });
      return { columns: t.columns, rows };
    }
    case "top": {
      const n = Number(compile(op.n, [], ctx).fn([]));
      const sorted = apply({ k: "sort", keys: [op.key], pos: op.pos }, t, ctx);
      return { columns: t.columns, rows: sorted.rows.slice(0, n) };
    }
    case "count":
      return { columns: [{ name: "Count", type: "long" }], rows: [[t.rows.length]] };
    case "distinct":
      return summarize([], op.items, t, ctx);
    case "render":
      return t;
  }
}

/** Kusto sort order: nulls last when descending, first when ascending. */
function compareValues(a: KqlValue, b: KqlValue, desc: boolean): number {
  if (a === b) return 0;
  if (a === null) return desc ? 1 : -1;
  if (b === null) return desc ? -1 : 1;
  const c = typeof a === "string" && typeof b === "string" ? (a < b ? -1 : 1) : (a as number) < (b as number) ? -1 : 1;
  return desc ? -c : c;
}

function outName(it: NamedExpr, index: number): string {
  if (it.name) return it.name;
  if (it.e.k === "col") return it.e.name;
  if (it.e.k === "call" && it.e.name === "bin" && it.e.args[0]?.k === "col") return it.e.args[0].name;
  return `Column${index + 1}`;
}

const AGG_NAMES = new Set([
  "count",
  "countif",
  "dcount",
  "sum",
  "avg",
  "min",
  "max",
  "make_set",
  "make_list",
  "take_any",
  "any",
]);

interface Agg {
  name: string;
  type: KqlType;
  init(): unknown;
  step(state: unknown, row: Row): unknown;
  done(state: unknown): KqlValue;
}

function aggregate(it: NamedExpr, columns: KqlColumn[], ctx: Ctx): Agg {
  const e = it.e;
  if (e.k !== "call" || !AGG_NAMES.has(e.name))
    fail(
      ctx,
      "unsupported",
      `summarize needs an aggregation function here (supported: ${[...AGG_NAMES].join(", ")})`,
      e.pos,
    );
  const arg = e.args[0] ? compile(e.args[0], columns, ctx) : undefined;
  const argName = e.args[0]?.k === "col" ? e.args[0].name : "";
  const named = (prefix: string) => it.name ?? (argName ? `${prefix}_${argName}` : `${prefix}_`);
  const need = () => arg ?? fail(ctx, "semantic", `${e.name}() needs an argument`, e.pos);
  switch (e.name) {
    case "count":
      return {
        name: it.name ?? "count_",
        type: "long",
        init: () => 0,
        step: (s) => (s as number) + 1,
        done: (s) => s as number,
      };
    case "countif": {
      const p = need().fn;
      return {
        name: it.name ?? "countif_",
        type: "long",
        init: () => 0,
        step: (s, r) => (s as number) + (p(r) === true ? 1 : 0),
        done: (s) => s as number,
      };
    }
    case "dcount": {
      const f = need().fn;
      return {
        name: named("dcount"),
        type: "long",
        init: () => new Set(),
        step: (s, r) => (s as Set<unknown>).add(keyOf(f(r))),
        done: (s) => (s as Set<unknown>).size,
      };
    }
    case "sum": {
      const f = need().fn;
      return {
        name: named("sum"),
        type: need().type === "real" ? "real" : "long",
        init: () => 0,
        step: (s, r) => (s as number) + (Number(f(r)) || 0),
        done: (s) => s as number,
      };
    }
    case "avg": {
      const f = need().fn;
      return {
        name: named("avg"),
        type: "real",
        init: () => [0, 0],
        step: (s, r) => {
          const v = f(r);
          const st = s as number[];
          if (v !== null) {
            st[0]! += Number(v);
            st[1]! += 1;
          }
          return st;
        },
        done: (s) => ((s as number[])[1] ? (s as number[])[0]! / (s as number[])[1]! : null),
      };
    }
    case "min":
    case "max": {
      const c = need();
      const better =
        e.name === "min"
          ? (a: KqlValue, b: KqlValue) => compareValues(a, b, false) < 0
          : (a: KqlValue, b: KqlValue) => compareValues(a, b, false) > 0;
      return {
        name: named(e.name),
        type: c.type,
        init: () => null,
        step: (s, r) => {
          const v = c.fn(r);
          return v !== null && (s === null || better(v, s as KqlValue)) ? v : s;
        },
        done: (s) => s as KqlValue,
      };
    }
    case "make_set":
    case "make_list": {
      const f = need().fn;
      const set = e.name === "make_set";
      return {
        name: named(e.name),
        type: "dynamic",
        init: () => ({ seen: new Set<string>(), out: [] as unknown[] }),
        step: (s, r) => {
          const st = s as { seen: Set<string>; out: unknown[] };
          const v = f(r);
          if (v === null) return st;
          const k = JSON.stringify(v);
          if (!set || !st.seen.has(k)) {
            st.seen.add(k);
            st.out.push(v);
          }
          return st;
        },
        done: (s) => (s as { out: unknown[] }).out,
      };
    }
    default: {
      const c = need();
      return {
        name: named(e.name),
        type: c.type,
        init: () => undefined,
        step: (s, r) => (s === undefined ? c.fn(r) : s),
        done: (s) => (s === undefined ? null : (s as KqlValue)),
      };
    }
  }
}

function keyOf(v: KqlValue): unknown {
  return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
}

function summarize(aggItems: NamedExpr[], byItems: NamedExpr[], t: Table, ctx: Ctx): Table {
  const by = byItems.map((it, i) => ({ name: outName(it, i), c: compile(it.e, t.columns, ctx) }));
  const aggs = aggItems.map((it) => aggregate(it, t.columns, ctx));
  const groups = new Map<string, { key: KqlValue[]; states: unknown[] }>();
  for (const r of t.rows) {
    const key = by.map((b) => b.c.fn(r));
    const k = key.length === 1 ? String(keyOf(key[0]!)) : JSON.stringify(key.map(keyOf));
    let g = groups.get(k);
    if (!g) {
      g = { key, states: aggs.map((a) => a.init()) };
      groups.set(k, g);
    }
    for (let i = 0; i < aggs.length; i++) g.states[i] = aggs[i]!.step(g.states[i], r);
  }
  // Kusto returns one row for an aggregation without `by`, even over no rows.
  if (by.length === 0 && groups.size === 0 && aggs.length > 0)
    groups.set("", { key: [], states: aggs.map((a) => a.init()) });
  return {
    columns: [
      ...by.map((b) => ({ name: b.name, type: b.c.type })),
      ...aggs.map((a) => ({ name: a.name, type: a.type })),
    ],
    rows: [...groups.values()].map((g) => [...g.key, ...g.states.map((s, i) => aggs[i]!.done(s))]),
  };
}

const lower = (v: KqlValue) => (v === null ? "" : String(v).toLowerCase());

/** `has`: the right side is a whole term of the left (terms are runs of letters and digits), case-insensitive. */
function hasTerm(hay: string, needle: string): boolean {
  if (needle === "") return true;
  let from = 0;
  for (;;) {
    const i = hay.indexOf(needle, from);
    if (i < 0) return false;
    const before = i === 0 ? "" : hay[i - 1]!;
    const after = hay[i + needle.length] ?? "";
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return true;
    from = i + 1;
  }
}

function compile(e: Expr, columns: KqlColumn[], ctx: Ctx): Compiled {
  switch (e.k) {
    case "lit":
      return { fn: () => e.v, type: e.type === "dynamic" ? "dynamic" : e.type };
    case "col": {
      const s = ctx.scalars.get(e.name);
      const i = columns.findIndex((c) => c.name === e.name);
      if (i < 0 && s) return { fn: () => s.value, type: s.type };
      const idx = colIndex(columns, e.name, ctx, e.pos);
      return { fn: (r) => r[idx] ?? null, type: columns[idx]!.type };
    }
    case "not": {
      const f = compile(e.e, columns, ctx).fn;
      return { fn: (r) => f(r) !== true, type: "bool" };
    }
    case "neg": {
      const c = compile(e.e, columns, ctx);
      return { fn: (r) => (c.fn(r) === null ? null : -(c.fn(r) as number)), type: c.type };
    }
    case "in": {
      const f = compile(e.e, columns, ctx).fn;
      const list = e.list.map((x) => compile(x, [], ctx).fn([]));
      const set = new Set(e.ci ? list.map(lower) : list);
      return { fn: (r) => set.has(e.ci ? lower(f(r)) : (f(r) as never)) !== e.negate, type: "bool" };
    }
    case "bin":
      return compileBinary(e, columns, ctx);
    case "call":
      return compileCall(e, columns, ctx);
  }
}

function compileBinary(e: Extract<Expr, { k: "bin" }>, columns: KqlColumn[], ctx: Ctx): Compiled {
  const l = compile(e.l, columns, ctx);
  const r = compile(e.r, columns, ctx);
  const L = l.fn;
  const R = r.fn;
  const bool = (fn: Fn): Compiled => ({ fn, type: "bool" });
  switch (e.op) {
    case "and":
      return bool((x) => L(x) === true && R(x) === true);
    case "or":
      return bool((x) => L(x) === true || R(x) === true);
    case "==":
      return bool((x) => {
        const a = L(x);
        const b = R(x);
        return a !== null && b !== null && a === b;
      });
    case "!=":
      return bool((x) => {
        const a = L(x);
        const b = R(x);
        return a !== null && b !== null && a !== b;
      });
    case "=~":
      return bool((x) => lower(L(x)) === lower(R(x)));
    case "!~":
      return bool((x) => lower(L(x)) !== lower(R(x)));
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const op = e.op;
      return bool((x) => {
        const a = L(x);
        const b = R(x);
        if (a === null || b === null) return false;
        return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
      });
    }
    case "has":
      return bool((x) => hasTerm(lower(L(x)), lower(R(x))));
    case "has_cs":
      return bool((x) => hasTerm(String(L(x) ?? ""), String(R(x) ?? "")));
    case "contains":
      return bool((x) => lower(L(x)).includes(lower(R(x))));
    case "contains_cs":
      return bool((x) => String(L(x) ?? "").includes(String(R(x) ?? "")));
    case "startswith":
      return bool((x) => lower(L(x)).startsWith(lower(R(x))));
    case "endswith":
      return bool((x) => lower(L(x)).endsWith(lower(R(x))));
    case "+":
    case "-":
    case "*":
    case "/":
    case "%": {
      const op = e.op;
      const type: KqlType =
        l.type === "datetime" && r.type === "datetime" && op === "-"
          ? "timespan"
          : l.type === "datetime" || r.type === "datetime"
            ? "datetime"
            : l.type === "timespan" && r.type === "timespan"
              ? "timespan"
              : l.type === "real" || r.type === "real" || op === "/"
                ? "real"
                : l.type;
      if (op === "+" && (l.type === "string" || r.type === "string"))
        fail(ctx, "unsupported", `"+" on strings is not KQL; use strcat()`, e.pos);
      return {
        type,
        fn: (x) => {
          const a = L(x);
          const b = R(x);
          if (a === null || b === null) return null;
          const n = a as number;
          const m = b as number;
          const v = op === "+" ? n + m : op === "-" ? n - m : op === "*" ? n * m : op === "/" ? n / m : n % m;
          return type === "long" && op === "/" ? Math.trunc(v) : v;
        },
      };
    }
    default:
      fail(ctx, "unsupported", `operator "${e.op}" is not supported by the local engine`, e.pos);
  }
}

function compileCall(e: Extract<Expr, { k: "call" }>, columns: KqlColumn[], ctx: Ctx): Compiled {
  const args = e.args.map((a) => compile(a, columns, ctx));
  const a0 = args[0]?.fn ?? (() => null);
  const a1 = args[1]?.fn ?? (() => null);
  const want = (n: number) => {
    if (args.length < n) fail(ctx, "semantic", `${e.name}() needs ${n} argument(s)`, e.pos);
  };
  switch (e.name) {
    case "ago":
      want(1);
      return { fn: (r) => ctx.now - (a0(r) as number), type: "datetime" };
    case "now":
      return { fn: (r) => ctx.now + (args[0] ? (a0(r) as number) : 0), type: "datetime" };
    case "bin":
    case "floor":
      want(2);
      return {
        fn: (r) => {
          const v = a0(r);
          const s = a1(r) as number;
          return v === null || !s ? null : Math.floor((v as number) / s) * s;
        },
        type: args[0]!.type,
      };
    case "startofday":
      want(1);
      return {
        fn: (r) => (a0(r) === null ? null : Math.floor((a0(r) as number) / 86_400_000) * 86_400_000),
        type: "datetime",
      };
    case "tostring":
      return {
        fn: (r) => (a0(r) === null ? "" : typeof a0(r) === "object" ? JSON.stringify(a0(r)) : String(a0(r))),
        type: "string",
      };
    case "toint":
    case "tolong": {
      return {
        fn: (r) => (a0(r) === null || Number.isNaN(Number(a0(r))) ? null : Math.trunc(Number(a0(r)))),
        type: e.name === "toint" ? "int" : "long",
      };
    }
    case "todouble":
    case "toreal":
      return { fn: (r) => (a0(r) === null || Number.isNaN(Number(a0(r))) ? null : Number(a0(r))), type: "real" };
    case "tolower":
      return { fn: (r) => lower(a0(r)), type: "string" };
    case "toupper":
      return { fn: (r) => String(a0(r) ?? "").toUpperCase(), type: "string" };
    case "strlen":
      return { fn: (r) => String(a0(r) ?? "").length, type: "long" };
    case "strcat":
      return { fn: (r) => args.map((a) => String(a.fn(r) ?? "")).join(""), type: "string" };
    case "isempty":
      return { fn: (r) => a0(r) === null || a0(r) === "", type: "bool" };
    case "isnotempty":
      return { fn: (r) => a0(r) !== null && a0(r) !== "", type: "bool" };
    case "isnull":
      return { fn: (r) => a0(r) === null, type: "bool" };
    case "isnotnull":
      return { fn: (r) => a0(r) !== null, type: "bool" };
    case "iff":
    case "iif": {
      want(3);
      const a2 = args[2]!.fn;
      return { fn: (r) => (a0(r) === true ? a1(r) : a2(r)), type: args[1]!.type };
    }
    case "coalesce":
      return {
        fn: (r) => args.map((a) => a.fn(r)).find((v) => v !== null && v !== "") ?? null,
        type: args[0]?.type ?? "string",
      };
    case "round":
      return {
        fn: (r) => (a0(r) === null ? null : Number((a0(r) as number).toFixed(args[1] ? (a1(r) as number) : 0))),
        type: "real",
      };
    case "abs":
      return { fn: (r) => (a0(r) === null ? null : Math.abs(a0(r) as number)), type: args[0]?.type ?? "real" };
    case "__has_any": {
      const f = a0;
      const terms = args.slice(1).map((a) => lower(a.fn([])));
      return { fn: (r) => terms.some((t) => hasTerm(lower(f(r)), t)), type: "bool" };
    }
    case "__matches": {
      const pattern = String(args[1]!.fn([]));
      let re: RegExp;
      try {
        re = new RegExp(pattern);
      } catch {
        fail(ctx, "semantic", `invalid regular expression "${pattern}"`, e.pos);
      }
      return { fn: (r) => re.test(String(a0(r) ?? "")), type: "bool" };
    }
    default:
      if (AGG_NAMES.has(e.name)) fail(ctx, "semantic", `aggregation ${e.name}() is only valid in summarize`, e.pos);
      fail(ctx, "unsupported", `function ${e.name}() is not supported by the local engine`, e.pos);
  }
}
