import { type Ctx, colIndex, fail } from "./context.js";
import { compileCall } from "./functions.js";
import { compileTuplePart } from "./functions-tuple.js";
import type { Expr, Lambda } from "./parser.js";
import type { KqlColumn, KqlType, KqlValue } from "./types.js";
import { type Compiled, type Fn, groupKey, hasTerm, lower, text, tryParseJson } from "./values.js";
import { compileWindowCall, WINDOW_FUNCTIONS } from "./window.js";

// The expression compiler: each expression becomes one closure over a row array, built once per query.

/** Evaluates an expression that must not depend on a row (literals, let scalars, now(), ...). */
export function constant(e: Expr, ctx: Ctx): KqlValue {
  return compile(e, [], ctx).fn([]);
}

/** Values of an `in (...)`/`has_any (...)` list; dynamic arrays among them are flattened, as Kusto does. */
function constantList(list: Expr[], ctx: Ctx): KqlValue[] {
  const out: KqlValue[] = [];
  for (const x of list) {
    const v = constant(x, ctx);
    if (Array.isArray(v)) for (const y of v) out.push(y as KqlValue);
    else out.push(v);
  }
  return out;
}

export function compile(e: Expr, columns: KqlColumn[], ctx: Ctx): Compiled {
  switch (e.k) {
    case "lit": {
      const v = e.v;
      return { fn: () => v, type: e.type === "dynamic" ? "dynamic" : e.type };
    }
    case "col": {
      const param = ctx.params?.get(e.name);
      if (param) return param;
      const i = columns.findIndex((c) => c.name === e.name);
      if (i < 0) {
        const s = ctx.scalars.get(e.name);
        if (s) return { fn: () => s.value, type: s.type };
        if (ctx.tabulars.has(e.name))
          fail(ctx, "semantic", `"${e.name}" is a tabular expression, not a scalar value`, e.pos);
      }
      const idx = colIndex(columns, e.name, ctx, e.pos);
      return { fn: (r) => r[idx] ?? null, type: columns[idx]!.type };
    }
    case "not": {
      const f = compile(e.e, columns, ctx).fn;
      return { fn: (r) => f(r) !== true, type: "bool" };
    }
    case "neg": {
      const c = compile(e.e, columns, ctx);
      const f = c.fn;
      return {
        fn: (r) => {
          const v = f(r);
          return v === null ? null : -(v as number);
        },
        type: c.type,
      };
    }
    case "toscalar": {
      const t = ctx.run(e.t, ctx);
      const v = t.rows[0]?.[0] ?? null;
      return { fn: () => v, type: t.columns[0]?.type ?? "dynamic" };
    }
    case "in": {
      const f = compile(e.e, columns, ctx).fn;
      // `x in (T | project c)`: the values of the first column of a tabular expression, computed once; arrays in it
      // are flattened as in a value list (`in (T | summarize make_set(c))`).
      const list = e.tabular
        ? ctx.run(e.tabular, ctx).rows.flatMap((r) => (Array.isArray(r[0]) ? (r[0] as KqlValue[]) : [r[0] ?? null]))
        : constantList(e.list, ctx);
      const negate = e.negate;
      if (e.ci) {
        const set = new Set(list.map(lower));
        return { fn: (r) => set.has(lower(f(r))) !== negate, type: "bool" };
      }
      const set = new Set(list.map(groupKey));
      // Kusto compares a string with a number by the number's text and value alike: "0" in (0, 1) is true.
      const alt = (v: KqlValue): boolean =>
        typeof v === "string"
          ? v.trim() !== "" && set.has(groupKey(Number(v)))
          : typeof v === "number" && set.has(groupKey(String(v)));
      return {
        fn: (r) => {
          const v = f(r);
          return v === null ? negate : (set.has(groupKey(v)) || alt(v)) !== negate;
        },
        type: "bool",
      };
    }
    case "bin":
      return compileBinary(e, columns, ctx);
    case "call": {
      if (e.name === "__tuple_part") return compileTuplePart(e, (x) => compile(x, columns, ctx), ctx);
      if (e.name === "column_ifexists") {
        // column_ifexists("Name", default): the column when the input has it, else the default.
        const n = e.args[0];
        if (e.args.length !== 2 || n?.k !== "lit" || typeof n.v !== "string")
          fail(ctx, "semantic", "column_ifexists() takes a constant column name and a default", e.pos);
        const has = columns.some((c) => c.name === n.v);
        return compile(has ? { k: "col", name: n.v, pos: n.pos } : e.args[1]!, columns, ctx);
      }
      if (e.name === "__has_any" || e.name === "__has_all") {
        const f = compile(e.args[0]!, columns, ctx).fn;
        const terms = constantList(e.args.slice(1), ctx).map(lower);
        const all = e.name === "__has_all";
        return {
          fn: (r) => {
            const hay = lower(f(r));
            return all ? terms.every((t) => hasTerm(hay, t)) : terms.some((t) => hasTerm(hay, t));
          },
          type: "bool",
        };
      }
      const lambda = ctx.lambdas.get(e.name);
      if (lambda) return callLambda(e, lambda, columns, ctx);
      if (WINDOW_FUNCTIONS.has(e.name)) return compileWindowCall(e, (x) => compile(x, columns, ctx), ctx);
      return compileCall(
        e,
        e.args.map((a) => (a.k === "star" ? { fn: () => null, type: "dynamic" as KqlType } : compile(a, columns, ctx))),
        ctx,
      );
    }
    case "dyn": {
      const v = e.v as KqlValue;
      return { fn: () => v, type: "dynamic" };
    }
    case "member": {
      const base = compile(e.e, columns, ctx).fn;
      const key = compile(e.key, columns, ctx).fn;
      return { fn: (r) => member(base(r), key(r)), type: "dynamic" };
    }
    case "between": {
      const v = compile(e.e, columns, ctx).fn;
      const lo = compile(e.lo, columns, ctx).fn;
      const hi = compile(e.hi, columns, ctx).fn;
      const negate = e.negate;
      return {
        fn: (r) => {
          const x = v(r);
          const a = lo(r);
          const b = hi(r);
          if (x === null || a === null || b === null) return false;
          return (x >= a && x <= b) !== negate;
        },
        type: "bool",
      };
    }
    case "star":
      fail(ctx, "semantic", "* is only valid inside arg_max()/arg_min()", e.pos);
  }
}

