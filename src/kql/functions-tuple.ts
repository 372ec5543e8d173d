import { type Ctx, fail } from "./context.js";
import type { Expr } from "./parser.js";
import { decomposeAnomalies, leastSquares } from "./series.js";
import type { KqlValue } from "./types.js";
import type { Compiled, Fn } from "./values.js";

// Functions that return several columns, used as `extend (a, b, ...) = f(...)`. The extend operator turns each name
// into `__tuple_part(i, f(...))`; the tuple is computed once per row and each part picks its element.

type TupleImpl = (args: Fn[]) => (r: KqlValue[]) => KqlValue[] | null;

const seriesNumbers = (v: KqlValue): number[] | null =>
  Array.isArray(v) ? v.map((x) => (typeof x === "number" && Number.isFinite(x) ? x : 0)) : null;

/**
 * series_fit_line(y) over x = 0, 1, …: (rsquare, slope, variance, rvariance, interception, line_fit), by least
 * squares. variance is the input's and rvariance the residuals' (both population variances, dividing by n).
 */
export function seriesFitLine(ys: number[]): KqlValue[] {
  const n = ys.length;
  if (n === 0) return [null, null, null, null, null, []];
  const { slope, meanX: mx, meanY: my } = leastSquares(ys);
  const interception = my - slope * mx;
  const fit = ys.map((_, i) => interception + slope * i);
  const ssTot = ys.reduce((a, y) => a + (y - my) ** 2, 0);
  const ssRes = ys.reduce((a, y, i) => a + (y - fit[i]!) ** 2, 0);
  const rsquare = ssTot === 0 ? 1 : 1 - ssRes / ssTot;
  return [rsquare, slope, ssTot / n, ssRes / n, interception, fit];
}

export const TUPLE_FUNCTIONS: Readonly<Record<string, { min: number; max: number; width: number; impl: TupleImpl }>> =
  Object.assign(Object.create(null), {
    series_fit_line: {
      min: 1,
      max: 1,
      width: 6,
      impl:
        ([a]: Fn[]) =>
        (r: KqlValue[]) => {
          const ys = seriesNumbers(a!(r));
          return ys ? seriesFitLine(ys) : null;
        },
    },
    series_decompose_anomalies: {
      min: 1,
      max: 4,
      width: 3,
      impl:
        ([a, t, s]: Fn[]) =>
        (r: KqlValue[]) => {
          const ys = seriesNumbers(a!(r));
          if (!ys) return null;
          const d = decomposeAnomalies(ys, t ? Number(t(r)) : 1.5, s ? Number(s(r)) : -1);
          return [d.flags, d.scores, d.baseline];
        },
    },
  });

/** `__tuple_part(i, f(args))`: element i of a tuple function's result (the call's args are compiled by the caller). */
export function compileTuplePart(
  e: Extract<Expr, { k: "call" }>,
  compileArg: (x: Expr) => Compiled,
  ctx: Ctx,
): Compiled {
  const idx = e.args[0]!.k === "lit" ? Number(e.args[0]!.v) : 0;
  const call = e.args[1]! as Extract<Expr, { k: "call" }>;
  const f = TUPLE_FUNCTIONS[call.name]!;
  if (call.args.length < f.min || call.args.length > f.max)
    fail(ctx, "semantic", `${call.name}() takes ${f.min} to ${f.max} argument(s), got ${call.args.length}`, call.pos);
  if (idx >= f.width)
    fail(ctx, "semantic", `${call.name}() returns ${f.width} columns; too many names on the left`, call.pos);
  const args = call.args.map((x) => compileArg(x).fn);
  const fn = f.impl(args);
  // One tuple per row, shared by the parts: keyed on the row object.
  const cache = new WeakMap<KqlValue[], KqlValue[] | null>();
  return {
    fn: (r) => {
      let v = cache.get(r);
      if (v === undefined) {
        v = fn(r);
        cache.set(r, v);
      }
      return v === null ? null : ((v[idx] ?? null) as KqlValue);
    },
    type: "dynamic",
  };
}
