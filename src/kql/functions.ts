import { type Ctx, fail } from "./context.js";
import type { Call, FunctionTable } from "./functions-common.js";
import { CONDITIONAL_FUNCTIONS } from "./functions-conditional.js";
import { CONVERSION_FUNCTIONS } from "./functions-conversion.js";
import { DATETIME_FUNCTIONS } from "./functions-datetime.js";
import { DYNAMIC_FUNCTIONS } from "./functions-dynamic.js";
import { ENCODING_FUNCTIONS } from "./functions-encoding.js";
import { MATH_FUNCTIONS } from "./functions-math.js";
import { REGEX_FUNCTIONS } from "./functions-regex.js";
import { SERIES_FUNCTIONS } from "./functions-series.js";
import { STRING_FUNCTIONS } from "./functions-string.js";
import { lookupTable } from "./lookup.js";
import type { Compiled } from "./values.js";

// Scalar functions. Each entry checks its arity at compile time and returns a closure; unknown names are errors.
// The entries live in one module per family (functions-datetime, -conversion, -string, -regex, -conditional, -math,
// -dynamic, -encoding, -series); this module is the one table over them and the compile step.

const FUNCTIONS: FunctionTable = lookupTable({
  ...DATETIME_FUNCTIONS,
  ...CONVERSION_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...REGEX_FUNCTIONS,
  ...CONDITIONAL_FUNCTIONS,
  ...MATH_FUNCTIONS,
  ...DYNAMIC_FUNCTIONS,
  ...ENCODING_FUNCTIONS,
  ...SERIES_FUNCTIONS,
});

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
  "make_bag",
  "make_bag_if",
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
