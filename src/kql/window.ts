import type { Expr, Op } from "./ast.js";
import { type Ctx, fail, type RowWindow, type Table } from "./context.js";
import type { KqlType, KqlValue } from "./types.js";
import type { Compiled, Row } from "./values.js";

// Window functions over serialized rows: prev(), next(), row_number(), row_cumsum(), as Kusto defines them
// (learn.microsoft.com/kusto/query/{prev,next,row-number,row-cumsum}-function, serialize-operator):
//  - they run only where the input row set is serialized; elsewhere the query fails, as in Kusto;
//  - sort/order, top, serialize and range produce serialized rows; count, distinct, join, make-series, mv-expand and
//    summarize (and lookup, a join) produce nonserialized rows; every other operator keeps what its input had;
//  - prev(column, offset = 1, default = null) reads the column on the row `offset` rows before, next(...) after;
//  - row_number(start = 1, restart = false) counts rows from start, back to start on a row where restart is true;
//  - row_cumsum(term, restart = false) sums term over the rows so far, from 0 again on a row where restart is true.
// An operator over serialized rows (where, project, extend, serialize) compiles its expressions with a RowWindow
// in the context and sets its index before evaluating each row; a function reading another row evaluates its
// argument on that row (with the index moved there, so nested window calls see their own neighbours).

export const WINDOW_FUNCTIONS: ReadonlySet<string> = new Set(["prev", "next", "row_number", "row_cumsum"]);

const SERIALIZING = new Set<Op["k"]>(["sort", "top", "serialize"]);
const UNSERIALIZING = new Set<Op["k"]>([
  "count",
  "distinct",
  "join",
  "lookup",
  "make-series",
  "mv-expand",
  "summarize",
]);

/** Whether an operator's output is serialized, given whether its input was. */
export function outputSerialized(op: Op["k"], input: boolean): boolean {
  if (SERIALIZING.has(op)) return true;
  if (UNSERIALIZING.has(op)) return false;
  return input;
}

/** Does the expression call a window function (outside nested tabular expressions)? */
export function usesWindow(e: Expr): boolean {
  switch (e.k) {
    case "call":
      return WINDOW_FUNCTIONS.has(e.name) || e.args.some(usesWindow);
    case "bin":
      return usesWindow(e.l) || usesWindow(e.r);
    case "not":
    case "neg":
      return usesWindow(e.e);
    case "in":
      return usesWindow(e.e) || e.list.some(usesWindow);
    case "member":
      return usesWindow(e.e) || usesWindow(e.key);
    case "between":
      return usesWindow(e.e) || usesWindow(e.lo) || usesWindow(e.hi);
    default:
      return false;
  }
}

/**
 * The context an operator compiles its expressions in: with a fresh RowWindow over its input rows when they are
 * serialized (the operator's loop sets `win.i`), without one otherwise (so window functions fail to compile).
 */
export function windowFor(t: Table, ctx: Ctx): { ctx: Ctx; win: RowWindow | undefined } {
  if (!t.serialized) return { ctx: ctx.win ? { ...ctx, win: undefined } : ctx, win: undefined };
  const win: RowWindow = { rows: t.rows, i: 0 };
  return { ctx: { ...ctx, win }, win };
}

type CompileArg = (e: Expr) => Compiled;

const NUMERIC: ReadonlySet<KqlType> = new Set(["int", "long", "real", "decimal", "timespan"]);

export function compileWindowCall(e: Extract<Expr, { k: "call" }>, compile: CompileArg, ctx: Ctx): Compiled {
  const win = ctx.win;
  if (!win)
    fail(
      ctx,
      "semantic",
      `Function '${e.name}' cannot be invoked in current context. Details: the row set must be serialized (sort, top or serialize it first)`,
      e.pos,
    );
  const arity = (min: number, max: number) => {
    if (e.args.length < min || e.args.length > max)
      fail(ctx, "semantic", `${e.name}() takes ${min} to ${max} argument(s), got ${e.args.length}`, e.pos);
  };
  /** Evaluates `f` as if on row j (the window's index moved there, for nested window calls). */
  const at = (f: (r: Row) => KqlValue, j: number): KqlValue => {
    const save = win.i;
    win.i = j;
    try {
      return f(win.rows[j]!);
    } finally {
      win.i = save;
    }
  };
  switch (e.name) {
    case "prev":
    case "next": {
      arity(1, 3);
      // Kusto reads a column of the other row, not an expression (the language service: "Column name expected.").
      if (e.args[0]!.k !== "col") fail(ctx, "semantic", `${e.name}(): column name expected`, e.pos);
      const arg = compile(e.args[0]!);
      let offset = 1;
      if (e.args[1]) {
        const o = compile(e.args[1]).fn([]);
        if (typeof o !== "number" || !Number.isInteger(o) || o < 0)
          fail(ctx, "semantic", `${e.name}(): the offset must be a constant non-negative integer`, e.pos);
        offset = o;
      }
      const dflt = e.args[2] ? compile(e.args[2]).fn : () => null;
      const step = e.name === "prev" ? -offset : offset;
      const f = arg.fn;
      return {
        fn: (r) => {
          const j = win.i + step;
          if (j < 0 || j >= win.rows.length) return dflt(r);
          return at(f, j);
        },
        type: arg.type,
      };
    }
    case "row_number": {
      arity(0, 2);
      let start = 1;
      if (e.args[0]) {
        const s = compile(e.args[0]).fn([]);
        if (typeof s !== "number" || !Number.isInteger(s))
          fail(ctx, "semantic", "row_number(): the starting index must be a constant integer", e.pos);
        start = s;
      }
      const restart = e.args[1] ? compile(e.args[1]).fn : undefined;
      return prefixScan(win, (j, before) => {
        if (before === undefined) return start;
        return restart && at(restart, j) === true ? start : (before as number) + 1;
      });
    }
    case "row_cumsum": {
      arity(1, 2);
      const term = compile(e.args[0]!);
      if (!NUMERIC.has(term.type))
        fail(ctx, "semantic", `row_cumsum() needs a numeric or timespan term, got ${term.type}`, e.pos);
      const restart = e.args[1] ? compile(e.args[1]).fn : undefined;
      const t = term.fn;
      const c = prefixScan(win, (j, before) => {
        const v = at(t, j);
        const add = typeof v === "number" ? v : 0;
        if (before === undefined || (restart && at(restart, j) === true)) return add;
        return (before as number) + add;
      });
      return { fn: c.fn, type: term.type };
    }
  }
  return fail(ctx, "unsupported", `window function ${e.name}() is not supported by the local engine`, e.pos);
}

/**
 * A running value over the window's rows (row_number, row_cumsum): value j from value j-1, computed once per row in
 * order and cached per row set, so it is right even when the operator skips rows (`where a and row_number() > 2`).
 */
function prefixScan(win: RowWindow, next: (j: number, before: KqlValue | undefined) => KqlValue): Compiled {
  let rows: Row[] | undefined;
  let values: KqlValue[] = [];
  return {
    fn: () => {
      if (rows !== win.rows) {
        rows = win.rows;
        values = [];
      }
      const i = win.i;
      for (let j = values.length; j <= i; j++) values.push(next(j, j === 0 ? undefined : values[j - 1]));
      return values[i]!;
    },
    type: "long",
  };
}
