import { KqlError, positionOf } from "./errors.js";
import { parseTimespan } from "./values.js";

// The lexer is a port of the Kusto language service's TokenParser (Kusto.Language.Parsing), because the policy
// analyzer reads queries with that tokenizer: if the two disagreed on where a string, bracketed name or comment ends,
// the engine could run text the analyzer saw as data (the `['a\']...']` attack). Every rule below mirrors it:
// whitespace set, `//` comments up to a line break, strings that stop at CR/LF, escapes, verbatim `@'..''..'`,
// obfuscated `h'..'`, multi-line ``` and ~~~ strings, "goo" literals like datetime(...) read raw up to `)`,
// numbers/timespans/raw guids, and multi-part keywords (project-away, hint.strategy, in~, !has).

export type TokenKind = "ident" | "string" | "number" | "timespan" | "guid" | "goo" | "op" | "punct" | "eof";

export interface Token {
  kind: TokenKind;
  /** Identifiers: the name (decoded, for ['x']); others: the source text. */
  text: string;
  /** For strings: the unescaped value; for numbers/timespans: the numeric value (timespans in ms); goo: raw text. */
  value?: string | number;
  pos: number;
  /** Offset just past the token in the source. */
  end: number;
}

// Kusto's TextFacts.IsWhitespace (note: includes U+200B and U+FEFF, excludes \v, U+2028/2029).
const WHITESPACE = new Set([
  9, 32, 13, 10, 12, 160, 5760, 6158, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8203, 8239,
  8287, 12288, 65279,
]);
const isLineBreak = (c: number) => c === 13 || c === 10 || c === 8232 || c === 8233;
const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isIdentStart = (c: number) => isLetter(c) || c === 95 || c === 36;
const isIdentChar = (c: number) => isLetter(c) || isDigit(c) || c === 95;

const TIMESPAN_SUFFIXES = [
  ...["m", "min", "minute", "minutes", "s", "sec", "second", "seconds", "d", "day", "days", "h", "hr", "hrs"],
  ...["hour", "hours", "ms", "milli", "millis", "millisec", "millisecond", "milliseconds", "micro", "micros"],
  ...["microsec", "microsecond", "microseconds", "nano", "nanos", "nanosec", "nanosecond", "nanoseconds"],
  ...["tick", "ticks"],
].sort((a, b) => b.length - a.length);

/** Keywords whose text is more than one identifier (Kusto lexes each as one token). */
const COMPOUND_KEYWORDS = [
  ...["assert-schema", "commands-and-queries", "granny-asc", "granny-desc", "graph-match", "graph-shortest-paths"],
  ...["graph-to-table", "hint.concurrency", "hint.distribution", "hint.materialized", "hint.num_partitions"],
  ...["hint.shufflekey", "hint.spread", "hint.remote", "hint.strategy", "hint.progressive_top", "in~"],
  ...["macro-expand", "make-graph", "graph-mark-components", "graph-where-nodes", "graph-where-edges"],
  ...["make-series", "matches regex", "materialized-view-combine", "materialized-views", "mv-apply", "mv-expand"],
  ...["parse-where", "parse-kv", "partitioned-by", "project-away", "project-by-names", "project-keep"],
  ...["project-rename", "project-reorder", "project-smart", "sample-distinct", "set-or-append", "set-or-replace"],
  ...["top-hitters", "top-nested"],
].sort((a, b) => b.length - a.length);
const BANG_KEYWORDS = [
  ...["!between", "!contains", "!contains_cs", "!endswith", "!endswith_cs", "!has", "!has_cs", "!hasprefix"],
  ...["!hasprefix_cs", "!hassuffix", "!hassuffix_cs", "!in", "!in~", "!startswith", "!startswith_cs", "!"],
].sort((a, b) => b.length - a.length);

/** Keywords followed by a parenthesised raw literal ("goo"): datetime(2024-01-01), time(1.02:03:04), long(5). */
const GOO_KEYWORDS = new Set([
  ...["long", "int64", "int", "int32", "real", "double", "decimal", "bool", "datetime", "date", "time", "timespan"],
  "guid",
]);

/** Kusto keywords: a bracketed name after one of these is a name (`where ['a'] > 1`), not an element access. */
const KEYWORDS = new Set(
  (
    "and as asc between by consume contains contains_cs count datatable default desc distinct endswith endswith_cs " +
    "evaluate extend externaldata facet filter find fork from getschema has has_any has_all has_cs hasprefix " +
    "hasprefix_cs hassuffix hassuffix_cs in invoke join kind let limit lookup materialize nulls of on or order " +
    "parse partition print project range reduce regex render sample scan search serialize sort startswith " +
    "startswith_cs step summarize take to top toscalar totable typeof union view where with withsource not " +
    "project-away project-keep project-rename project-reorder mv-expand mv-apply make-series top-nested " +
    "top-hitters sample-distinct parse-where parse-kv macro-expand"
  ).split(" "),
);

