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
  // countof(text, search [, kind]): "normal" counts every occurrence, overlapping ones too ("aaaa" holds "aa" 3
  // times); "regex" counts non-overlapping matches (2).
  countof: {
    min: 2,
    max: 3,
    impl: (args, e, ctx) => {
      const kind = args.length === 3 ? String(constArg(args, 2)) : "normal";
      if (kind !== "normal" && kind !== "regex")
        fail(ctx, "semantic", `countof() kind must be "normal" or "regex", got "${kind}"`, e.pos);
      const text = args[0]!.fn;
      if (kind === "regex") {
        const re = regex(constPattern(args, 1, e, ctx), e, ctx);
        return {
          fn: (r) => {
            const m = re.matcher(str(text(r)));
            let n = 0;
            while (m.find()) n++;
            return n;
          },
          type: "long",
        };
      }
      const search = args[1]!.fn;
      return {
        fn: (r) => {
          const t = str(text(r));
          const q = str(search(r));
          if (!q) return 0;
          let n = 0;
          for (let i = t.indexOf(q); i >= 0; i = t.indexOf(q, i + 1)) n++;
          return n;
        },
        type: "long",
      };
    },
  },
  // Legacy name of replace_regex, with the arguments in the old order: replace(regex, rewrite, text).
  replace: {
    min: 3,
    max: 3,
    impl: (args, e, ctx) => {
      const re = regex(constPattern(args, 0, e, ctx), e, ctx);
      const [, b, s] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) => replaceAll(re, str(s(r)), str(b(r)), MAX_STRING_LENGTH) ?? stringLimit(ctx, "replace()", e.pos),
        type: "string",
      };
    },
  },
  // extract_all(regex, [groups,] text): every match; one group gives an array of strings, several an array of arrays.
  extract_all: {
    min: 2,
    max: 3,
    impl: (args, e, ctx) => {
      const re = regex(constPattern(args, 0, e, ctx), e, ctx);
      const groupCount = re.groupCount();
      if (groupCount < 1 || groupCount > 16)
        fail(ctx, "semantic", "the regex of extract_all() must have between 1 and 16 capture groups", e.pos);
      const picked = args.length === 3 ? constArg(args, 1) : undefined;
      const groups = Array.isArray(picked)
        ? picked.map((g) => Number(g))
        : Array.from({ length: groupCount }, (_, i) => i + 1);
      if (groups.some((g) => !Number.isInteger(g) || g < 0 || g > groupCount))
        fail(ctx, "semantic", `extract_all() capture groups must be numbers from 0 to ${groupCount}`, e.pos);
      const s = args[args.length - 1]!.fn;
      return {
        fn: (r) => {
          const text = s(r);
          if (text === null || text === undefined) return null;
          const out: unknown[] = [];
          const m = re.matcher(str(text));
          while (m.find()) {
            out.push(groups.length === 1 ? m.group(groups[0]!) : groups.map((g) => m.group(g)));
            if (m.end() === m.start() && m.end() >= str(text).length) break;
            if (out.length > MAX_STRING_LENGTH) break;
          }
          return out.length ? out : null;
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
