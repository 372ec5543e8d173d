import { createHash } from "node:crypto";
import { type Ctx, checkDynamic, checkString, fail, MAX_STRING_LENGTH, stringLimit } from "./context.js";
import type { Expr } from "./parser.js";
import { compileRegex, firstMatch, type Regex, RegexError, replaceAll } from "./regex.js";
import { seriesDecomposeAnomalies, seriesOutliers } from "./series.js";
import type { KqlType, KqlValue } from "./types.js";
import { type Compiled, type Fn, lower, parseDatetime, parseTimespan, toKqlString, tryParseJson } from "./values.js";

// Scalar functions. Each entry checks its arity at compile time and returns a closure; unknown names are errors.

type Call = Extract<Expr, { k: "call" }>;
type Impl = (args: Compiled[], e: Call, ctx: Ctx) => Compiled;

const DAY = 86_400_000;
const str = (v: KqlValue): string =>
  v === null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
const num = (v: KqlValue): number | null => {
  if (v === null || v === "" || typeof v === "object") return null;
  const n = Number(v);
  return Number.isNaN(n) ? null : n;
};

const seriesNumber = (x: unknown): number | null => (typeof x === "number" ? x : null);

/** Kusto's base64_decode_tostring: empty when the bytes are not base64 of valid UTF-8. */
function base64Text(s: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return "";
  const text = Buffer.from(s, "base64").toString("utf8");
  return text.includes("\uFFFD") ? "" : text;
}

function urlDecode(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    return "";
  }
}

function unary(type: KqlType, f: (v: KqlValue) => KqlValue): Impl {
  return (args) => {
    const a = args[0]!.fn;
    return { fn: (r) => f(a(r)), type };
  };
}

function numeric(f: (n: number) => number, type: KqlType = "real"): Impl {
  return unary(type, (v) => {
    const n = num(v);
    return n === null ? null : f(n);
  });
}

function regex(pattern: KqlValue, e: Call, ctx: Ctx, prefix = "", suffix = ""): Regex {
  const p = String(pattern ?? "");
  try {
    return compileRegex(`${prefix}${p}${suffix}`);
  } catch (err) {
    if (err instanceof RegexError) fail(ctx, "semantic", `regex "${p}" in ${fnName(e)} ${err.message}`, e.pos);
    throw err;
  }
}

const fnName = (e: Call) => (e.name === "__matches" ? "matches regex" : `${e.name}()`);

/** The pattern argument must not depend on the row: it is compiled once per query. */
function constPattern(args: Compiled[], i: number, e: Call, ctx: Ctx): KqlValue {
  const a = e.args[i]!;
  if (a.k === "col" && !ctx.scalars.has(a.name) && !ctx.params?.has(a.name))
    fail(ctx, "unsupported", `the regex of ${fnName(e)} must be a constant`, e.pos);
  return constArg(args, i);
}

/** The value of a constant argument (a regex, a format): functions take these at compile time. */
function constArg(args: Compiled[], i: number): KqlValue {
  return args[i]!.fn([]);
}

function startOf(unit: "day" | "week" | "month" | "year"): Impl {
  return unary("datetime", (v) => {
    if (typeof v !== "number") return null;
    if (unit === "day") return Math.floor(v / DAY) * DAY;
    const d = new Date(Math.floor(v / DAY) * DAY);
    if (unit === "week") return d.getTime() - d.getUTCDay() * DAY;
    if (unit === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return Date.UTC(d.getUTCFullYear(), 0, 1);
  });
}

/** format_datetime with the common .NET-style specifiers (yyyy, yy, MM, dd, HH, hh, mm, ss, f…, tt). */
function formatDatetimeWith(ms: number, fmt: string): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return fmt.replace(/yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|tt/g, (t) => {
    switch (t) {
      case "yyyy":
        return p(d.getUTCFullYear(), 4);
      case "yy":
        return p(d.getUTCFullYear() % 100);
      case "MM":
        return p(d.getUTCMonth() + 1);
      case "M":
        return String(d.getUTCMonth() + 1);
      case "dd":
        return p(d.getUTCDate());
      case "d":
        return String(d.getUTCDate());
      case "HH":
        return p(d.getUTCHours());
      case "H":
        return String(d.getUTCHours());
      case "hh":
        return p(d.getUTCHours() % 12 || 12);
      case "h":
        return String(d.getUTCHours() % 12 || 12);
      case "mm":
        return p(d.getUTCMinutes());
      case "m":
        return String(d.getUTCMinutes());
      case "ss":
        return p(d.getUTCSeconds());
      case "s":
        return String(d.getUTCSeconds());
      case "tt":
        return d.getUTCHours() < 12 ? "AM" : "PM";
      default:
        return p(d.getUTCMilliseconds(), 3).padEnd(t.length, "0").slice(0, t.length);
    }
  });
}

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

