import { type Ctx, checkSize, colIndex, fail, KQL_TYPES, type Table } from "./context.js";
import { KqlError } from "./errors.js";
import { compile, constant } from "./expr.js";
import { TUPLE_FUNCTIONS } from "./functions-tuple.js";
import { carryIngestionTime as carry } from "./ingestion.js";
import { join } from "./join.js";
import { lookupTable } from "./lookup.js";
import { makeSeries } from "./make-series.js";
import { derivedName, outputNames } from "./naming.js";
import type { Expr, NamedExpr, Op, SortKey, Tabular } from "./parser.js";
import { compileRegex, firstMatch, RE2JS } from "./regex.js";
import { dedupeNames, summarize } from "./summarize.js";
import type { KqlColumn, KqlType, KqlValue } from "./types.js";
import { compareValues, parseDatetime, parseTimespan, type Row, text, tryParseJson } from "./values.js";
import { outputSerialized, usesWindow, windowFor } from "./window.js";

// Tabular operators: each takes a table and returns a new one (rows are shared, never mutated).

export function apply(op: Op, t: Table, ctx: Ctx): Table {
  const out = applyOp(op, t, ctx);
  const serialized = outputSerialized(op.k, t.serialized === true);
  // A new object when the flag changes: an operator may return its input table, which must not be altered.
  return (out.serialized ?? false) === serialized ? out : { ...out, serialized };
}

function applyOp(op: Op, t: Table, octx: Ctx): Table {
  // Expressions of where/project/extend/serialize over serialized rows may read other rows (window.ts); no other
  // operator evaluates row by row in order, so the others compile without a window (window functions fail there).
  const { ctx, win } = windowFor(op.k === "where" || op.k === "project" ? t : { ...t, serialized: false }, octx);
  switch (op.k) {
    case "where": {
      const c = compile(op.e, t.columns, ctx);
      if (c.type !== "bool" && c.type !== "dynamic")
        fail(ctx, "semantic", `where needs a boolean predicate, got ${c.type}`, op.pos);
      const p = c.fn;
      const rows: Row[] = [];
      const src = t.rows;
      for (let i = 0; i < src.length; i++) {
        if (win) win.i = i;
        if (p(src[i]!) === true) rows.push(src[i]!);
      }
      return { columns: t.columns, rows };
    }
    case "take":
      return { columns: t.columns, rows: t.rows.slice(0, Math.max(0, count(op.n, ctx, op.pos))) };
    case "project": {
      const names = outputNames(op.items);
      const fns = op.items.map((it) => compile(it.e, t.columns, ctx));
      const fs = fns.map((c) => c.fn);
      return {
        columns: dedupeNames(fns.map((c, i) => ({ name: names[i]!, type: c.type }))),
        rows: t.rows.map((r, i) => {
          if (win) win.i = i;
          return carry(
            r,
            fs.map((f) => f(r)),
          );
        }),
      };
    }
    case "extend":
      return extendSerial(op.items, t, octx);
    case "serialize":
      return op.items.length ? extendSerial(op.items, { ...t, serialized: true }, octx) : t;
    case "project-away": {
      const drop = new Set(op.cols.map((c) => colIndex(t.columns, c, ctx, op.pos)));
      const keep = t.columns.map((_, i) => i).filter((i) => !drop.has(i));
      return {
        columns: keep.map((i) => t.columns[i]!),
        rows: t.rows.map((r) =>
          carry(
            r,
            keep.map((i) => r[i]!),
          ),
        ),
      };
    }
    case "project-rename": {
      const columns = t.columns.map((c) => ({ ...c }));
      for (const r of op.renames) columns[colIndex(t.columns, r.from, ctx, op.pos)]!.name = r.to;
      return { columns, rows: t.rows };
    }
    case "summarize":
      return summarize(op.aggs, op.by, t, ctx, op.pos);
    case "sort":
      return { columns: t.columns, rows: sortRows(t, op.keys, ctx) };
    case "top": {
      const n = Math.max(0, count(op.n, ctx, op.pos));
      return {
        columns: t.columns,
        rows: n * 8 < t.rows.length ? topRows(t, op.keys, n, ctx) : sortRows(t, op.keys, ctx).slice(0, n),
      };
    }
    case "count":
      return { columns: [{ name: "Count", type: "long" }], rows: [[t.rows.length]] };
    case "distinct":
      if (op.star) return distinctRows(t);
      return summarize([], op.items, t, ctx, op.pos);
    case "render":
      return t;
    case "union":
      return union([{ t, name: "" }, ...unionLegs(op.tables, op.fuzzy === true, ctx)], op.withsource, ctx, op.pos);
    case "mv-apply":
      return mvApply(op, t, ctx);
    case "join":
      return join(op, t, ctx.run(op.right, ctx), ctx);
    case "mv-expand":
      return mvExpand(op, t, ctx);
    case "make-series":
      return makeSeries(op, t, ctx);
    case "lookup":
      return lookup(op, t, ctx);
    case "project-keep":
    case "project-reorder":
      return keepOrReorder(op, t, ctx);
    case "parse":
      return parse(op, t, ctx);
  }
}

