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

const PART_MS: Record<string, number> = {
  week: 7 * 86_400_000,
  day: 86_400_000,
  hour: 3_600_000,
  minute: 60_000,
  second: 1000,
  millisecond: 1,
};

/** datetime_diff(part, a, b): how many part boundaries lie between b and a (calendar parts for year/quarter/month). */
function datetimeDiff(part: string, a: number, b: number): number | null {
  const A = new Date(a);
  const B = new Date(b);
  const months = (A.getUTCFullYear() - B.getUTCFullYear()) * 12 + (A.getUTCMonth() - B.getUTCMonth());
  if (part === "year") return A.getUTCFullYear() - B.getUTCFullYear();
  if (part === "quarter")
    return (
      Math.floor(A.getUTCMonth() / 3) - Math.floor(B.getUTCMonth() / 3) + (A.getUTCFullYear() - B.getUTCFullYear()) * 4
    );
  if (part === "month") return months;
  const unit = PART_MS[part];
  if (!unit) return null;
  // Weeks start on Sunday (1970-01-04 was one); other parts count boundaries from the epoch.
  const shift = part === "week" ? 3 * 86_400_000 : 0;
  return Math.floor((a + shift) / unit) - Math.floor((b + shift) / unit);
}

function datetimePart(part: string, t: number): number | null {
  const d = new Date(t);
  switch (part) {
    case "year":
      return d.getUTCFullYear();
    case "quarter":
      return Math.floor(d.getUTCMonth() / 3) + 1;
    case "month":
      return d.getUTCMonth() + 1;
    case "day":
      return d.getUTCDate();
    case "dayofyear":
      return Math.floor((t - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    case "hour":
      return d.getUTCHours();
    case "minute":
      return d.getUTCMinutes();
    case "second":
      return d.getUTCSeconds();
    case "millisecond":
      return d.getUTCMilliseconds();
    default:
      return null;
  }
}

export const DATETIME_FUNCTIONS: FunctionTable = {
  datetime_diff: {
    min: 3,
    max: 3,
    impl: (args) => {
      const [p, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) => {
          const x = a(r);
          const y = b(r);
          if (typeof x !== "number" || typeof y !== "number") return null;
          return datetimeDiff(String(p(r)).toLowerCase(), x, y);
        },
        type: "long",
      };
    },
  },
  datetime_part: {
    min: 2,
    max: 2,
    impl: (args) => {
      const [p, a] = args.map((x) => x.fn) as [Fn, Fn];
      return {
        fn: (r) => {
          const x = a(r);
          return typeof x === "number" ? datetimePart(String(p(r)).toLowerCase(), x) : null;
        },
        type: "long",
      };
    },
  },
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
