import { type Ctx, dynSize, fail, MAX_ARRAY_ELEMENTS } from "./context.js";
import { compile } from "./expr.js";
import { derivedName } from "./naming.js";
import type { Expr, NamedExpr } from "./parser.js";
import type { KqlColumn, KqlType, KqlValue } from "./types.js";
import { type Fn, groupKey, lessThan, type Row } from "./values.js";

// Aggregation functions for summarize and make-series: init/step/done over a per-group state, no per-row allocation
// for the common ones (count, sum, min, max are plain numbers).

export interface Agg {
  name: string;
  type: KqlType;
  /** arg_max / arg_min produce several columns; done() then returns an array of their values. */
  expand?: KqlColumn[];
  init(): unknown;
  step(state: unknown, row: Row): unknown;
  done(state: unknown): KqlValue;
}

type Call = Extract<Expr, { k: "call" }>;

const num = (v: KqlValue): number | null => (typeof v === "number" ? v : v === null || v === "" ? null : Number(v));

function counter(name: string, pred?: Fn): Agg {
  return {
    name,
    type: "long",
    init: () => 0,
    step: pred ? (s, r) => (pred(r) === true ? (s as number) + 1 : s) : (s) => (s as number) + 1,
    done: (s) => s as number,
  };
}

export function aggregate(it: NamedExpr, columns: KqlColumn[], ctx: Ctx, byNames: string[] = []): Agg {
  const e = it.e;
  if (e.k !== "call")
    fail(
      ctx,
      "unsupported",
      "each summarize item must be a single aggregation call such as count() or sum(X); expressions over aggregates are not supported by the local engine",
      e.pos,
    );
  const call = e;
  const argAt = (i: number) => {
    const a = call.args[i];
    if (!a) fail(ctx, "semantic", `${call.name}() needs at least ${i + 1} argument(s)`, call.pos);
    return compile(a, columns, ctx);
  };
  const argName = call.args[0] ? derivedName(call.args[0]) : undefined;
  const named = (prefix: string) => it.name ?? (argName ? `${prefix}_${argName}` : `${prefix}_`);
  const pred = (i: number): Fn => argAt(i).fn;
  switch (call.name) {
    case "count": {
      // count(X) counts the rows where X is not null; count() every row.
      if (!call.args[0]) return counter(it.name ?? "count_");
      const x = argAt(0).fn;
      return counter(it.name ?? "count_", (r) => x(r) !== null);
    }
    case "make_bag":
    case "make_bag_if": {
      const f = argAt(0).fn;
      const p = call.name === "make_bag_if" ? pred(1) : undefined;
      return {
        name: named("bag"),
        type: "dynamic",
        init: () => ({}) as Record<string, unknown>,
        step: (s, r) => {
          if (p && p(r) !== true) return s;
          const v = f(r);
          // Property bags merge; a key seen again keeps its first value (Kusto keeps one, unspecified which).
          if (v && typeof v === "object" && !Array.isArray(v))
            for (const [k, x] of Object.entries(v))
              if (!Object.hasOwn(s as object, k)) (s as Record<string, unknown>)[k] = x;
          return s;
        },
        done: (s) => s as KqlValue,
      };
    }
    case "countif":
      return counter(it.name ?? "countif_", pred(0));
    case "dcount":
    case "dcountif": {
      const f = argAt(0).fn;
      const p = call.name === "dcountif" ? pred(1) : undefined;
      return {
        name: named(call.name),
        type: "long",
        init: () => new Set(),
        step: (s, r) => {
          if (p && p(r) !== true) return s;
          const v = f(r);
          return v === null ? s : (s as Set<unknown>).add(groupKey(v));
        },
        done: (s) => (s as Set<unknown>).size,
      };
    }
    case "sum":
    case "sumif": {
      const c = argAt(0);
      const f = c.fn;
      const p = call.name === "sumif" ? pred(1) : undefined;
      return {
        name: named(call.name),
        type: c.type === "int" || c.type === "long" || c.type === "timespan" ? c.type : "real",
        init: () => 0,
        step: (s, r) => {
          if (p && p(r) !== true) return s;
          const v = num(f(r));
          return v === null || Number.isNaN(v) ? s : (s as number) + v;
        },
        done: (s) => s as number,
      };
    }
    case "avg":
    case "avgif": {
      const f = argAt(0).fn;
      const p = call.name === "avgif" ? pred(1) : undefined;
      return {
        name: named(call.name),
        type: "real",
        init: () => ({ sum: 0, n: 0 }),
        step: (s, r) => {
          if (p && p(r) !== true) return s;
          const v = num(f(r));
          if (v !== null && !Number.isNaN(v)) {
            const st = s as { sum: number; n: number };
            st.sum += v;
            st.n++;
          }
          return s;
        },
        done: (s) => {
          const st = s as { sum: number; n: number };
          return st.n ? st.sum / st.n : null;
        },
      };
    }
    case "min":
    case "max":
    case "minif":
    case "maxif": {
      const c = argAt(0);
      const f = c.fn;
      const p = call.name.endsWith("if") ? pred(1) : undefined;
      const isMin = call.name.startsWith("min");
      return {
        name: named(call.name),
        type: c.type,
        init: () => null,
        step: (s, r) => {
          if (p && p(r) !== true) return s;
          const v = f(r);
          if (v === null) return s;
          return s === null || (isMin ? lessThan(v, s as KqlValue) : lessThan(s as KqlValue, v)) ? v : s;
        },
        done: (s) => s as KqlValue,
      };
    }
    case "make_set":
    case "make_list":
    case "make_set_if":
    case "make_list_if": {
      const f = argAt(0).fn;
      const isIf = call.name.endsWith("_if");
      const p = isIf ? pred(1) : undefined;
      const limitArg = call.args[isIf ? 2 : 1];
      // Kusto's default and maximum list size; larger requests are clamped, so one list stays bounded.
      const limit = Math.min(limitArg ? Number(compile(limitArg, [], ctx).fn([])) : 1_048_576, 1_048_576);
      const set = call.name.startsWith("make_set");
      return {
        // Kusto names make_set(X) set_X and make_list(X) list_X.
        name: named(set ? "set" : "list"),
        type: "dynamic",
        init: () => ({ seen: new Set<unknown>(), out: [] as unknown[], size: 1 }),
        step: (s, r) => {
          if (p && p(r) !== true) return s;
          const st = s as { seen: Set<unknown>; out: unknown[]; size: number };
          const v = f(r);
          if (v === null || st.out.length >= limit) return st;
          // Elements can themselves be large arrays: bound the whole list, not only its length.
          st.size += dynSize(v);
          if (st.size > MAX_ARRAY_ELEMENTS)
            fail(
              ctx,
              "limit",
              `${call.name}() would build a dynamic value with more than ${MAX_ARRAY_ELEMENTS} elements`,
              call.pos,
            );
          if (set) {
            const k = groupKey(v);
            if (st.seen.has(k)) return st;
            st.seen.add(k);
          }
          st.out.push(v);
          return st;
        },
        done: (s) => (s as { out: unknown[] }).out,
      };
    }
    case "take_any":
    case "any": {
      const c = argAt(0);
      const f = c.fn;
      return {
        name: it.name ?? (call.name === "take_any" && argName ? argName : named(call.name)),
        type: c.type,
        init: () => undefined,
        step: (s, r) => (s === undefined ? f(r) : s),
        done: (s) => (s === undefined ? null : (s as KqlValue)),
      };
    }
    case "percentile": {
      const f = argAt(0).fn;
      const pct = Number(
        compile(call.args[1] ?? fail(ctx, "semantic", "percentile() needs a percentage", call.pos), [], ctx).fn([]),
      );
      return {
        name: it.name ?? `percentile_${argName ?? ""}_${String(pct).replace(".", "_")}`,
        type: "real",
        init: () => [] as number[],
        step: (s, r) => {
          const v = num(f(r));
          if (v !== null && !Number.isNaN(v)) (s as number[]).push(v);
          return s;
        },
        // Nearest-rank percentile (exact; Kusto's is an estimate that agrees on small inputs).
        done: (s) => {
          const xs = (s as number[]).sort((a, b) => a - b);
          if (!xs.length) return null;
          return xs[Math.max(0, Math.ceil((pct / 100) * xs.length) - 1)]!;
        },
      };
    }
    case "stdev":
    case "variance": {
      const f = argAt(0).fn;
      const stdev = call.name === "stdev";
      return {
        name: named(call.name),
        type: "real",
        init: () => ({ n: 0, mean: 0, m2: 0 }),
        step: (s, r) => {
          const v = num(f(r));
          if (v === null || Number.isNaN(v)) return s;
          // Welford's online update: stable without a second pass.
          const st = s as { n: number; mean: number; m2: number };
          st.n++;
          const d = v - st.mean;
          st.mean += d / st.n;
          st.m2 += d * (v - st.mean);
          return s;
        },
        done: (s) => {
          const st = s as { n: number; mean: number; m2: number };
          if (st.n < 2) return st.n === 1 ? 0 : null;
          const variance = st.m2 / (st.n - 1);
          return stdev ? Math.sqrt(variance) : variance;
        },
      };
    }
    case "arg_max":
    case "arg_min":
      return argExtreme(it, call, columns, ctx, byNames);
    default:
      fail(
        ctx,
        "unsupported",
        `aggregation ${call.name}() is not supported by the local engine (supported: count, countif, dcount, dcountif, sum, sumif, avg, avgif, min, max, minif, maxif, make_set, make_list, make_set_if, make_list_if, take_any, any, arg_max, arg_min, percentile, stdev, variance)`,
        call.pos,
      );
  }
}