/** Inlines a let-bound function: its body compiled once with each parameter bound to the argument's closure. */
function callLambda(e: Extract<Expr, { k: "call" }>, lambda: Lambda, columns: KqlColumn[], ctx: Ctx): Compiled {
  if (e.args.length !== lambda.params.length)
    fail(ctx, "semantic", `${e.name}() takes ${lambda.params.length} argument(s), got ${e.args.length}`, e.pos);
  if (ctx.depth > 32) fail(ctx, "semantic", `function ${e.name}() recurses too deeply`, e.pos);
  const params = new Map(lambda.params.map((p, i) => [p.name, compile(e.args[i]!, columns, ctx)] as const));
  // The body sees its parameters and the query's lets, not the caller's row columns.
  return compile(lambda.body, [], { ...ctx, params, depth: ctx.depth + 1 });
}

/** d.a, d["a"], d[0], d[-1]: dynamic member access; JSON text in a string column is parsed first. */
function member(base: KqlValue, k: KqlValue): KqlValue {
  let v: unknown = base;
  if (typeof v === "string") v = tryParseJson(v);
  if (v === null || typeof v !== "object") return null;
  if (Array.isArray(v)) {
    if (typeof k !== "number") return null;
    const at = k < 0 ? v.length + k : k;
    return (v[at] ?? null) as KqlValue;
  }
  return ((v as Record<string, unknown>)[String(k)] ?? null) as KqlValue;
}

