import { checkString, MAX_STRING_LENGTH, stringLimit } from "./context.js";
import { type FunctionTable, str, unary } from "./functions-common.js";
import { type Fn, lower, toKqlString } from "./values.js";

// String functions that need no regex: case, length, concatenation, substring, indexof, split, replace_string.
// Results are held to the engine's string size limit.

export const STRING_FUNCTIONS: FunctionTable = {
  tolower: { min: 1, max: 1, impl: unary("string", (v) => lower(v)) },
  toupper: { min: 1, max: 1, impl: unary("string", (v) => str(v).toUpperCase()) },
  strlen: { min: 1, max: 1, impl: unary("long", (v) => [...str(v)].length) },
  strcat: {
    min: 1,
    max: 64,
    impl: (args, e, ctx) => {
      const parts = args.map((a) => ({ f: a.fn, t: a.type }));
      return {
        fn: (r) => checkString(ctx, parts.map((p) => toKqlString(p.f(r), p.t)).join(""), "strcat()", e.pos),
        type: "string",
      };
    },
  },
  strcat_delim: {
    min: 3,
    max: 64,
    impl: (args, e, ctx) => {
      const d = args[0]!.fn;
      const parts = args.slice(1).map((a) => ({ f: a.fn, t: a.type }));
      return {
        fn: (r) =>
          checkString(ctx, parts.map((p) => toKqlString(p.f(r), p.t)).join(str(d(r))), "strcat_delim()", e.pos),
        type: "string",
      };
    },
  },
  substring: {
    min: 2,
    max: 3,
    impl: (args) => {
      const [s, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn | undefined];
      return {
        fn: (r) => {
          const text = str(s(r));
          const start = Math.max(0, Number(a(r)) || 0);
          return b ? text.substring(start, start + Math.max(0, Number(b(r)) || 0)) : text.substring(start);
        },
        type: "string",
      };
    },
  },
  indexof: {
    min: 2,
    max: 2,
    impl: (args) => {
      const [s, n] = args.map((x) => x.fn) as [Fn, Fn];
      return { fn: (r) => str(s(r)).indexOf(str(n(r))), type: "long" };
    },
  },
  split: {
    min: 2,
    max: 3,
    impl: (args) => {
      const [s, d, i] = args.map((x) => x.fn) as [Fn, Fn, Fn | undefined];
      return {
        fn: (r) => {
          const parts = str(s(r)).split(str(d(r)));
          if (!i) return parts;
          const at = Number(i(r));
          return at >= 0 && at < parts.length ? [parts[at]] : [];
        },
        type: "dynamic",
      };
    },
  },
  replace_string: {
    min: 3,
    max: 3,
    impl: (args, e, ctx) => {
      const [s, a, b] = args.map((x) => x.fn) as [Fn, Fn, Fn];
      return {
        fn: (r) => {
          const parts = str(s(r)).split(str(a(r)));
          const by = str(b(r));
          // Checked before joining: "" as the needle splits between every character.
          if ((parts.length - 1) * by.length > MAX_STRING_LENGTH) stringLimit(ctx, "replace_string()", e.pos);
          return checkString(ctx, parts.join(by), "replace_string()", e.pos);
        },
        type: "string",
      };
    },
  },
};