/** lookup: a join (leftouter by default) that does not repeat the right side's key columns. */
function lookup(op: Extract<Op, { k: "lookup" }>, t: Table, ctx: Ctx): Table {
  const right = ctx.run(op.right, ctx);
  const rightKeys = new Set(op.on.map((o) => colIndex(right.columns, o.right, ctx, op.pos)));
  const joined = join({ ...op, k: "join" }, t, right, ctx, "lookup");
  const keep = joined.columns
    .map((_, i) => i)
    .filter((i) => i < t.columns.length || !rightKeys.has(i - t.columns.length));
  return { columns: keep.map((i) => joined.columns[i]!), rows: joined.rows.map((r) => keep.map((i) => r[i]!)) };
}

/** `Sec*Time` column patterns: greedy segment matching, linear in the name (no regex built from query text). */
function globMatch(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === name;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let from = first.length;
  const stop = name.length - last.length;
  for (const mid of parts.slice(1, -1)) {
    const i = name.indexOf(mid, from);
    if (i < 0 || i + mid.length > stop) return false;
    from = i + mid.length;
  }
  return true;
}

/** project-keep: the matching columns in input order; project-reorder: the matching columns first, then the rest. */
function keepOrReorder(op: Extract<Op, { k: "project-keep" | "project-reorder" }>, t: Table, ctx: Ctx): Table {
  const picked: number[] = [];
  for (const p of op.cols) {
    const hits = t.columns.map((c, i) => (globMatch(p, c.name) ? i : -1)).filter((i) => i >= 0);
    if (hits.length === 0 && !p.includes("*")) colIndex(t.columns, p, ctx, op.pos);
    for (const i of hits) if (!picked.includes(i)) picked.push(i);
  }
  const order =
    op.k === "project-keep"
      ? picked.sort((a, b) => a - b)
      : [...picked, ...t.columns.map((_, i) => i).filter((i) => !picked.includes(i))];
  return {
    columns: order.map((i) => t.columns[i]!),
    rows: t.rows.map((r) =>
      carry(
        r,
        order.map((i) => r[i]!),
      ),
    ),
  };
}

const PARSE_TYPES: Record<string, { re: string; conv: (s: string) => KqlValue }> = lookupTable({
  string: { re: "(.*?)", conv: (s) => s },
  long: { re: "(-?\\d+)", conv: Number },
  int: { re: "(-?\\d+)", conv: Number },
  real: { re: "(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)", conv: Number },
  double: { re: "(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)", conv: Number },
  bool: { re: "(true|false|True|False|TRUE|FALSE)", conv: (s) => s.toLowerCase() === "true" },
  datetime: { re: "(.*?)", conv: parseDatetime },
  timespan: { re: "(.*?)", conv: parseTimespan },
  guid: { re: "([0-9a-fA-F-]{36})", conv: (s) => s },
  dynamic: { re: "(.*?)", conv: (s) => tryParseJson(s) as KqlValue },
});

/**
 * parse (kind=simple): the pattern must match the whole value; string constants match literally, `*` skips anything,
 * and each column captures text of its type. A row that does not match gets "" for strings and null otherwise.
 */
