import { KqlError, positionOf } from "./errors.js";
import type { Lambda, Tabular } from "./parser.js";
import type { KqlColumn, KqlDataSource, KqlExecuteOptions, KqlType, KqlValue } from "./types.js";
import type { Compiled, Row } from "./values.js";

/** An intermediate result: a schema plus row arrays aligned with it. */
export interface Table {
  columns: KqlColumn[];
  rows: Row[];
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
  /** Inside a lambda body: its parameters, bound to the caller's compiled arguments. */
  params?: Map<string, Compiled>;
  /** Stored-function nesting depth, to stop recursion. */
  depth: number;
  /** What the query read, recorded at the point of reading (shared by every nested context of one query). */
  reads: { tables: Set<string>; storedFunctions: Set<string> };
  /** Runs a tabular expression; passed in so operators (join, union) need not import the engine. */
  run(t: Tabular, ctx: Ctx): Table;
}

/** Intermediate results larger than this stop the query: the engine holds everything in memory. */
export const MAX_INTERMEDIATE_ROWS = 5_000_000;

export function fail(ctx: Ctx, code: "semantic" | "unsupported" | "limit", message: string, pos: number): never {
  throw new KqlError({ code, message, ...positionOf(ctx.text, pos) });
}

export function colIndex(columns: KqlColumn[], name: string, ctx: Ctx, pos: number): number {
  const i = columns.findIndex((c) => c.name === name);
  if (i < 0)
    fail(ctx, "semantic", `column "${name}" does not exist (columns: ${columns.map((c) => c.name).join(", ")})`, pos);
  return i;
}

export function checkSize(ctx: Ctx, n: number, what: string, pos: number): void {
  if (n > MAX_INTERMEDIATE_ROWS)
    fail(ctx, "limit", `${what} would produce more than ${MAX_INTERMEDIATE_ROWS} rows`, pos);
}

export const KQL_TYPES: Record<string, KqlType> = {
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
};
