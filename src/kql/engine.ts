import { createHash } from "node:crypto";
import { KqlError, positionOf } from "./errors.js";
import { type Expr, type NamedExpr, type Op, parseKql, type Query, type Source, type Tabular } from "./parser.js";
import { seriesDecomposeAnomalies, seriesOutliers } from "./series.js";
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
  let table = runSource(t.source, ctx);
  for (const op of t.ops) table = apply(op, table, ctx);
  return table;
}

const KQL_TYPES: Record<string, KqlType> = {
  string: "string",
  int: "int",
  long: "long",
  real: "real",
  double: "real",
  bool: "bool",
  boolean: "bool",
  datetime: "datetime",
  date: "datetime",
  timespan: "timespan",
  time: "timespan",
  dynamic: "dynamic",
  guid: "guid",
  decimal: "decimal",
};

function runSource(src: Source, ctx: Ctx): Table {
  switch (src.k) {
    case "table":
      return scan(src.name, src.pos, ctx);
    case "sub":
      return runTabular(src.t, ctx);
    case "union":
      return union(
        src.tables.map((t) => ({ t: runTabular(t, ctx), name: t.source.k === "table" ? t.source.name : "" })),
        src.withsource,
      );
    case "datatable": {
      const columns = src.columns.map((c) => {
        const type = KQL_TYPES[c.type];
        if (!type) fail(ctx, "semantic", `unknown type "${c.type}" in datatable`, src.pos);
        return { name: c.name, type };
      });
      if (src.values.length % columns.length !== 0)
        fail(ctx, "semantic", `datatable has ${src.values.length} values for ${columns.length} columns`, src.pos);
      const vals = src.values.map((v) => compile(v, [], ctx).fn([]));
      const rows: Row[] = [];
      for (let i = 0; i < vals.length; i += columns.length) rows.push(vals.slice(i, i + columns.length));
      return { columns, rows };
    }
    case "range": {
      const from = compile(src.from, [], ctx);
      const to = Number(compile(src.to, [], ctx).fn([]));
      const step = Number(compile(src.step, [], ctx).fn([]));
      if (!(step > 0)) fail(ctx, "semantic", "range step must be positive", src.pos);
      const start = Number(from.fn([]));
      if ((to - start) / step > 1_000_000)
        fail(ctx, "semantic", "range would produce more than 1,000,000 rows", src.pos);
      const rows: Row[] = [];
      for (let v = start; v <= to; v += step) rows.push([v]);
      return { columns: [{ name: src.name, type: from.type === "real" ? "real" : from.type }], rows };
    }
    case "print": {
      const items = src.items.map((it, i) => ({ name: it.name ?? `print_${i}`, c: compile(it.e, [], ctx) }));
      return { columns: items.map((i) => ({ name: i.name, type: i.c.type })), rows: [items.map((i) => i.c.fn([]))] };
    }
  }
}

/** union: columns by name across inputs (types from the first seen), missing values null. */
function union(parts: { t: Table; name: string }[], withsource?: string): Table {
  const columns: KqlColumn[] = withsource ? [{ name: withsource, type: "string" }] : [];
  for (const p of parts) for (const c of p.t.columns) if (!columns.some((x) => x.name === c.name)) columns.push(c);
  const rows: Row[] = [];
  for (const p of parts) {
    const map = columns.map((c) =>
      withsource && c.name === withsource ? -2 : p.t.columns.findIndex((x) => x.name === c.name),
    );
    for (const r of p.t.rows) rows.push(map.map((i) => (i === -2 ? p.name : i < 0 ? null : r[i]!)));
  }
  return { columns, rows };
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
    case "union":
      return union(
        [
          { t, name: "" },
          ...op.tables.map((x) => ({ t: runTabular(x, ctx), name: x.source.k === "table" ? x.source.name : "" })),
        ],
        op.withsource,
      );
    case "join":
      return join(op, t, runTabular(op.right, ctx), ctx);
    case "project-rename": {
      const columns = t.columns.map((c) => ({ ...c }));
      for (const r of op.renames) columns[colIndex(t.columns, r.from, ctx, op.pos)]!.name = r.to;
      return { columns, rows: t.rows };
    }
    case "mv-expand": {
      const i = colIndex(t.columns, op.col, ctx, op.pos);
      const rows: Row[] = [];
      for (const r of t.rows) {
        const v = r[i];
        if (Array.isArray(v)) {
          for (const x of v) {
            const out = r.slice();
            out[i] = x as KqlValue;
            rows.push(out);
          }
        } else rows.push(r);
      }
      return { columns: t.columns, rows };
    }
    case "make-series":
      return makeSeries(op, t, ctx);
  }
}

