import type { Expr } from "./ast.js";
import type { Ctx } from "./context.js";
import type { KqlType, KqlValue } from "./types.js";
import type { Compiled } from "./values.js";

// What every scalar-function family is built from: the shape of an entry (arity and a compile step that returns a
// closure), the loose string/number readings of a value, and the builders for one-argument functions.

export type Call = Extract<Expr, { k: "call" }>;
export type Impl = (args: Compiled[], e: Call, ctx: Ctx) => Compiled;
/** Functions by name: each checks its arity at compile time and returns a closure. */
export type FunctionTable = Record<string, { min: number; max: number; impl: Impl }>;

export const str = (v: KqlValue): string =>
  v === null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
export const num = (v: KqlValue): number | null => {
  if (v === null || v === "" || typeof v === "object") return null;
  const n = Number(v);
  return Number.isNaN(n) ? null : n;
};

export function unary(type: KqlType, f: (v: KqlValue) => KqlValue): Impl {
  return (args) => {
    const a = args[0]!.fn;
    return { fn: (r) => f(a(r)), type };
  };
}

/** The value of a constant argument (a regex, a format): functions take these at compile time. */
export function constArg(args: Compiled[], i: number): KqlValue {
  return args[i]!.fn([]);
}