const OPS2 = ["==", "!=", "=~", "!~", "<=", ">=", "=>", "..", "<|", "<>"];
const OPS1 = "<>=+-*/%";
const PUNCT = "|(),[];.:{}";

/** Extent of the digits at `i` (0 when none). */
function digits(text: string, i: number): number {
  let p = i;
  while (p < text.length && isDigit(text.charCodeAt(p))) p++;
  return p - i;
}

function hexRun(text: string, i: number, n: number): boolean {
  if (i + n > text.length) return false;
  for (let k = 0; k < n; k++) if (!isHex(text.charCodeAt(i + k))) return false;
  return true;
}

/** Length of a backslash escape at `i` as Kusto's ScanStringEscape accepts it, or -1. */
function escapeLength(text: string, i: number): number {
  const c = text.charCodeAt(i + 1);
  switch (c) {
    case 92: // \\
    case 39: // \'
    case 34: // \"
    case 97: // a
    case 98: // b
    case 102: // f
    case 110: // n
    case 114: // r
    case 116: // t
    case 118: // v
      return 2;
    case 117: // uXXXX
      return hexRun(text, i + 2, 4) ? 6 : -1;
    case 85: // UXXXXXXXX
      return hexRun(text, i + 2, 8) ? 10 : -1;
    case 120: // xXX
      return hexRun(text, i + 2, 2) ? 4 : -1;
    default: {
      const o = (k: number) => {
        const x = text.charCodeAt(i + k);
        return x >= 48 && x <= 55;
      };
      if (!o(1)) return -1;
      if (!o(2)) return 2;
      return o(3) && text.charCodeAt(i + 1) <= 51 ? 4 : 3;
    }
  }
}

/** Kusto's KustoFacts.DecodeEscapes, quirks included, so values equal the language service's. */
function decodeEscapes(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch !== 92 || i + 1 >= s.length) {
      out += s[i++];
      continue;
    }
    const c2 = s.charCodeAt(i + 1);
    const simple: Record<number, string> = {
      39: "'",
      34: '"',
      92: "\\",
      97: "\x07",
      98: "\b",
      102: "\f",
      110: "\n",
      114: "\r",
      116: "\t",
      118: "\v",
    };
    if (simple[c2] !== undefined) {
      out += simple[c2];
      i += 2;
    } else if (c2 === 117 || c2 === 120) {
      i += 2;
      let v = 0;
      for (let n = 0; n < (c2 === 117 ? 4 : 2) && i < s.length && isHex(s.charCodeAt(i)); n++, i++)
        v = v * 16 + Number.parseInt(s[i]!, 16);
      out += String.fromCharCode(v & 0xffff);
    } else if (isDigit(c2)) {
      i += 1;
      let v = 0;
      for (let n = 0; n < 3 && i < s.length && isDigit(s.charCodeAt(i)); n++, i++)
        v = (v << 3) + (s.charCodeAt(i) - 48);
      out += String.fromCharCode(v & 0xffff);
    } else {
      out += s[i + 1];
      i += 2;
    }
  }
  return out;
}

/**
 * A string literal at `i` (optionally h/H-prefixed, optionally @verbatim, '..', "..", ```..``` or ~~~..~~~):
 * its end offset and value, or undefined when there is none. Unterminated strings are an error here (Kusto reports
 * them as a diagnostic and keeps going; the engine refuses).
 */
function scanString(
  text: string,
  i: number,
  fail: (m: string, at: number) => never,
): { end: number; value: string } | undefined {
  let p = i;
  let c = text.charCodeAt(p);
  if (c === 104 || c === 72) c = text.charCodeAt(++p);
  let verbatim = false;
  if (c === 64) {
    verbatim = true;
    c = text.charCodeAt(++p);
  }
  if (c === 39 || c === 34) {
    const q = c;
    const from = ++p;
    let v = "";
    for (;;) {
      if (p >= text.length) fail("unterminated string literal", i);
      const ch = text.charCodeAt(p);
      if (ch === q && verbatim && text.charCodeAt(p + 1) === q) {
        v += text[p];
        p += 2;
      } else if (ch === 92 && !verbatim) {
        const n = escapeLength(text, p);
        if (n < 0) fail(`invalid escape sequence "${text.slice(p, p + 2)}" in string literal`, p);
        p += n;
      } else if (ch === q) break;
      else if (ch === 13 || ch === 10) fail("unterminated string literal (a quoted string cannot span lines)", i);
      else {
        if (verbatim) v += text[p];
        p++;
      }
    }
    return { end: p + 1, value: verbatim ? v : decodeEscapes(text.slice(from, p)) };
  }
  for (const quote of ["```", "~~~"]) {
    if (!text.startsWith(quote, p)) continue;
    const close = text.indexOf(quote, p + 3);
    if (close < 0) fail("unterminated multi-line string literal", i);
    return { end: close + 3, value: text.slice(p + 3, close) };
  }
  return undefined;
}