/** Kusto join semantics: innerunique dedupes the left side on the key; clashing right columns get a "1" suffix. */
function join(op: Extract<Op, { k: "join" }>, left: Table, right: Table, ctx: Ctx): Table {
  const li = op.on.map((o) => colIndex(left.columns, o.left, ctx, op.pos));
  const ri = op.on.map((o) => colIndex(right.columns, o.right, ctx, op.pos));
  const key = (r: Row, idx: number[]) => JSON.stringify(idx.map((i) => keyOf(r[i]!)));
  const kind = op.kind;
  if (kind === "leftanti" || kind === "leftantisemi" || kind === "leftsemi") {
    const keys = new Set(right.rows.map((r) => key(r, ri)));
    const keep = kind === "leftsemi";
    return { columns: left.columns, rows: left.rows.filter((r) => keys.has(key(r, li)) === keep) };
  }
  if (kind === "rightanti" || kind === "rightantisemi" || kind === "rightsemi") {
    const keys = new Set(left.rows.map((r) => key(r, li)));
    const keep = kind === "rightsemi";
    return { columns: right.columns, rows: right.rows.filter((r) => keys.has(key(r, ri)) === keep) };
  }
  if (kind === "fullouter" || kind === "rightouter")
    fail(ctx, "unsupported", `join kind "${kind}" is not supported by the local engine`, op.pos);
  let lrows = left.rows;
  if (kind === "innerunique") {
    const seen = new Set<string>();
    lrows = lrows.filter((r) => {
      const k = key(r, li);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  const index = new Map<string, Row[]>();
  for (const r of right.rows) {
    const k = key(r, ri);
    const list = index.get(k);
    if (list) list.push(r);
    else index.set(k, [r]);
  }
  const names = new Set(left.columns.map((c) => c.name));
  const rightCols = right.columns.map((c) => {
    let name = c.name;
    for (let n = 1; names.has(name); n++) name = `${c.name}${n}`;
    names.add(name);
    return { ...c, name };
  });
  const rows: Row[] = [];
  const nulls = right.columns.map(() => null);
  for (const l of lrows) {
    const matches = index.get(key(l, li));
    if (matches) for (const r of matches) rows.push([...l, ...r]);
    else if (kind === "leftouter") rows.push([...l, ...nulls]);
  }
  return { columns: [...left.columns, ...rightCols], rows };
}

function makeSeries(op: Extract<Op, { k: "make-series" }>, t: Table, ctx: Ctx): Table {
  const on = compile(op.on, t.columns, ctx).fn;
  const from = Number(compile(op.from, [], ctx).fn([]));
  const to = Number(compile(op.to, [], ctx).fn([]));
  const step = Number(compile(op.step, [], ctx).fn([]));
  if (!(step > 0) || !(to > from)) fail(ctx, "semantic", "make-series needs from < to and a positive step", op.pos);
  const n = Math.ceil((to - from) / step);
  if (n > 100_000) fail(ctx, "semantic", `make-series would create ${n} bins (limit 100000)`, op.pos);
  const by = op.by.map((it, i) => ({ name: outName(it, i), c: compile(it.e, t.columns, ctx) }));
  const aggs = op.aggs.map((it) => aggregate(it, t.columns, ctx));
  const defaults = op.defaults.map((d) => (d ? compile(d, [], ctx).fn([]) : 0));
  const groups = new Map<string, { key: KqlValue[]; bins: unknown[][] }>();
  for (const r of t.rows) {
    const ts = on(r);
    if (typeof ts !== "number" || ts < from || ts >= to) continue;
    const b = Math.floor((ts - from) / step);
    const keyVals = by.map((x) => x.c.fn(r));
    const k = JSON.stringify(keyVals.map(keyOf));
    let g = groups.get(k);
    if (!g) {
      g = { key: keyVals, bins: aggs.map(() => new Array(n).fill(undefined)) };
      groups.set(k, g);
    }
    aggs.forEach((a, i) => {
      const cur = g!.bins[i]![b];
      g!.bins[i]![b] = a.step(cur === undefined ? a.init() : cur, r);
    });
  }
  const axis = Array.from({ length: n }, (_, i) => from + i * step);
  const onName = op.on.k === "col" ? op.on.name : "TimeGenerated";
  return {
    columns: [
      ...by.map((b) => ({ name: b.name, type: b.c.type })),
      ...aggs.map((a) => ({ name: a.name, type: "dynamic" as KqlType })),
      { name: onName, type: "dynamic" },
    ],
    rows: [...groups.values()].map(
      (g) =>
        [
          ...g.key,
          ...g.bins.map((bins, i) => bins.map((s) => (s === undefined ? defaults[i]! : aggs[i]!.done(s)))),
          axis,
        ] as Row,
    ),
  };
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
  "dcountif",
  "sum",
  "sumif",
  "avg",
  "min",
  "max",
  "make_set",
  "make_list",
  "take_any",
  "any",
  "arg_max",
  "arg_min",
]);

interface Agg {
  name: string;
  type: KqlType;
  /** arg_max / arg_min: several output columns; done() then returns an array of their values. */
  expand?: KqlColumn[];
  init(): unknown;
  step(state: unknown, row: Row): unknown;
  done(state: unknown): KqlValue;
}

function aggregate(it: NamedExpr, columns: KqlColumn[], ctx: Ctx, byNames: string[] = []): Agg {
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
  const args1 = (): Fn =>
    e.args[1] ? compile(e.args[1], columns, ctx).fn : fail(ctx, "semantic", `${e.name}() needs a predicate`, e.pos);
  switch (e.name) {
    case "arg_max":
    case "arg_min": {
      const target = need();
      const rest = e.args.slice(1);
      const picks: { name: string; fn: Fn; type: KqlType }[] = [];
      const excluded = new Set([argName, ...byNames]);
      for (const r of rest) {
        if (r.k === "star") {
          columns.forEach((c, idx) => {
            if (!excluded.has(c.name)) picks.push({ name: c.name, fn: (row) => row[idx] ?? null, type: c.type });
          });
        } else {
          const c = compile(r, columns, ctx);
          picks.push({ name: r.k === "col" ? r.name : `Column${picks.length + 1}`, fn: c.fn, type: c.type });
        }
      }
      const max = e.name === "arg_max";
      return {
        name: argName || `${e.name}_`,
        type: target.type,
        expand: [
          { name: argName ? `${argName}` : `${e.name}_`, type: target.type },
          ...picks.map((p) => ({ name: p.name, type: p.type })),
        ],
        init: () => undefined,
        step: (st, row) => {
          const v = target.fn(row);
          if (v === null) return st;
          const cur = st as { v: KqlValue; vals: KqlValue[] } | undefined;
          if (cur === undefined || (max ? compareValues(v, cur.v, false) > 0 : compareValues(v, cur.v, false) < 0))
            return { v, vals: picks.map((p) => p.fn(row)) };
          return cur;
        },
        done: (st) => {
          const cur = st as { v: KqlValue; vals: KqlValue[] } | undefined;
          return (cur ? [cur.v, ...cur.vals] : [null, ...picks.map(() => null)]) as unknown as KqlValue;
        },
      };
    }
    case "dcountif": {
      const f = need().fn;
      const p = args1();
      return {
        name: it.name ?? `dcountif_${argName}`,
        type: "long",
        init: () => new Set(),
        step: (st, r) => (p(r) === true ? (st as Set<unknown>).add(keyOf(f(r))) : st),
        done: (st) => (st as Set<unknown>).size,
      };
    }
    case "sumif": {
      const f = need().fn;
      const p = args1();
      return {
        name: it.name ?? `sumif_${argName}`,
        type: "real",
        init: () => 0,
        step: (st, r) => (p(r) === true ? (st as number) + (Number(f(r)) || 0) : st),
        done: (st) => st as number,
      };
    }
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
  const aggs = aggItems.map((it) =>
    aggregate(
      it,
      t.columns,
      ctx,
      by.map((b) => b.name),
    ),
  );
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
      ...aggs.flatMap((a) => a.expand ?? [{ name: a.name, type: a.type }]),
    ],
    rows: [...groups.values()].map((g) => [
      ...g.key,
      ...g.states.flatMap((s, i) =>
        aggs[i]!.expand ? (aggs[i]!.done(s) as unknown as KqlValue[]) : [aggs[i]!.done(s)],
      ),
    ]),
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
    case "dyn":
      return { fn: () => e.v as KqlValue, type: "dynamic" };
    case "member": {
      const base = compile(e.e, columns, ctx).fn;
      const key = compile(e.key, columns, ctx).fn;
      return {
        fn: (r) => {
          let v = base(r) as unknown;
          if (typeof v === "string") v = tryParseJson(v);
          const k = key(r);
          if (v === null || typeof v !== "object") return null;
          if (Array.isArray(v)) {
            const n = Number(k);
            const at = n < 0 ? v.length + n : n;
            return (v[at] ?? null) as KqlValue;
          }
          return ((v as Record<string, unknown>)[String(k)] ?? null) as KqlValue;
        },
        type: "dynamic",
      };
    }
    case "between": {
      const v = compile(e.e, columns, ctx).fn;
      const lo = compile(e.lo, columns, ctx).fn;
      const hi = compile(e.hi, columns, ctx).fn;
      return {
        fn: (r) => {
          const x = v(r);
          if (x === null) return false;
          const inside = (x as number) >= (lo(r) as number) && (x as number) <= (hi(r) as number);
          return inside !== e.negate;
        },
        type: "bool",
      };
    }
    case "star":
      fail(ctx, "semantic", "* is only valid inside arg_max()/arg_min()", e.pos);
  }
}

function tryParseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
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
    case "parse_json":
    case "todynamic":
      return {
        fn: (r) => (typeof a0(r) === "string" ? (tryParseJson(a0(r) as string) as KqlValue) : a0(r)),
        type: "dynamic",
      };
    case "array_length":
      return { fn: (r) => (Array.isArray(a0(r)) ? (a0(r) as unknown[]).length : null), type: "long" };
    case "bag_keys":
      return {
        fn: (r) => (a0(r) && typeof a0(r) === "object" && !Array.isArray(a0(r)) ? Object.keys(a0(r) as object) : null),
        type: "dynamic",
      };
    case "pack_array":
      return { fn: (r) => args.map((a) => a.fn(r)), type: "dynamic" };
    case "split":
      return { fn: (r) => String(a0(r) ?? "").split(String(a1(r) ?? "")), type: "dynamic" };
    case "substring": {
      const a2 = args[2]?.fn;
      return { fn: (r) => String(a0(r) ?? "").substr(Number(a1(r)), a2 ? Number(a2(r)) : undefined), type: "string" };
    }
    case "replace_string": {
      want(3);
      const a2 = args[2]!.fn;
      return {
        fn: (r) =>
          String(a0(r) ?? "")
            .split(String(a1(r) ?? ""))
            .join(String(a2(r) ?? "")),
        type: "string",
      };
    }
    case "trim":
      return {
        fn: (r) => String(a1(r) ?? "").replace(new RegExp(`^(${String(a0(r))})+|(${String(a0(r))})+$`, "g"), ""),
        type: "string",
      };
    case "extract": {
      want(3);
      const a2 = args[2]!.fn;
      const pattern = String(args[0]!.fn([]));
      let re: RegExp;
      try {
        re = new RegExp(pattern);
      } catch {
        fail(ctx, "semantic", `invalid regular expression "${pattern}"`, e.pos);
      }
      return { fn: (r) => re.exec(String(a2(r) ?? ""))?.[Number(a1(r))] ?? null, type: "string" };
    }
    case "hash_sha256":
      return {
        fn: (r) =>
          createHash("sha256")
            .update(String(a0(r) ?? ""))
            .digest("hex"),
        type: "string",
      };
    case "todatetime":
      return {
        fn: (r) =>
          typeof a0(r) === "number"
            ? a0(r)
            : a0(r) === null
              ? null
              : Number.isNaN(Date.parse(String(a0(r))))
                ? null
                : Date.parse(String(a0(r))),
        type: "datetime",
      };
    case "totimespan":
      return { fn: (r) => (typeof a0(r) === "number" ? a0(r) : null), type: "timespan" };
    case "tobool":
      return {
        fn: (r) => (a0(r) === null ? null : a0(r) === true || String(a0(r)).toLowerCase() === "true" || a0(r) === 1),
        type: "bool",
      };
    case "series_outliers":
      return {
        fn: (r) => (Array.isArray(a0(r)) ? seriesOutliers((a0(r) as unknown[]).map(Number)) : null),
        type: "dynamic",
      };
    case "series_decompose_anomalies": {
      const a2 = args[2]?.fn;
      return {
        fn: (r) =>
          Array.isArray(a0(r))
            ? seriesDecomposeAnomalies(
                (a0(r) as unknown[]).map(Number),
                args[1] ? Number(a1(r)) : 1.5,
                a2 ? Number(a2(r)) : -1,
              )
            : null,
        type: "dynamic",
      };
    }
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