function parse(op: Extract<Op, { k: "parse" }>, t: Table, ctx: Ctx): Table {
  const src = compile(op.e, t.columns, ctx).fn;
  const cols: { name: string; type: KqlType; conv: (s: string) => KqlValue }[] = [];
  let re = "^";
  for (const p of op.parts) {
    if (p.k === "text") re += RE2JS.quote(p.text);
    else if (p.k === "any") re += "(?:.*?)";
    else {
      const spec = PARSE_TYPES[p.type];
      const type = KQL_TYPES[p.type];
      if (!spec || !type) fail(ctx, "unsupported", `parse column type "${p.type}" is not supported`, op.pos);
      re += spec.re;
      cols.push({ name: p.name, type, conv: spec.conv });
    }
  }
  // RE2 (linear time): several (.*?) captures anchored at both ends would backtrack polynomially in JS.
  const matcher = compileRegex(`${re}$`, RE2JS.DOTALL);
  const columns = [...t.columns];
  const slots = cols.map((c) => {
    const at = columns.findIndex((x) => x.name === c.name);
    if (at >= 0) {
      columns[at] = { name: c.name, type: c.type };
      return at;
    }
    columns.push({ name: c.name, type: c.type });
    return columns.length - 1;
  });
  const empty = cols.map((c) => (c.type === "string" ? "" : null));
  const rows = t.rows.map((r) => {
    const out = carry(r, r.slice());
    const m = firstMatch(matcher, text(src(r)));
    for (let j = 0; j < cols.length; j++) {
      const v = m ? cols[j]!.conv(m[j + 1] ?? "") : empty[j]!;
      const slot = slots[j]!;
      if (slot < out.length) out[slot] = v;
      else out.push(v);
    }
    return out;
  });
  return { columns, rows };
}

function count(e: Parameters<typeof constant>[0], ctx: Ctx, pos: number): number {
  const n = constant(e, ctx);
  if (typeof n !== "number") fail(ctx, "semantic", "expected a number of rows", pos);
  return n;
}

/** `extend (a, b) = f(...)` becomes one item per name, each taking its part of f's tuple (functions-tuple.ts). */
function untuple(items: NamedExpr[], ctx: Ctx): NamedExpr[] {
  return items.flatMap((it) => {
    if (!it.names) return [it];
    const e = it.e;
    if (e.k !== "call" || !TUPLE_FUNCTIONS[e.name])
      fail(
        ctx,
        "unsupported",
        "unsupported tuple assignment: only series_fit_line and series_decompose_anomalies return several columns",
        e.pos,
      );
    return it.names.map((name, i) => ({
      name,
      e: {
        k: "call" as const,
        name: "__tuple_part",
        args: [{ k: "lit" as const, v: i, type: "long" as const, pos: e.pos }, e],
        pos: e.pos,
      },
    }));
  });
}

/**
 * extend, with window functions: `extend a = X, b = prev(a)` reads `a` of the previous row, so over serialized rows an
 * extend whose items call window functions runs as one extend per item (each sees the rows the one before built).
 */
function extendSerial(tupled: Extract<Op, { k: "extend" }>["items"], t: Table, ctx: Ctx): Table {
  if (!t.serialized || tupled.length < 2 || !tupled.some((it) => usesWindow(it.e))) return extend(tupled, t, ctx);
  let cur = t;
  for (const it of tupled) cur = { ...extend([it], cur, ctx), serialized: true };
  return cur;
}

function extend(tupled: Extract<Op, { k: "extend" }>["items"], t: Table, octx: Ctx): Table {
  const { ctx, win } = windowFor(t, octx);
  const items = untuple(tupled, ctx);
  const names = outputNames(
    items,
    t.columns.map((c) => c.name),
  );
  const columns = [...t.columns];
  const fns: ((r: Row) => KqlValue)[] = [];
  const slots: number[] = [];
  items.forEach((it, i) => {
    // Later items see earlier ones (extend a = 1, b = a + 1), so compile against the growing schema.
    const c = compile(it.e, columns, ctx);
    const name = names[i]!;
    let slot = columns.findIndex((x) => x.name === name);
    if (slot >= 0) columns[slot] = { name, type: c.type };
    else {
      columns.push({ name, type: c.type });
      slot = columns.length - 1;
    }
    fns.push(c.fn);
    slots.push(slot);
  });
  // New columns get consecutive slots after the input's, so they can be pushed (keeps arrays packed and fast).
  const src = t.rows;
  const rows: Row[] = new Array(src.length);
  const nf = fns.length;
  for (let i = 0; i < src.length; i++) {
    if (win) win.i = i;
    const out = carry(src[i]!, src[i]!.slice());
    for (let j = 0; j < nf; j++) {
      const v = fns[j]!(out);
      const slot = slots[j]!;
      if (slot < out.length) out[slot] = v;
      else out.push(v);
    }
    rows[i] = out;
  }
  return { columns, rows };
}