const isQuoteStart = (c: number) => c === 39 || c === 34 || c === 96 || c === 126;

/** Tokenizes KQL the way the Kusto language service does (see the note at the top). */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // Paren depth, and the depth at which a dynamic( literal opened: inside it, ['x'] is an array, not a name.
  let depth = 0;
  let dynamicAt = -1;
  const fail = (msg: string, at: number): never => {
    throw new KqlError({ code: "syntax", message: msg, ...positionOf(text, at) });
  };
  const push = (kind: TokenKind, start: number, end: number, value?: string | number, name?: string) => {
    out.push({
      kind,
      text: name ?? text.slice(start, end),
      ...(value !== undefined ? { value } : {}),
      pos: start,
      end,
    });
    i = end;
  };
  /** Skips whitespace and comments from p. */
  const trivia = (p: number): number => {
    for (;;) {
      while (p < text.length && WHITESPACE.has(text.charCodeAt(p))) p++;
      if (text.charCodeAt(p) === 47 && text.charCodeAt(p + 1) === 47) {
        // A comment runs to the start of the next line: its line break (CRLF, CR, LF, U+2028, U+2029) included.
        while (p < text.length && !isLineBreak(text.charCodeAt(p))) p++;
        p += text.charCodeAt(p) === 13 && text.charCodeAt(p + 1) === 10 ? 2 : p < text.length ? 1 : 0;
        continue;
      }
      return p;
    }
  };
  for (;;) {
    i = trivia(i);
    if (i >= text.length) break;
    const start = i;
    const c = text.charCodeAt(i);
    const last = out[out.length - 1];
    // Strings: ' " ``` ~~~, and @-prefixed.
    if (isQuoteStart(c) || (c === 64 && isQuoteStart(text.charCodeAt(i + 1)))) {
      const s = scanString(text, i, fail);
      if (s) {
        push("string", start, s.end, s.value);
        continue;
      }
      if (c === 64 || c === 96 || c === 126) fail(`unexpected character "${text[i]}"`, i);
    }
    // [ 'a' 'b' ] is a name (the string literals' values concatenated), except after a value, where it is an
    // element access (d['key']), or inside dynamic(...), where it is an array.
    if (c === 91) {
      const postfix =
        last !== undefined &&
        ((last.kind === "ident" && (last.end - last.pos !== last.text.length || !KEYWORDS.has(last.text))) ||
          last.text === ")" ||
          last.text === "]" ||
          last.kind === "string");
      if (!postfix && dynamicAt < 0) {
        let p = trivia(i + 1);
        let name = "";
        let parts = 0;
        for (;;) {
          const s = scanString(text, p, fail);
          if (!s) break;
          name += s.value;
          parts++;
          p = trivia(s.end);
        }
        if (parts > 0) {
          if (text.charCodeAt(p) !== 93) fail('expected "]" to close the bracketed name', p);
          push("ident", start, p + 1, name, name);
          continue;
        }
      }
    }
    if (c === 33) {
      // ! starts an operator keyword (!has, !in~, ...), != or !~; anything else is not KQL.
      if (text[i + 1] === "=" || text[i + 1] === "~") {
        push("op", start, i + 2);
        continue;
      }
      const kw = BANG_KEYWORDS.find((k) => text.startsWith(k, i) && !isIdentChar(text.charCodeAt(i + k.length)));
      if (!kw) fail(`unexpected character "!"`, i);
      push("op", start, i + 1);
      continue;
    }
    const two = text.slice(i, i + 2);
    if (OPS2.includes(two)) {
      push("op", start, i + 2);
      continue;
    }
    if (PUNCT.includes(text[i]!)) {
      if (c === 40) {
        depth++;
        if (dynamicAt < 0 && last?.kind === "ident" && last.text === "dynamic") dynamicAt = depth;
      } else if (c === 41) {
        if (depth === dynamicAt) dynamicAt = -1;
        depth--;
      }
      push("punct", start, i + 1);
      continue;
    }
    if (OPS1.includes(text[i]!)) {
      push("op", start, i + 1);
      continue;
    }
    if (isIdentStart(c)) {
      const kw = COMPOUND_KEYWORDS.find((k) => text.startsWith(k, i) && !isIdentChar(text.charCodeAt(i + k.length)));
      if (kw) {
        // hint.x and in~ are read by the parser as their parts; the rest, `matches regex` included, are one token
        // (so `matches  regex` or `matches //c⏎regex` is not the operator, as in Kusto).
        if (/[.~]/.test(kw)) {
          const first = /^[A-Za-z_]+/.exec(kw)![0];
          push("ident", start, i + first.length);
          if (kw.endsWith("~")) push("op", i, i + 1);
          continue;
        }
        push("ident", start, i + kw.length);
        continue;
      }
      let p = i + 1;
      while (p < text.length && isIdentChar(text.charCodeAt(p))) p++;
      const word = text.slice(i, p);
      if (p - i === 1 && (c === 104 || c === 72) && (isQuoteStart(text.charCodeAt(p)) || text.charCodeAt(p) === 64)) {
        const s = scanString(text, i, fail);
        if (s) {
          push("string", start, s.end, s.value);
          continue;
        }
      }
      if (/^[0-9a-fA-F]{8}$/.test(word) && rawGuid(text, i)) {
        push("guid", start, i + 36, text.slice(i, i + 36));
        continue;
      }
      push("ident", start, p);
      // datetime(...), long(...) and friends: the text up to ")" (or the line's end) is one raw literal.
      if (GOO_KEYWORDS.has(word) && text[p] === "(") {
        let e = p + 1;
        while (e < text.length && text[e] !== ")" && !isLineBreak(text.charCodeAt(e))) e++;
        if (text[e] !== ")") fail(`unterminated ${word}(...) literal`, start);
        push("punct", p, p + 1);
        const raw = text.slice(p + 1, e).trim();
        push(
          word === "time" || word === "timespan" ? "timespan" : word.startsWith("date") ? "string" : "goo",
          p + 1,
          e,
          raw,
        );
        push("punct", e, e + 1);
      }
      continue;
    }
    if (isDigit(c)) {
      if (rawGuid(text, i)) {
        push("guid", start, i + 36, text.slice(i, i + 36));
        continue;
      }
      const n = number(text, i) ?? fail("malformed number", i);
      if (n.kind === "timespan") {
        const ms =
          parseTimespan(text.slice(i, n.end)) ?? fail(`unsupported timespan literal "${text.slice(i, n.end)}"`, i);
        push("timespan", start, n.end, ms);
      } else if (n.kind === "number") push("number", start, n.end, Number(text.slice(i, n.end)));
      else push("ident", start, n.end);
      continue;
    }
    fail(`unexpected character "${text[i]}"`, i);
  }
  out.push({ kind: "eof", text: "", pos: text.length, end: text.length });
  return out;
}

