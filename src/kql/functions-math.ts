import { type FunctionTable, type Impl, num, unary } from "./functions-common.js";
import type { KqlType } from "./types.js";
import type { Fn } from "./values.js";

// Numeric functions: round, abs, ceiling, sqrt, log, log10, exp, pow.

function numeric(f: (n: number) => number, type: KqlType = "real"): Impl {
  return unary(type, (v) => {
    const n = num(v);
    return n === null ? null : f(n);
  });
}

export const MATH_FUNCTIONS: FunctionTable = {
  round: {
    min: 1,
    max: 2,
    impl: (args) => {
      const [a, p] = args.map((x) => x.fn) as [Fn, Fn | undefined];
      return {
        fn: (r) => {
          const v = num(a(r));
          if (v === null) return null;
          const f = 10 ** (p ? Number(p(r)) || 0 : 0);
          return Math.round(v * f) / f;
        },
        type: args[0]!.type === "real" || args.length > 1 ? "real" : args[0]!.type,
      };
    },
  },
  abs: { min: 1, max: 1, impl: (args, e, ctx) => numeric(Math.abs, args[0]!.type)(args, e, ctx) },
  ceiling: { min: 1, max: 1, impl: (args, e, ctx) => numeric(Math.ceil, args[0]!.type)(args, e, ctx) },
  sqrt: { min: 1, max: 1, impl: numeric(Math.sqrt) },
  log: { min: 1, max: 1, impl: numeric(Math.log) },
  log10: { min: 1, max: 1, impl: numeric(Math.log10) },
  exp: { min: 1, max: 1, impl: numeric(Math.exp) },
  pow: {
    min: 2,
    max: 2,
    impl: (args) => {
      const [a, b] = args.map((x) => x.fn) as [Fn, Fn];
      return {
        fn: (r) => {
          const x = num(a(r));
          const y = num(b(r));
          return x === null || y === null ? null : x ** y;
        },
        type: "real",
      };
    },
  },
};