/** arg_max(X, cols | *): the row with the largest X (smallest for arg_min); ties keep the first row seen. */
function argExtreme(it: NamedExpr, call: Call, columns: KqlColumn[], ctx: Ctx, byNames: string[]): Agg {
  const target = call.args[0] ?? fail(ctx, "semantic", `${call.name}() needs an expression`, call.pos);
  const t = compile(target, columns, ctx);
  const argName = it.name ?? derivedName(target) ?? `${call.name === "arg_max" ? "max" : "min"}_`;
  const picks: { name: string; fn: Fn; type: KqlType }[] = [];
  const excluded = new Set([argName, ...byNames]);
  for (const a of call.args.slice(1)) {
    if (a.k === "star") {
      columns.forEach((c, idx) => {
        if (!excluded.has(c.name) && !picks.some((p) => p.name === c.name))
          picks.push({ name: c.name, fn: (row) => row[idx] ?? null, type: c.type });
      });
    } else {
      const c = compile(a, columns, ctx);
      picks.push({ name: derivedName(a) ?? `Column${picks.length + 1}`, fn: c.fn, type: c.type });
    }
  }
  const isMax = call.name === "arg_max";
  const f = t.fn;
  return {
    name: argName,
    type: t.type,
    expand: [{ name: argName, type: t.type }, ...picks.map((p) => ({ name: p.name, type: p.type }))],
    init: () => undefined,
    step: (st, row) => {
      const v = f(row);
      if (v === null) return st;
      const cur = st as { v: KqlValue; vals: KqlValue[] } | undefined;
      if (cur === undefined || (isMax ? lessThan(cur.v, v) : lessThan(v, cur.v)))
        return { v, vals: picks.map((p) => p.fn(row)) };
      return cur;
    },
    done: (st) => {
      const cur = st as { v: KqlValue; vals: KqlValue[] } | undefined;
      return (cur ? [cur.v, ...cur.vals] : [null, ...picks.map(() => null)]) as unknown as KqlValue;
    },
  };
}