/** Stable sort on precomputed keys (each key expression runs once per row, not once per comparison). */
function sortRows(t: Table, keys: SortKey[], ctx: Ctx): Row[] {
  const fns = keys.map((k) => compile(k.e, t.columns, ctx).fn);
  const decorated = t.rows.map((r, i) => ({ r, i, k: fns.map((f) => f(r)) }));
  decorated.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const c = compareValues(a.k[j]!, b.k[j]!, keys[j]!.desc, keys[j]!.nullsFirst);
      if (c !== 0) return c;
    }
    return a.i - b.i;
  });
  return decorated.map((d) => d.r);
}

/** top n for small n: a bounded sorted buffer (binary insertion), O(rows · log n) instead of a full sort. */
function topRows(t: Table, keys: SortKey[], n: number, ctx: Ctx): Row[] {
  const fns = keys.map((k) => compile(k.e, t.columns, ctx).fn);
  const cmp = (a: KqlValue[], b: KqlValue[]): number => {
    for (let j = 0; j < keys.length; j++) {
      const c = compareValues(a[j]!, b[j]!, keys[j]!.desc, keys[j]!.nullsFirst);
      if (c !== 0) return c;
    }
    return 0;
  };
  const buf: { r: Row; k: KqlValue[] }[] = [];
  if (n === 0) return [];
  for (const r of t.rows) {
    const k = fns.map((f) => f(r));
    // Strictly better than the current last: ties keep the earlier row, as a stable sort would.
    if (buf.length === n && cmp(k, buf[n - 1]!.k) >= 0) continue;
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(buf[mid]!.k, k) <= 0) lo = mid + 1;
      else hi = mid;
    }
    buf.splice(lo, 0, { r, k });
    if (buf.length > n) buf.pop();
  }
  return buf.map((b) => b.r);
}

function distinctRows(t: Table): Table {
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (const r of t.rows) {
    const k = JSON.stringify(r);
    if (!seen.has(k)) {
      seen.add(k);
      rows.push(r);
    }
  }
  return { columns: t.columns, rows };
}

export function unionPart(x: Tabular, index: number, ctx: Ctx): { t: Table; name: string } {
  const name = x.source.k === "table" && x.ops.length === 0 ? x.source.name : `union_arg${index}`;
  return { t: ctx.run(x, ctx), name };
}

/**
 * union: columns matched by name in first-seen order, missing values null. A name that appears with different types
 * becomes one column per type, suffixed with the type (Kusto's `Col_string`, `Col_long`).
 */
export function union(
  parts: { t: Table; name: string }[],
  withsource: string | undefined,
  ctx: Ctx,
  pos: number,
): Table {
  checkSize(
    ctx,
    parts.reduce((n, p) => n + p.t.rows.length, 0),
    "union",
    pos,
  );
  const typesByName = new Map<string, Set<KqlType>>();
  for (const p of parts)
    for (const c of p.t.columns) {
      const s = typesByName.get(c.name) ?? new Set();
      s.add(c.type);
      typesByName.set(c.name, s);
    }
  const columns: KqlColumn[] = withsource ? [{ name: withsource, type: "string" }] : [];
  const slot = new Map<string, number>();
  for (const p of parts)
    for (const c of p.t.columns) {
      const split = typesByName.get(c.name)!.size > 1;
      const name = split ? `${c.name}_${c.type}` : c.name;
      const key = `${c.name}\u0000${split ? c.type : ""}`;
      if (!slot.has(key)) {
        slot.set(key, columns.length);
        columns.push({ name, type: c.type });
      }
    }
  const rows: Row[] = [];
  for (const p of parts) {
    const map = p.t.columns.map((c) => slot.get(`${c.name}\u0000${typesByName.get(c.name)!.size > 1 ? c.type : ""}`)!);
    for (const r of p.t.rows) {
      const out: Row = carry(r, new Array(columns.length).fill(null));
      if (withsource) out[0] = p.name;
      for (let i = 0; i < map.length; i++) out[map[i]!] = r[i] ?? null;
      rows.push(out);
    }
  }
  return { columns, rows };
}

/** Casts an expanded element to the declared `to typeof(T)`; elements that do not conform become null. */
function castTo(type: KqlType, v: unknown): KqlValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "string":
    case "guid":
      return typeof v === "string" ? v : null;
    case "int":
    case "long":
    case "real":
    case "decimal":
      return typeof v === "number" ? v : null;
    case "bool":
      return typeof v === "boolean" ? v : null;
    default:
      return v as KqlValue;
  }
}

/**
 * mv-expand: one row per element of the array (property bags: one single-entry bag per property). Null expands to
 * one row with null; an empty array or bag to no rows. Several expressions expand in parallel, padding with null.
 */
