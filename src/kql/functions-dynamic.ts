import { type Ctx, checkDynamic, fail } from "./context.js";
import { type Call, type FunctionTable, str, unary } from "./functions-common.js";
import type { KqlValue } from "./types.js";
import { type Compiled, type Fn, tryParseJson } from "./values.js";

// Dynamic values: parse_json/todynamic, array_length, bag_keys, pack_array, bag_pack/pack, set_has_element. Built
// values are held to the engine's dynamic size limit.

function packImpl(args: Compiled[], e: Call, ctx: Ctx): Compiled {
  if (args.length % 2) fail(ctx, "semantic", `${e.name}() needs key/value pairs`, e.pos);
  const fs = args.map((a) => a.fn);
  return {
    fn: (r) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < fs.length; i += 2) out[str(fs[i]!(r))] = fs[i + 1]!(r);
      return checkDynamic(ctx, out, `${e.name}()`, e.pos);
    },
    type: "dynamic",
  };
}

export const DYNAMIC_FUNCTIONS: FunctionTable = {
  /** set_difference(a, b, ...): the distinct elements of a that are in none of the others. */
  set_difference: {
    min: 2,
    max: 64,
    impl: (args) => {
      const fs = args.map((a) => a.fn);
      return {
        fn: (r) => {
          const first = fs[0]!(r);
          if (!Array.isArray(first)) return null;
          const drop = new Set<string>();
          for (const f of fs.slice(1)) {
            const v = f(r);
            if (Array.isArray(v)) for (const x of v) drop.add(JSON.stringify(x));
          }
          const seen = new Set<string>();
          const out: unknown[] = [];
          for (const x of first) {
            const k = JSON.stringify(x);
            if (drop.has(k) || seen.has(k)) continue;
            seen.add(k);
            out.push(x);
          }
          return out as KqlValue;
        },
        type: "dynamic",
      };
    },
  },
  parse_json: {
    min: 1,
    max: 1,
    impl: unary("dynamic", (v) => (typeof v === "string" ? (tryParseJson(v) as KqlValue) : v)),
  },
  todynamic: {
    min: 1,
    max: 1,
    impl: unary("dynamic", (v) => (typeof v === "string" ? (tryParseJson(v) as KqlValue) : v)),
  },
  array_length: { min: 1, max: 1, impl: unary("long", (v) => (Array.isArray(v) ? v.length : null)) },
  /** array_concat(a, b, ...): one array of all elements; null when any argument is not an array. */
  array_concat: {
    min: 1,
    max: 64,
    impl: (args, e, ctx) => {
      const fs = args.map((a) => a.fn);
      return {
        fn: (r) => {
          const out: unknown[] = [];
          for (const f of fs) {
            const v = f(r);
            if (!Array.isArray(v)) return null;
            out.push(...v);
          }
          return checkDynamic(ctx, out as KqlValue, "array_concat()", e.pos);
        },
        type: "dynamic",
      };
    },
  },
  /** array_slice(a, start, end): elements start..end inclusive; negative indexes count from the end. */
  array_slice: {
    min: 3,
    max: 3,
    impl: (args) => {
      const [a, s, t] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) => {
          const v = a(r);
          const start = s(r);
          const end = t(r);
          if (!Array.isArray(v) || typeof start !== "number" || typeof end !== "number") return null;
          const from = start < 0 ? Math.max(0, v.length + start) : start;
          const to = end < 0 ? v.length + end : Math.min(end, v.length - 1);
          return (from > to ? [] : v.slice(from, to + 1)) as KqlValue;
        },
        type: "dynamic",
      };
    },
  },
  bag_keys: {
    min: 1,
    max: 1,
    impl: unary("dynamic", (v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : null)),
  },
  pack_array: {
    min: 1,
    max: 64,
    impl: (args, e, ctx) => {
      const fs = args.map((a) => a.fn);
      return {
        fn: (r) =>
          checkDynamic(
            ctx,
            fs.map((f) => f(r)),
            "pack_array()",
            e.pos,
          ),
        type: "dynamic",
      };
    },
  },
  bag_pack: { min: 2, max: 128, impl: packImpl },
  pack: { min: 2, max: 128, impl: packImpl },
  set_has_element: {
    min: 2,
    max: 2,
    impl: (args) => {
      const [a, b] = args.map((x) => x.fn) as [Fn, Fn];
      return {
        fn: (r) => {
          const arr = a(r);
          return Array.isArray(arr) ? arr.includes(b(r)) : null;
        },
        type: "bool",
      };
    },
  },
};