const FUNCTIONS: Record<string, { min: number; max: number; impl: Impl }> = {
  ago: {
    min: 1,
    max: 1,
    impl: (args, _e, ctx) => {
      const a = args[0]!.fn;
      return {
        fn: (r) => {
          const v = a(r);
          return v === null ? null : ctx.now - (v as number);
        },
        type: "datetime",
      };
    },
  },
  now: {
    min: 0,
    max: 1,
    impl: (args, _e, ctx) => {
      const a = args[0]?.fn;
      return { fn: (r) => ctx.now + (a ? ((a(r) as number) ?? 0) : 0), type: "datetime" };
    },
  },
  bin: { min: 2, max: 2, impl: binImpl },
  floor: { min: 2, max: 2, impl: binImpl },
  bin_at: {
    min: 3,
    max: 3,
    impl: (args) => {
      const [a, s, at] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) => {
          const v = a(r);
          const step = s(r) as number;
          const base = at(r) as number;
          return typeof v !== "number" || !step ? null : Math.floor((v - base) / step) * step + base;
        },
        type: args[0]!.type,
      };
    },
  },
  startofday: { min: 1, max: 1, impl: startOf("day") },
  startofweek: { min: 1, max: 1, impl: startOf("week") },
  startofmonth: { min: 1, max: 1, impl: startOf("month") },
  startofyear: { min: 1, max: 1, impl: startOf("year") },
  endofday: {
    min: 1,
    max: 1,
    impl: unary("datetime", (v) => (typeof v === "number" ? Math.floor(v / DAY) * DAY + DAY - 0.0001 : null)),
  },
  dayofweek: {
    min: 1,
    max: 1,
    impl: unary("timespan", (v) => (typeof v === "number" ? new Date(v).getUTCDay() * DAY : null)),
  },
  hourofday: { min: 1, max: 1, impl: unary("int", (v) => (typeof v === "number" ? new Date(v).getUTCHours() : null)) },
  getyear: { min: 1, max: 1, impl: unary("int", (v) => (typeof v === "number" ? new Date(v).getUTCFullYear() : null)) },
  getmonth: {
    min: 1,
    max: 1,
    impl: unary("int", (v) => (typeof v === "number" ? new Date(v).getUTCMonth() + 1 : null)),
  },
  format_datetime: {
    min: 2,
    max: 2,
    impl: (args) => {
      const a = args[0]!.fn;
      const fmt = str(constArg(args, 1));
      return { fn: (r) => (typeof a(r) === "number" ? formatDatetimeWith(a(r) as number, fmt) : ""), type: "string" };
    },
  },
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
  todatetime: {
    min: 1,
    max: 1,
    impl: (args) => {
      const a = args[0]!.fn;
      const t = args[0]!.type;
      return {
        fn: (r) => {
          const v = a(r);
          if (typeof v === "number") return t === "datetime" ? v : null;
          return typeof v === "string" ? parseDatetime(v) : null;
        },
        type: "datetime",
      };
    },
  },
  totimespan: {
    min: 1,
    max: 1,
    impl: (args) => {
      const a = args[0]!.fn;
      const t = args[0]!.type;
      return {
        fn: (r) => {
          const v = a(r);
          if (typeof v === "number") return t === "timespan" ? v : null;
          return typeof v === "string" ? parseTimespan(v) : null;
        },
        type: "timespan",
      };
    },
  },
  tolower: { min: 1, max: 1, impl: unary("string", (v) => lower(v)) },
  toupper: { min: 1, max: 1, impl: unary("string", (v) => str(v).toUpperCase()) },
  strlen: { min: 1, max: 1, impl: unary("long", (v) => [...str(v)].length) },
  strcat: {
    min: 1,
    max: 64,
    impl: (args, e, ctx) => {
      const parts = args.map((a) => ({ f: a.fn, t: a.type }));
      return {
        fn: (r) => checkString(ctx, parts.map((p) => toKqlString(p.f(r), p.t)).join(""), "strcat()", e.pos),
        type: "string",
      };
    },
  },
  strcat_delim: {
    min: 3,
    max: 64,
    impl: (args, e, ctx) => {
      const d = args[0]!.fn;
      const parts = args.slice(1).map((a) => ({ f: a.fn, t: a.type }));
      return {
        fn: (r) =>
          checkString(ctx, parts.map((p) => toKqlString(p.f(r), p.t)).join(str(d(r))), "strcat_delim()", e.pos),
        type: "string",
      };
    },
  },
  substring: {
    min: 2,
    max: 3,
    impl: (args) => {
      const [s, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn | undefined];
      return {
        fn: (r) => {
          const text = str(s(r));
          const start = Math.max(0, Number(a(r)) || 0);
          return b ? text.substring(start, start + Math.max(0, Number(b(r)) || 0)) : text.substring(start);
        },
        type: "string",
      };
    },
  },
  indexof: {
    min: 2,
    max: 2,
    impl: (args) => {
      const [s, n] = args.map((x) => x.fn) as [Fn, Fn];
      return { fn: (r) => str(s(r)).indexOf(str(n(r))), type: "long" };
    },
  },
  trim: { min: 2, max: 2, impl: trimImpl(true, true) },
  trim_start: { min: 2, max: 2, impl: trimImpl(true, false) },
  trim_end: { min: 2, max: 2, impl: trimImpl(false, true) },
  split: {
    min: 2,
    max: 3,
    impl: (args) => {
      const [s, d, i] = args.map((x) => x.fn) as [Fn, Fn, Fn | undefined];
      return {
        fn: (r) => {
          const parts = str(s(r)).split(str(d(r)));
          if (!i) return parts;
          const at = Number(i(r));
          return at >= 0 && at < parts.length ? [parts[at]] : [];
        },
        type: "dynamic",
      };
    },
  },
  replace_string: {
    min: 3,
    max: 3,
    impl: (args, e, ctx) => {
      const [s, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) => {
          const parts = str(s(r)).split(str(a(r)));
          const by = str(b(r));
          // Checked before joining: "" as the needle splits between every character.
          if ((parts.length - 1) * by.length > MAX_STRING_LENGTH) stringLimit(ctx, "replace_string()", e.pos);
          return checkString(ctx, parts.join(by), "replace_string()", e.pos);
        },
        type: "string",
      };
    },
  },
  replace_regex: {
    min: 3,
    max: 3,
    impl: (args, e, ctx) => {
      const re = regex(constPattern(args, 1, e, ctx), e, ctx);
      const [s, , b] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) =>
          replaceAll(re, str(s(r)), str(b(r)), MAX_STRING_LENGTH) ?? stringLimit(ctx, "replace_regex()", e.pos),
        type: "string",
      };
    },
  },
  extract: {
    min: 3,
    max: 3,
    impl: (args, e, ctx) => {
      const re = regex(constPattern(args, 0, e, ctx), e, ctx);
      const g = Number(constArg(args, 1));
      const s = args[2]!.fn;
      return { fn: (r) => firstMatch(re, str(s(r)))?.[g] ?? null, type: "string" };
    },
  },
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
  // Encodings: Sentinel content uses them, and so does anyone trying to carry a redacted value past a pattern scan.
  reverse: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : [...str(v)].reverse().join(""))) },
  base64_encode_tostring: {
    min: 1,
    max: 1,
    impl: unary("string", (v) => (v === null ? "" : Buffer.from(str(v), "utf8").toString("base64"))),
  },
  base64_decode_tostring: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : base64Text(str(v)))) },
  url_encode: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : encodeURIComponent(str(v)))) },
  url_encode_component: {
    min: 1,
    max: 1,
    impl: unary("string", (v) => (v === null ? "" : encodeURIComponent(str(v)))),
  },
  url_decode: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : urlDecode(str(v)))) },
  unicode_codepoints_from_string: {
    min: 1,
    max: 1,
    impl: unary("dynamic", (v) => (v === null ? null : [...str(v)].map((c) => c.codePointAt(0)!))),
  },
  unicode_codepoints_to_string: {
    min: 1,
    max: 64,
    impl: (args, e, ctx) => {
      const fs = args.map((a) => a.fn);
      return {
        fn: (r) => {
          const codes = fs.flatMap((f) => {
            const v = f(r);
            return Array.isArray(v) ? v : [v];
          });
          if (!codes.every((c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 0x10ffff)) return null;
          return checkString(
            ctx,
            String.fromCodePoint(...(codes as number[])),
            "unicode_codepoints_to_string()",
            e.pos,
          );
        },
        type: "string",
      };
    },
  },
  strcat_array: {
    min: 2,
    max: 2,
    impl: (args, e, ctx) => {
      const [a, d] = args.map((x) => x.fn) as [Fn, Fn];
      return {
        fn: (r) => {
          const arr = a(r);
          if (!Array.isArray(arr)) return null;
          const parts = arr.map((x) => (typeof x === "string" ? x : x === null ? "" : JSON.stringify(x)));
          return checkString(ctx, parts.join(str(d(r))), "strcat_array()", e.pos);
        },
        type: "string",
      };
    },
  },
  tohex: {
    min: 1,
    max: 2,
    impl: (args) => {
      const [a, w] = args.map((x) => x.fn) as [Fn, Fn | undefined];
      return {
        fn: (r) => {
          const n = num(a(r));
          if (n === null || !Number.isInteger(n)) return null;
          const hex = (n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16);
          const width = w ? Number(w(r)) : 0;
          return width > hex.length ? hex.padStart(Math.min(width, 64), "0") : hex;
        },
        type: "string",
      };
    },
  },
  hash_sha256: {
    min: 1,
    max: 1,
    impl: unary("string", (v) => createHash("sha256").update(str(v)).digest("hex")),
  },
  series_outliers: {
    min: 1,
    max: 5,
    impl: (args) => {
      const a = args[0]!.fn;
      const kind = args[1] ? str(constArg(args, 1)) || "ctukey" : "ctukey";
      const ignore = args[2] ? (constArg(args, 2) as number | null) : null;
      const lo = args[3] ? Number(constArg(args, 3)) : 10;
      const hi = args[4] ? Number(constArg(args, 4)) : 90;
      return {
        fn: (r) => {
          const v = a(r);
          return Array.isArray(v) ? seriesOutliers(v.map(seriesNumber), kind, ignore, lo, hi) : null;
        },
        type: "dynamic",
      };
    },
  },
  series_decompose_anomalies: {
    min: 1,
    max: 3,
    impl: (args) => {
      const [a, t, s] = args.map((x) => x.fn) as [Fn, Fn | undefined, Fn | undefined];
      return {
        fn: (r) => {
          const v = a(r);
          if (!Array.isArray(v)) return null;
          return seriesDecomposeAnomalies(v.map(seriesNumber), t ? Number(t(r)) : 1.5, s ? Number(s(r)) : -1);
        },
        type: "dynamic",
      };
    },
  },
  __matches: {
    min: 2,
    max: 2,
    impl: (args, e, ctx) => {
      const re = regex(constPattern(args, 1, e, ctx), e, ctx);
      const a = args[0]!.fn;
      return { fn: (r) => re.test(str(a(r))), type: "bool" };
    },
  },
};