const bool = (fn: Fn): Compiled => ({ fn, type: "bool" });
const NUMERIC: ReadonlySet<KqlType> = new Set(["int", "long", "real", "decimal"]);

/** Result type of arithmetic, following Kusto's datetime/timespan algebra; undefined when Kusto rejects it. */
function arithmeticType(op: string, l: KqlType, r: KqlType): KqlType | undefined {
  if (l === "dynamic" || r === "dynamic") return "real";
  if (l === "datetime" && r === "datetime") return op === "-" ? "timespan" : undefined;
  if (l === "datetime" && r === "timespan") return op === "+" || op === "-" ? "datetime" : undefined;
  if (l === "timespan" && r === "datetime") return op === "+" ? "datetime" : undefined;
  if (l === "timespan" && r === "timespan")
    return op === "/" ? "real" : op === "+" || op === "-" || op === "%" ? "timespan" : undefined;
  if (l === "timespan" && NUMERIC.has(r)) return op === "*" || op === "/" ? "timespan" : undefined;
  if (NUMERIC.has(l) && r === "timespan") return op === "*" ? "timespan" : undefined;
  if (NUMERIC.has(l) && NUMERIC.has(r)) {
    if (l === "real" || r === "real" || l === "decimal" || r === "decimal") return "real";
    return l === "long" || r === "long" ? "long" : "int";
  }
  return undefined;
}

function compileBinary(e: Extract<Expr, { k: "bin" }>, columns: KqlColumn[], ctx: Ctx): Compiled {
  let l = compile(e.l, columns, ctx);
  let r = compile(e.r, columns, ctx);
  if (COMPARISONS.has(e.op)) {
    // Kusto compares a string with a number as numbers (ResultType == 0 over a string column): the string side is
    // read as a number, and a string that is not one compares as null (false).
    if (CATEGORY[l.type] === "string" && CATEGORY[r.type] === "number") l = asNumber(l);
    else if (CATEGORY[l.type] === "number" && CATEGORY[r.type] === "string") r = asNumber(r);
    // A dynamic compared with a string compares its JSON text (`where TargetResources != "[]"`), as Kusto does.
    else if (l.type === "dynamic" && CATEGORY[r.type] === "string") l = asJsonText(l);
    else if (CATEGORY[l.type] === "string" && r.type === "dynamic") r = asJsonText(r);
  }
  const L = l.fn;
  const R = r.fn;
  const rightConst = e.r.k === "lit" || e.r.k === "dyn";
  switch (e.op) {
    case "and":
      return bool((x) => L(x) === true && R(x) === true);
    case "or":
      return bool((x) => L(x) === true || R(x) === true);
    case "==":
    case "!=": {
      checkComparable(e, l.type, r.type, ctx);
      const eq = e.op === "==";
      if (rightConst) {
        // The hot path of `where X == "a"`: compare against a value fixed at compile time.
        const b = R([]);
        if (b === null) return bool(() => false);
        if (typeof b !== "object")
          return bool((x) => {
            const a = L(x);
            return a !== null && (a === b) === eq;
          });
      }
      return bool((x) => {
        const a = L(x);
        const b = R(x);
        if (a === null || b === null) return false;
        const same = typeof a === "object" || typeof b === "object" ? groupKey(a) === groupKey(b) : a === b;
        return same === eq;
      });
    }
    case "=~":
    case "!~": {
      const eq = e.op === "=~";
      if (rightConst) {
        const b = lower(R([]));
        return bool((x) => (lower(L(x)) === b) === eq);
      }
      return bool((x) => (lower(L(x)) === lower(R(x))) === eq);
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      checkComparable(e, l.type, r.type, ctx);
      const op = e.op;
      const cmp = (a: KqlValue, b: KqlValue): boolean => {
        if (a === null || b === null) return false;
        return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
      };
      if (rightConst) {
        const b = R([]);
        return bool((x) => cmp(L(x), b));
      }
      return bool((x) => cmp(L(x), R(x)));
    }
    case "has":
    case "has_cs":
    case "contains":
    case "contains_cs":
    case "startswith":
    case "startswith_cs":
    case "endswith":
    case "endswith_cs":
    case "hasprefix":
    case "hassuffix":
      return stringPredicate(e.op, L, R, rightConst);
    case "+":
    case "-":
    case "*":
    case "/":
    case "%": {
      const op = e.op;
      const type = arithmeticType(op, l.type, r.type);
      if (!type)
        fail(
          ctx,
          "semantic",
          `operator "${op}" cannot combine ${l.type} and ${r.type}${l.type === "string" || r.type === "string" ? " (use strcat() for strings)" : ""}`,
          e.pos,
        );
      const integer = type === "long" || type === "int";
      return {
        type,
        fn: (x) => {
          const a = L(x);
          const b = R(x);
          if (a === null || b === null) return null;
          const n = Number(a);
          const m = Number(b);
          switch (op) {
            case "+":
              return n + m;
            case "-":
              return n - m;
            case "*":
              return n * m;
            case "/":
              if (integer) return m === 0 ? null : Math.trunc(n / m);
              return n / m;
            default:
              if (integer && m === 0) return null;
              return n % m;
          }
        },
      };
    }
    default:
      fail(ctx, "unsupported", `operator "${e.op}" is not supported by the local engine`, e.pos);
  }
}

