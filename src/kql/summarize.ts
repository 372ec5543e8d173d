import { aggregate } from "./aggregates.js";
import { type Ctx, checkSize, type Table } from "./context.js";
import { compile } from "./expr.js";
import { outputNames } from "./naming.js";
import type { NamedExpr } from "./parser.js";
import type { KqlColumn, KqlValue } from "./types.js";
import { groupKey, multiKey, type Row } from "./values.js";

interface Group {
  key: KqlValue[];
  states: unknown[];
}

/** summarize aggs by keys: hash grouping in first-seen order; one key column needs no per-row key allocation. */
export function summarize(aggItems: NamedExpr[], byItems: NamedExpr[], t: Table, ctx: Ctx, pos = 0): Table {
  const byNames = outputNames(byItems);
  const by = byItems.map((it) => compile(it.e, t.columns, ctx));
  const aggs = aggItems.map((it) => aggregate(it, t.columns, ctx, byNames));
  const groups = new Map<unknown, Group>();
  const nAggs = aggs.length;
  const steps = aggs.map((a) => a.step);
  const rows = t.rows;
  const newGroup = (key: KqlValue[]): Group => ({ key, states: aggs.map((a) => a.init()) });
  if (by.length === 1) {
    const k0 = by[0]!.fn;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const v = k0(r);
      const k = typeof v === "object" && v !== null ? groupKey(v) : v;
      let g = groups.get(k);
      if (g === undefined) {
        checkSize(ctx, groups.size + 1, "summarize", pos);
        g = newGroup([v]);
        groups.set(k, g);
      }
      const st = g.states;
      for (let j = 0; j < nAggs; j++) st[j] = steps[j]!(st[j], r);
    }
  } else {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const key = by.map((b) => b.fn(r));
      const k = key.length === 0 ? "" : multiKey(key);
      let g = groups.get(k);
      if (g === undefined) {
        checkSize(ctx, groups.size + 1, "summarize", pos);
        g = newGroup(key);
        groups.set(k, g);
      }
      const st = g.states;
      for (let j = 0; j < nAggs; j++) st[j] = steps[j]!(st[j], r);
    }
  }
  // Kusto returns one row for an aggregation without `by`, even over no rows.
  if (by.length === 0 && groups.size === 0 && aggs.length > 0) groups.set("", newGroup([]));
  const columns: KqlColumn[] = [
    ...by.map((b, i) => ({ name: byNames[i]!, type: b.type })),
    ...aggs.flatMap((a) => a.expand ?? [{ name: a.name, type: a.type }]),
  ];
  const out: Row[] = [];
  for (const g of groups.values()) {
    const row: Row = g.key.slice();
    for (let j = 0; j < nAggs; j++) {
      const a = aggs[j]!;
      const v = a.done(g.states[j]);
      if (a.expand) row.push(...(v as unknown as KqlValue[]));
      else row.push(v);
    }
    out.push(row);
  }
  return { columns: dedupeNames(columns), rows: out };
}

/** Two output columns with one name get Kusto's numeric suffix (count_, count_1). */
export function dedupeNames(columns: KqlColumn[]): KqlColumn[] {
  const seen = new Set<string>();
  return columns.map((c) => {
    let name = c.name;
    for (let n = 1; seen.has(name); n++) name = `${c.name}${n}`;
    seen.add(name);
    return name === c.name ? c : { ...c, name };
  });
}