function rawGuid(text: string, i: number): boolean {
  return (
    i + 35 < text.length &&
    hexRun(text, i, 8) &&
    text[i + 8] === "-" &&
    hexRun(text, i + 9, 4) &&
    text[i + 13] === "-" &&
    hexRun(text, i + 14, 4) &&
    text[i + 18] === "-" &&
    hexRun(text, i + 19, 4) &&
    text[i + 23] === "-" &&
    hexRun(text, i + 24, 12)
  );
}

/** Kusto's order: real, then timespan, then long (incl. hex), then an identifier that starts with digits. */
function number(text: string, i: number): { kind: "number" | "timespan" | "ident"; end: number } | undefined {
  const identAt = (p: number) => isIdentChar(text.charCodeAt(p));
  const exponent = (p: number): number => {
    const e = text.charCodeAt(p);
    if (e !== 101 && e !== 69) return -1;
    let q = p + 1;
    if (text[q] === "+" || text[q] === "-") q++;
    const d = digits(text, q);
    return d > 0 ? q + d : -1;
  };
  const d = digits(text, i);
  // real
  {
    let p = i + d;
    let ok = false;
    if (text[p] === "." && (text[p + 1] !== "." || text[p + 2] === ".")) {
      p = p + 1 + digits(text, p + 1);
      const e = exponent(p);
      if (e > 0) p = e;
      ok = true;
    } else {
      const e = exponent(p);
      if (e > 0) {
        p = e;
        ok = true;
      }
    }
    if (ok && !identAt(p)) return { kind: "number", end: p };
  }
  // timespan
  {
    let p = i + d;
    if (text[p] === ".") {
      const f = digits(text, p + 1);
      if (f > 0) p += 1 + f;
    }
    const suffix = TIMESPAN_SUFFIXES.find((s) => text.startsWith(s, p));
    if (suffix && !identAt(p + suffix.length)) return { kind: "timespan", end: p + suffix.length };
  }
  // long (hex too)
  if (text[i] === "0" && (text[i + 1] === "x" || text[i + 1] === "X") && isHex(text.charCodeAt(i + 2))) {
    let p = i + 3;
    while (isHex(text.charCodeAt(p))) p++;
    if (!identAt(p)) return { kind: "number", end: p };
  }
  if (!identAt(i + d)) return { kind: "number", end: i + d };
  const c = text.charCodeAt(i + d);
  if (isLetter(c) || c === 95) {
    let p = i + d;
    while (identAt(p)) p++;
    return { kind: "ident", end: p };
  }
  return undefined;
}