const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);

function asNumber(c: Compiled): Compiled {
  const f = c.fn;
  return {
    fn: (r) => {
      const v = f(r);
      if (typeof v !== "string" || v.trim() === "") return null;
      const n = Number(v);
      return Number.isNaN(n) ? null : n;
    },
    type: "real",
  };
}

function asJsonText(c: Compiled): Compiled {
  const f = c.fn;
  return {
    fn: (r) => {
      const v = f(r);
      return v === null ? null : typeof v === "object" ? JSON.stringify(v) : String(v);
    },
    type: "string",
  };
}

const CATEGORY: Record<KqlType, string> = {
  string: "string",
  guid: "string",
  int: "number",
  long: "number",
  real: "number",
  decimal: "number",
  bool: "bool",
  datetime: "datetime",
  timespan: "timespan",
  dynamic: "dynamic",
};

/** Kusto rejects comparing, say, a datetime with a string; so do we, rather than answering "no rows". */
function checkComparable(e: Extract<Expr, { k: "bin" }>, l: KqlType, r: KqlType, ctx: Ctx): void {
  const a = CATEGORY[l];
  const b = CATEGORY[r];
  if (a === "dynamic" || b === "dynamic" || a === b) return;
  if (e.l.k === "lit" && e.l.v === null) return;
  if (e.r.k === "lit" && e.r.v === null) return;
  fail(ctx, "semantic", `cannot compare ${l} with ${r} using "${e.op}"`, e.pos);
}

function termPrefix(hay: string, p: string, suffix: boolean): boolean {
  for (const term of hay.split(/[^\p{L}\p{N}]+/u)) if (suffix ? term.endsWith(p) : term.startsWith(p)) return true;
  return false;
}

/** has / contains / startswith / endswith and friends: case-insensitive unless `_cs`; null acts as "". */
function stringPredicate(op: string, L: Fn, R: Fn, rightConst: boolean): Compiled {
  const cs = op.endsWith("_cs");
  const base = cs ? op.slice(0, -3) : op;
  const norm = cs ? text : lower;
  const test =
    base === "has"
      ? hasTerm
      : base === "contains"
        ? (h: string, n: string) => h.includes(n)
        : base === "startswith"
          ? (h: string, n: string) => h.startsWith(n)
          : base === "endswith"
            ? (h: string, n: string) => h.endsWith(n)
            : (h: string, n: string) => termPrefix(h, n, base === "hassuffix");
  if (rightConst) {
    const needle = norm(R([]));
    return bool((x) => test(norm(L(x)), needle));
  }
  return bool((x) => test(norm(L(x)), norm(R(x))));
}
