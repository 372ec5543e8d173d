import { fail } from "./context.js";
import { type FunctionTable, type Impl, unary } from "./functions-common.js";
import type { KqlValue } from "./types.js";
import type { Compiled, Fn } from "./values.js";

// Null/empty tests and conditionals: isempty/isnull (and their negations), iff/iif, case, coalesce, max_of/min_of.

function iffImpl(args: Compiled[]): Compiled {
  const [p, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn];
  return { fn: (r) => (p(r) === true ? a(r) : b(r)), type: args[1]!.type };
}

function extremeOf(sign: 1 | -1): Impl {
  return (args) => {
    const fs = args.map((a) => a.fn);
    return {
      fn: (r) => {
        let best: KqlValue = null;
        for (const f of fs) {
          const v = f(r);
          if (v !== null && (best === null || (sign > 0 ? v > best : v < best))) best = v;
        }
        return best;
      },
      type: args[0]!.type,
    };
  };
}

export const CONDITIONAL_FUNCTIONS: FunctionTable = {
  isempty: { min: 1, max: 1, impl: unary("bool", (v) => v === null || v === "") },
  isnotempty: { min: 1, max: 1, impl: unary("bool", (v) => v !== null && v !== "") },
  isnull: { min: 1, max: 1, impl: unary("bool", (v) => v === null) },
  isnotnull: { min: 1, max: 1, impl: unary("bool", (v) => v !== null) },
  iff: { min: 3, max: 3, impl: iffImpl },
  iif: { min: 3, max: 3, impl: iffImpl },
  case: {
    min: 3,
    max: 201,
    impl: (args, e, ctx) => {
      if (args.length % 2 === 0)
        fail(ctx, "semantic", "case() needs predicate/value pairs followed by an else value", e.pos);
      const pairs: [Fn, Fn][] = [];
      for (let i = 0; i + 1 < args.length; i += 2) pairs.push([args[i]!.fn, args[i + 1]!.fn]);
      const otherwise = args[args.length - 1]!.fn;
      return {
        fn: (r) => {
          for (const [p, v] of pairs) if (p(r) === true) return v(r);
          return otherwise(r);
        },
        type: args[1]!.type,
      };
    },
  },
  coalesce: {
    min: 1,
    max: 64,
    impl: (args) => {
      const fs = args.map((a) => a.fn);
      return {
        fn: (r) => {
          for (const f of fs) {
            const v = f(r);
            if (v !== null && v !== "") return v;
          }
          return args[0]!.type === "string" ? "" : null;
        },
        type: args[0]!.type,
      };
    },
  },
  max_of: { min: 1, max: 64, impl: extremeOf(1) },
  min_of: { min: 1, max: 64, impl: extremeOf(-1) },
};