function binImpl(args: Compiled[], e: Call, ctx: Ctx): Compiled {
  const a = args[0]!.fn;
  const s = args[1]!.fn;
  const constStep = e.args[1]!.k === "lit" ? (s([]) as number) : undefined;
  if (constStep !== undefined && !(constStep > 0))
    fail(ctx, "semantic", `${e.name}() needs a positive bin size`, e.pos);
  if (constStep !== undefined)
    return {
      fn: (r) => {
        const v = a(r);
        return typeof v === "number" ? Math.floor(v / constStep) * constStep : null;
      },
      type: args[0]!.type,
    };
  return {
    fn: (r) => {
      const v = a(r);
      const step = s(r);
      return typeof v !== "number" || typeof step !== "number" || !(step > 0) ? null : Math.floor(v / step) * step;
    },
    type: args[0]!.type,
  };
}

function iffImpl(args: Compiled[]): Compiled {
  const [p, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn];
  return { fn: (r) => (p(r) === true ? a(r) : b(r)), type: args[1]!.type };
}

function trimImpl(start: boolean, end: boolean): Impl {
  return (args, e, ctx) => {
    const p = constPattern(args, 0, e, ctx);
    regex(p, e, ctx); // validates the pattern itself first, for a clear message
    // RE2 runs in linear time, so these anchored repetitions cannot blow up on long input.
    const head = start ? regex(p, e, ctx, "^(?:", ")+") : undefined;
    const tail = end ? regex(p, e, ctx, "(?:", ")+$") : undefined;
    const s = args[1]!.fn;
    return {
      fn: (r) => {
        let v = str(s(r));
        if (head) {
          const m = head.matcher(v);
          if (m.find()) v = v.slice(m.end());
        }
        if (tail) {
          const m = tail.matcher(v);
          if (m.find()) v = v.slice(0, m.start());
        }
        return v;
      },
      type: "string",
    };
  };
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

/** Aggregation names (implemented in aggregates.ts), so that using one outside summarize gets a precise error. */
export const AGGREGATION_NAMES: ReadonlySet<string> = new Set([
  "count",
  "countif",
  "dcount",
  "dcountif",
  "sum",
  "sumif",
  "avg",
  "avgif",
  "min",
  "max",
  "minif",
  "maxif",
  "make_set",
  "make_set_if",
  "make_list",
  "make_list_if",
  "take_any",
  "any",
  "arg_max",
  "arg_min",
  "percentile",
  "stdev",
  "variance",
]);

export function compileCall(e: Call, args: Compiled[], ctx: Ctx): Compiled {
  const f = FUNCTIONS[e.name];
  if (!f) {
    if (AGGREGATION_NAMES.has(e.name))
      fail(ctx, "semantic", `aggregation ${e.name}() is only valid in summarize or make-series`, e.pos);
    fail(ctx, "unsupported", `function ${e.name}() is not supported by the local engine`, e.pos);
  }
  if (args.length < f.min || args.length > f.max)
    fail(
      ctx,
      "semantic",
      `${e.name}() takes ${f.min === f.max ? f.min : `${f.min} to ${f.max}`} argument(s), got ${args.length}`,
      e.pos,
    );
  if (e.args.some((a) => a.k === "star")) fail(ctx, "semantic", `* is not valid as an argument of ${e.name}()`, e.pos);
  return f.impl(args, e, ctx);
}

/** Every scalar function the engine supports, with its arity (for property tests that must cover each one). */
export const SCALAR_FUNCTIONS: ReadonlyArray<{ name: string; min: number; max: number }> = Object.entries(
  FUNCTIONS,
).map(([name, f]) => ({ name, min: f.min, max: f.max }));
