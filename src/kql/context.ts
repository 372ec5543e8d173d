import { KqlError, positionOf } from "./errors.js";
import { lookupTable } from "./lookup.js";
import type { Lambda, Tabular, TabularLambda } from "./parser.js";
import type { KqlColumn, KqlDataSource, KqlExecuteOptions, KqlType, KqlValue } from "./types.js";
import type { Compiled, Row } from "./values.js";

/** An intermediate result: a schema plus row arrays aligned with it. */
export interface Table {
  columns: KqlColumn[];
  rows: Row[];
  /**
   * The rows are serialized (their order is safe for window functions: prev, next, row_number, row_cumsum). Set by
   * sort, top, serialize and range; kept by the operators Kusto says preserve it; see window.ts.
   */
  serialized?: boolean;
}

/** The rows a window function reads and the index of the row being evaluated (set by the operator's loop). */
export interface RowWindow {
  rows: Row[];
  i: number;
}

/** Everything one query run needs: its text (for positions), data, options and let-bound names. */
export interface Ctx {
  text: string;
  source: KqlDataSource;
  opts: KqlExecuteOptions;
  now: number;
  scalars: Map<string, { value: KqlValue; type: KqlType }>;
  tabulars: Map<string, Tabular>;
  lambdas: Map<string, Lambda>;
  /** Let-bound functions with a tabular body, called as a source: `f("SigninLogs")`. */
  tabFns?: Map<string, TabularLambda>;
  /** Inside a lambda body: its parameters, bound to the caller's compiled arguments. */
  params?: Map<string, Compiled>;
  /** Stored-function nesting depth, to stop recursion. */
  depth: number;
  /** What the query read, recorded at the point of reading (shared by every nested context of one query). */
  reads: { tables: Set<string>; storedFunctions: Set<string> };
  /** While an operator over serialized rows compiles and evaluates its expressions: the rows and current index. */
  win?: RowWindow;
  /** Runs a tabular expression; passed in so operators (join, union) need not import the engine. */
  run(t: Tabular, ctx: Ctx): Table;
}

/** Intermediate results larger than this stop the query (opts.maxIntermediateRows overrides): all is in memory. */
export const DEFAULT_MAX_INTERMEDIATE_ROWS = 1_000_000;
/** Largest dynamic array a function or aggregation may build, and longest string (UTF-16 units, ~16 MB). */
export const MAX_ARRAY_ELEMENTS = 1_000_000;
export const MAX_STRING_LENGTH = 16 * 1024 * 1024;

export function maxRows(ctx: Ctx): number {
  return ctx.opts.maxIntermediateRows ?? DEFAULT_MAX_INTERMEDIATE_ROWS;
}

export function fail(ctx: Ctx, code: "semantic" | "unsupported" | "limit", message: string, pos: number): never {
  throw new KqlError({ code, message, ...positionOf(ctx.text, pos) });
}

export function colIndex(columns: KqlColumn[], name: string, ctx: Ctx, pos: number): number {
  const i = columns.findIndex((c) => c.name === name);
  if (i < 0)
    fail(ctx, "semantic", `column "${name}" does not exist (columns: ${columns.map((c) => c.name).join(", ")})`, pos);
  return i;
}

/** Stops the query when an operator's output would exceed the intermediate-row limit; call before materialising. */
export function checkSize(ctx: Ctx, n: number, what: string, pos: number, fix = `before the ${what}`): void {
  const max = maxRows(ctx);
  if (n > max)
    fail(
      ctx,
      "limit",
      `${what} would produce more than ${max} rows (the intermediate-row limit); narrow the query with where/take ${fix}`,
      pos,
    );
}

/** Stops the query when a function would build a string longer than MAX_STRING_LENGTH. */
export function checkString(ctx: Ctx, s: string, what: string, pos: number): string {
  if (s.length > MAX_STRING_LENGTH) stringLimit(ctx, what, pos);
  return s;
}

const sizes = new WeakMap<object, number>();

/**
 * Size of a dynamic value as it would print: scalar leaves plus containers, a shared sub-value counted each time it
 * occurs (pack_array(d, d) doubles). Cached per object, so repeated checks cost nothing.
 */
export function dynSize(v: unknown): number {
  if (v === null || typeof v !== "object") return 1;
  const hit = sizes.get(v);
  if (hit !== undefined) return hit;
  let n = 1;
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    n += dynSize(x);
    if (n > MAX_ARRAY_ELEMENTS) break;
  }
  sizes.set(v, n);
  return n;
}

/** Stops the query when a function would build a dynamic value larger than MAX_ARRAY_ELEMENTS. */
export function checkDynamic<T>(ctx: Ctx, v: T, what: string, pos: number): T {
  if (dynSize(v) > MAX_ARRAY_ELEMENTS)
    fail(ctx, "limit", `${what} would build a dynamic value with more than ${MAX_ARRAY_ELEMENTS} elements`, pos);
  return v;
}

export function stringLimit(ctx: Ctx, what: string, pos: number): never {
  fail(ctx, "limit", `${what} would build a string longer than ${MAX_STRING_LENGTH} characters`, pos);
}

export const KQL_TYPES: Record<string, KqlType> = lookupTable({
  string: "string",
  int: "int",
  long: "long",
  real: "real",
  double: "real",
  bool: "bool",
  boolean: "bool",
  datetime: "datetime",
  date: "datetime",
  timespan: "timespan",
  time: "timespan",
  dynamic: "dynamic",
  guid: "guid",
  decimal: "decimal",
});
