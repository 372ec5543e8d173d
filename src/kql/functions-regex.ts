import { type Ctx, fail, MAX_STRING_LENGTH, stringLimit } from "./context.js";
import { type Call, constArg, type FunctionTable, type Impl, str } from "./functions-common.js";
import { compileRegex, firstMatch, type Regex, RegexError, replaceAll } from "./regex.js";
import type { KqlValue } from "./types.js";
import type { Compiled, Fn } from "./values.js";

// Regex-backed functions: trim/trim_start/trim_end, replace_regex, extract and `matches regex` (__matches). Patterns
// are constants, compiled once per query with RE2.

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

export const REGEX_FUNCTIONS: FunctionTable = {
  trim: { min: 2, max: 2, impl: trimImpl(true, true) },
  trim_start: { min: 2, max: 2, impl: trimImpl(true, false) },
  trim_end: { min: 2, max: 2, impl: trimImpl(false, true) },
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
