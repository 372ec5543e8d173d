import { type FunctionTable, type Impl, num, str, unary } from "./functions-common.js";
import type { KqlValue } from "./types.js";
import { parseDatetime, parseTimespan, toKqlString } from "./values.js";

// Conversions between scalar types: tostring, toint/tolong/todouble/..., tobool, todatetime, totimespan.

function toBool(v: KqlValue): KqlValue {
  if (v === null) return null;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  const s = str(v).toLowerCase();
  return s === "true" ? true : s === "false" ? false : null;
}

function toNumber(integer: boolean): (v: KqlValue) => KqlValue {
  return (v) => {
    if (typeof v === "boolean") return v ? 1 : 0;
    const n = num(typeof v === "string" ? v.trim() : v);
    return n === null ? null : integer ? Math.trunc(n) : n;
  };
}

/** todatetime/totimespan: a value already of the type passes, a string is parsed, any other value is null. */
function toTemporal(type: "datetime" | "timespan", parse: (s: string) => number | null): Impl {
  return (args) => {
    const a = args[0]!.fn;
    const t = args[0]!.type;
    return {
      fn: (r) => {
        const v = a(r);
        if (typeof v === "number") return t === type ? v : null;
        return typeof v === "string" ? parse(v) : null;
      },
      type,
    };
  };
}

export const CONVERSION_FUNCTIONS: FunctionTable = {
  tostring: {
    min: 1,
    max: 1,
    impl: (args) => {
      const a = args[0]!.fn;
      const t = args[0]!.type;
      return { fn: (r) => toKqlString(a(r), t), type: "string" };
    },
  },
  toint: { min: 1, max: 1, impl: unary("int", toNumber(true)) },
  tolong: { min: 1, max: 1, impl: unary("long", toNumber(true)) },
  todouble: { min: 1, max: 1, impl: unary("real", toNumber(false)) },
  toreal: { min: 1, max: 1, impl: unary("real", toNumber(false)) },
  todecimal: { min: 1, max: 1, impl: unary("real", toNumber(false)) },
  tobool: { min: 1, max: 1, impl: unary("bool", toBool) },
  toboolean: { min: 1, max: 1, impl: unary("bool", toBool) },
  todatetime: { min: 1, max: 1, impl: toTemporal("datetime", parseDatetime) },
  totimespan: { min: 1, max: 1, impl: toTemporal("timespan", parseTimespan) },
};
