import { lookupTable } from "./lookup.js";
import type { KqlType, KqlValue } from "./types.js";

// Value helpers shared by the expression compiler and the operators: ordering, grouping keys, Kusto string rules.

export type Row = KqlValue[];
export type Fn = (row: Row) => KqlValue;

/** An expression compiled once per query: a closure over a row, plus its static Kusto type. */
export interface Compiled {
  fn: Fn;
  type: KqlType;
}

/**
 * Kusto ordering. `nullsFirst` decides where nulls go (Kusto's default: first when ascending, last when descending).
 * Numbers (also datetimes/timespans) compare numerically, strings ordinally, booleans false < true.
 */
export function compareValues(a: KqlValue, b: KqlValue, desc: boolean, nullsFirst = !desc): number {
  if (a === b) return 0;
  if (a === null) return nullsFirst ? -1 : 1;
  if (b === null) return nullsFirst ? 1 : -1;
  let c: number;
  if (typeof a === typeof b && typeof a !== "object") c = a < b ? -1 : a > b ? 1 : 0;
  else c = groupKeyString(a) < groupKeyString(b) ? -1 : 1;
  return desc ? -c : c;
}

/** Ascending compare used by min/max/arg_max: nulls never win. */
export function lessThan(a: KqlValue, b: KqlValue): boolean {
  return compareValues(a, b, false) < 0;
}

/**
 * A Map key that keeps distinct Kusto values distinct: scalars are their own key (1 ≠ "1", null ≠ "null");
 * dynamic values are keyed by their JSON text behind a prefix no plain string can carry.
 */
export function groupKey(v: KqlValue): unknown {
  return v !== null && typeof v === "object" ? `\u0000${JSON.stringify(v)}` : v;
}

/** A string key for several values at once (multi-column group / join keys). */
export function multiKey(values: KqlValue[]): string {
  return JSON.stringify(values.map((v) => (v !== null && typeof v === "object" ? { d: v } : v)));
}

function groupKeyString(v: KqlValue): string {
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** Text of a value for string operators: "" for null, JSON for dynamic arrays/bags. */
export const text = (v: KqlValue): string =>
  v === null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
export const lower = (v: KqlValue): string => text(v).toLowerCase();

const isWordChar = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127;

/**
 * `has`: the needle is a whole term of the haystack. Kusto terms are maximal runs of alphanumeric characters, so the
 * match must not be glued to another alphanumeric character on either side. Callers lower-case for `has`.
 */
export function hasTerm(hay: string, needle: string): boolean {
  if (needle === "") return true;
  let from = 0;
  for (;;) {
    const i = hay.indexOf(needle, from);
    if (i < 0) return false;
    const end = i + needle.length;
    const okBefore = i === 0 || !isWordChar(hay.charCodeAt(i - 1)) || !isWordChar(needle.charCodeAt(0));
    const okAfter =
      end >= hay.length || !isWordChar(hay.charCodeAt(end)) || !isWordChar(needle.charCodeAt(needle.length - 1));
    if (okBefore && okAfter) return true;
    from = i + 1;
  }
}

export function tryParseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** datetime as Kusto prints it: ISO 8601 UTC, fractional seconds only when present. */
export function formatDatetime(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/** timespan as Kusto prints it: [-][d.]hh:mm:ss[.fffffff]. */
export function formatTimespan(ms: number): string {
  const neg = ms < 0;
  let rest = Math.abs(ms);
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const frac = Math.round((rest - s * 1000) * 10_000);
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${neg ? "-" : ""}${days ? `${days}.` : ""}${p2(h)}:${p2(m)}:${p2(s)}${frac ? `.${String(frac).padStart(7, "0")}` : ""}`;
}

/** tostring(): type-aware, so datetimes and timespans print as Kusto prints them rather than as epoch numbers. */
export function toKqlString(v: KqlValue, type: KqlType): string {
  if (v === null) return "";
  if (typeof v === "number") {
    if (type === "datetime") return formatDatetime(v);
    if (type === "timespan") return formatTimespan(v);
    return String(v);
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Parses Kusto datetime text; text without a zone is UTC (as in Kusto), never the host's local time. */
export function parseDatetime(raw: string): number | null {
  let s = raw.trim();
  if (s === "" || s.toLowerCase() === "null") return null;
  s = s.replace(/^(\d{4}-\d\d-\d\d)[ ](\d)/, "$1T$2");
  const hasZone = /[zZ]$|[+-]\d\d:?\d\d$/.test(s);
  const dateOnly = /^\d{4}-\d\d-\d\d$/.test(s);
  const ms = Date.parse(hasZone || dateOnly ? s : `${s}Z`);
  return Number.isNaN(ms) ? null : ms;
}

const SPAN_UNITS: Record<string, number> = lookupTable({
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
});
export const TIMESPAN_UNIT_NAMES = Object.keys(SPAN_UNITS);

/** Parses timespan text: `2h`, `1.5d`, `100ms`, `[-][d.]hh:mm[:ss[.f]]`, or a bare number of days. */
export function parseTimespan(raw: string): number | null {
  const s = raw.trim();
  const unit = /^(-?\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(s);
  if (unit) {
    const f = SPAN_UNITS[unit[2]!.toLowerCase()];
    return f === undefined ? null : Number(unit[1]) * f;
  }
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 86_400_000;
  const clock = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(s);
  if (clock) {
    const [, neg, d, h, m, sec, frac] = clock;
    const ms =
      Number(d ?? 0) * 86_400_000 +
      Number(h) * 3_600_000 +
      Number(m) * 60_000 +
      Number(sec ?? 0) * 1000 +
      (frac ? Number(`0.${frac}`) * 1000 : 0);
    return neg ? -ms : ms;
  }
  return null;
}
