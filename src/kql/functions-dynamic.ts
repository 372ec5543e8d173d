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
