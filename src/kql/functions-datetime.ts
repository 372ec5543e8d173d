import { type Ctx, fail } from "./context.js";
import { type Call, constArg, type FunctionTable, type Impl, str, unary } from "./functions-common.js";
import { ingestionTimeOf } from "./ingestion.js";
import type { Compiled, Fn } from "./values.js";

// Date and time functions: ago/now, binning (bin, floor, bin_at), start/end of a period, date parts, format_datetime.

const DAY = 86_400_000;

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

export const DATETIME_FUNCTIONS: FunctionTable = {
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
  // The row's hidden ingestion time (ingestion.ts): null outside a table's rows, as in Kusto.
  ingestion_time: { min: 0, max: 0, impl: () => ({ fn: ingestionTimeOf, type: "datetime" }) },
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
};
