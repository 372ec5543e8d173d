import { aggregate } from "./aggregates.js";
import { type Ctx, checkSize, fail, type Table } from "./context.js";
import { compile, constant } from "./expr.js";
import { outputNames } from "./naming.js";
import type { Op } from "./parser.js";
import type { KqlType, KqlValue } from "./types.js";
import { multiKey, type Row } from "./values.js";

type MakeSeriesOp = Extract<Op, { k: "make-series" }>;

/** make-series aggs [default=v] on T from A to B step S by keys: one row per key with one array per aggregate. */
export function makeSeries(op: MakeSeriesOp, t: Table, ctx: Ctx): Table {
  const on = compile(op.on, t.columns, ctx).fn;
  const step = Number(constant(op.step, ctx));
  // Without from/to, the axis spans the bins that hold data: from the first value's bin to past the last one's.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  if (!op.from || !op.to)
    for (const r of t.rows) {
      const v = on(r);
      if (typeof v === "number") {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  if (!(step > 0)) fail(ctx, "semantic", "make-series needs a positive step", op.pos);
  if (lo === Number.POSITIVE_INFINITY) lo = hi = 0;
  const from = op.from ? Number(constant(op.from, ctx)) : Math.floor(lo / step) * step;
  const to = op.to ? Number(constant(op.to, ctx)) : Math.floor(hi / step) * step + step;
  if (!(step > 0) || !(to > from)) fail(ctx, "semantic", "make-series needs from < to and a positive step", op.pos);
  const n = Math.ceil((to - from) / step);
  checkSize(ctx, n, "make-series", op.pos, "(a larger step or a shorter from..to)");
  const byNames = outputNames(op.by);
  const by = op.by.map((it) => compile(it.e, t.columns, ctx));
  const aggs = op.aggs.map((it) => aggregate(it, t.columns, ctx, byNames));
  for (const a of aggs)
    if (a.expand) fail(ctx, "unsupported", "arg_max/arg_min are not supported in make-series", op.pos);
  const defaults = op.defaults.map((d) => (d ? constant(d, ctx) : 0));
  const groups = new Map<string, { key: KqlValue[]; bins: unknown[][] }>();
  for (const r of t.rows) {
    const ts = on(r);
    if (typeof ts !== "number" || ts < from || ts >= to) continue;
    const b = Math.floor((ts - from) / step);
    const keyVals = by.map((x) => x.fn(r));
    const k = multiKey(keyVals);
    let g = groups.get(k);
    if (!g) {
      // Series length × groups: each group holds one array of n bins per aggregate.
      checkSize(
        ctx,
        (groups.size + 1) * n,
        "make-series",
        op.pos,
        "before the make-series (fewer groups) or use a larger step",
      );
      g = { key: keyVals, bins: aggs.map(() => new Array(n).fill(undefined)) };
      groups.set(k, g);
    }
    for (let i = 0; i < aggs.length; i++) {
      const bins = g.bins[i]!;
      const cur = bins[b];
      bins[b] = aggs[i]!.step(cur === undefined ? aggs[i]!.init() : cur, r);
    }
  }
  const axis = Array.from({ length: n }, (_, i) => from + i * step);
  const onName = op.on.k === "col" ? op.on.name : "TimeGenerated";
  return {
    columns: [
      ...by.map((b, i) => ({ name: byNames[i]!, type: b.type })),
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
