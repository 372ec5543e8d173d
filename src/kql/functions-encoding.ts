import { createHash } from "node:crypto";
import { checkString } from "./context.js";
import { type FunctionTable, num, str, unary } from "./functions-common.js";
import type { Fn } from "./values.js";

// Encodings: Sentinel content uses them, and so does anyone trying to carry a redacted value past a pattern scan
// (reverse, base64, URL encoding, code points, strcat_array, tohex, hash_sha256).

/** Kusto's base64_decode_tostring: empty when the bytes are not base64 of valid UTF-8. */
function base64Text(s: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return "";
  const text = Buffer.from(s, "base64").toString("utf8");
  return text.includes("\uFFFD") ? "" : text;
}

function urlDecode(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    return "";
  }
}

export const ENCODING_FUNCTIONS: FunctionTable = {
  reverse: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : [...str(v)].reverse().join(""))) },
  base64_encode_tostring: {
    min: 1,
    max: 1,
    impl: unary("string", (v) => (v === null ? "" : Buffer.from(str(v), "utf8").toString("base64"))),
  },
  base64_decode_tostring: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : base64Text(str(v)))) },
  url_encode: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : encodeURIComponent(str(v)))) },
  url_encode_component: {
    min: 1,
    max: 1,
    impl: unary("string", (v) => (v === null ? "" : encodeURIComponent(str(v)))),
  },
  url_decode: { min: 1, max: 1, impl: unary("string", (v) => (v === null ? "" : urlDecode(str(v)))) },
  unicode_codepoints_from_string: {
    min: 1,
    max: 1,
    impl: unary("dynamic", (v) => (v === null ? null : [...str(v)].map((c) => c.codePointAt(0)!))),
  },
  unicode_codepoints_to_string: {
    min: 1,
    max: 64,
    impl: (args, e, ctx) => {
      const fs = args.map((a) => a.fn);
      return {
        fn: (r) => {
          const codes = fs.flatMap((f) => {
            const v = f(r);
            return Array.isArray(v) ? v : [v];
          });
          if (!codes.every((c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 0x10ffff)) return null;
          return checkString(
            ctx,
            String.fromCodePoint(...(codes as number[])),
            "unicode_codepoints_to_string()",
            e.pos,
          );
        },
        type: "string",
      };
    },
  },
  strcat_array: {
    min: 2,
    max: 2,
    impl: (args, e, ctx) => {
      const [a, d] = args.map((x) => x.fn) as [Fn, Fn];
      return {
        fn: (r) => {
          const arr = a(r);
          if (!Array.isArray(arr)) return null;
          const parts = arr.map((x) => (typeof x === "string" ? x : x === null ? "" : JSON.stringify(x)));
          return checkString(ctx, parts.join(str(d(r))), "strcat_array()", e.pos);
        },
        type: "string",
      };
    },
  },
  tohex: {
    min: 1,
    max: 2,
    impl: (args) => {
      const [a, w] = args.map((x) => x.fn) as [Fn, Fn | undefined];
      return {
        fn: (r) => {
          const n = num(a(r));
          if (n === null || !Number.isInteger(n)) return null;
          const hex = (n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16);
          const width = w ? Number(w(r)) : 0;
          return width > hex.length ? hex.padStart(Math.min(width, 64), "0") : hex;
        },
        type: "string",
      };
    },
  },
  hash_sha256: {
    min: 1,
    max: 1,
    impl: unary("string", (v) => createHash("sha256").update(str(v)).digest("hex")),
  },
};