function mvExpand(op: Extract<Op, { k: "mv-expand" }>, t: Table, ctx: Ctx): Table {
  const columns = [...t.columns];
  const plan = op.items.map((it) => {
    const c = compile(it.e, t.columns, ctx);
    const name = it.name ?? expandedName(it.e);
    if (!name)
      fail(ctx, "unsupported", "unsupported mv-expand of an unnamed expression (write Name = expression)", op.pos);
    let type: KqlType = "dynamic";
    if (it.type) {
      const tt = KQL_TYPES[it.type];
      if (!tt) fail(ctx, "semantic", `unknown type "${it.type}" in mv-expand to typeof()`, op.pos);
      type = tt;
    }
    let slot = columns.findIndex((x) => x.name === name);
    if (slot >= 0) columns[slot] = { name, type };
    else {
      columns.push({ name, type });
      slot = columns.length - 1;
    }
    return { fn: c.fn, slot, type, cast: it.type !== undefined };
  });
  const limit = op.limit ? count(op.limit, ctx, op.pos) : Number.POSITIVE_INFINITY;
  const rows: Row[] = [];
  for (const r of t.rows) {
    const lists = plan.map((p) => elements(p.fn(r)));
    const n = Math.min(limit, Math.max(...lists.map((l) => l.length)));
    checkSize(ctx, rows.length + n, "mv-expand", op.pos, "before the mv-expand, or add `limit N`");
    for (let i = 0; i < n; i++) {
      const out = carry(r, r.slice());
      out.length = columns.length;
      for (let j = 0; j < plan.length; j++) {
        const p = plan[j]!;
        const v = i < lists[j]!.length ? lists[j]![i] : null;
        out[p.slot] = p.cast ? castTo(p.type, v) : ((v ?? null) as KqlValue);
      }
      rows.push(out);
    }
  }
  return { columns, rows };
}

/**
 * The column an unnamed mv-expand writes: a column or cast of one keeps its name (`todynamic(X)` → X), a dynamic
 * path its derived name, and a path off a call its last key (`parse_json(X).y` → y).
 */
function expandedName(e: Expr): string | undefined {
  const d = derivedName(e);
  if (d) return d;
  if (e.k === "call" && (e.name === "parse_json" || e.name === "todynamic") && e.args[0]?.k === "col")
    return e.args[0].name;
  if (e.k === "member" && e.key.k === "lit" && typeof e.key.v === "string") return e.key.v;
  return undefined;
}

function unionLegs(tables: Tabular[], fuzzy: boolean, ctx: Ctx): { t: Table; name: string }[] {
  const out: { t: Table; name: string }[] = [];
  tables.forEach((x, i) => {
    try {
      out.push(unionPart(x, i + 1, ctx));
    } catch (err) {
      // isfuzzy=true: a leg naming a table or function that does not exist is skipped, as Kusto does.
      if (
        !(fuzzy && err instanceof KqlError && err.info.code === "semantic" && / does not exist/.test(err.info.message))
      )
        throw err;
    }
  });
  return out;
}

/**
 * mv-apply items on (ops): for each input row, the items are expanded (as mv-expand does) into a small table the
 * subquery runs over; its output rows follow, each with the input row's other columns.
 */
function mvApply(op: Extract<Op, { k: "mv-apply" }>, t: Table, ctx: Ctx): Table {
  const expand: Extract<Op, { k: "mv-expand" }> = { k: "mv-expand", items: op.items, pos: op.pos };
  const run = (x: Table): Table => op.ops.reduce((acc, o) => apply(o, acc, ctx), x);
  // The output schema is the subquery's over no rows, so every row's result lines up with it.
  const shape = run(mvExpand(expand, { columns: t.columns, rows: [] }, ctx));
  const rows: Row[] = [];
  for (const r of t.rows) {
    const sub = run(mvExpand(expand, { columns: t.columns, rows: [r] }, ctx));
    checkSize(ctx, rows.length + sub.rows.length, "mv-apply", op.pos, "before the mv-apply");
    for (const s of sub.rows) {
      const out: Row = carry(
        r,
        shape.columns.map((c) => {
          const i = sub.columns.findIndex((x) => x.name === c.name);
          return i < 0 ? null : (s[i] ?? null);
        }),
      );
      rows.push(out);
    }
  }
  return { columns: shape.columns, rows };
}

function elements(v: KqlValue): unknown[] {
  if (v === null) return [null];
  if (Array.isArray(v)) return v;
  if (typeof v === "object") return Object.entries(v).map(([k, x]) => ({ [k]: x }));
  return [v];
}
