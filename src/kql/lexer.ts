import { KqlError, positionOf } from "./errors.js";
import { parseTimespan, TIMESPAN_UNIT_NAMES } from "./values.js";

export type TokenKind = "ident" | "string" | "number" | "timespan" | "op" | "punct" | "eof";

export interface Token {
  kind: TokenKind;
  text: string;
  /** For strings: the unescaped value; for numbers/timespans: the numeric value (timespans in ms). */
  value?: string | number;
  pos: number;
}

// Longest unit first, so `10ms` is ten milliseconds and not ten minutes followed by "s".
const UNIT_ALT = [...TIMESPAN_UNIT_NAMES].sort((a, b) => b.length - a.length).join("|");
const NUMBER = new RegExp(`^(\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)(${UNIT_ALT})?(?![A-Za-z0-9_])`, "i");
/** Literal constructors whose argument is raw text, not tokens: datetime(2024-01-01T10:00:00Z), time(1.02:03:04). */
const RAW_LITERALS = new Set(["datetime", "time", "timespan"]);
const OPS = ["==", "!=", "=~", "!~", "~", "<=", ">=", "=>", "..", "<", ">", "=", "+", "-", "*", "/", "%", "!"];
const PUNCT = "|(),[];.:{}";

/** Tokenizes KQL: identifiers (incl. bracketed ['x']), strings ('', "", @verbatim), numbers, timespan literals. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // Paren depth, and the depth at which a dynamic( literal opened: inside it, ['x'] is an array, not a name.
  let depth = 0;
  let dynamicAt = -1;
  const fail = (msg: string, at: number): never => {
    throw new KqlError({ code: "syntax", message: msg, ...positionOf(text, at) });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const start = i;
    // datetime(...) literals are read raw: 2024-01-01T10:00:00Z is not a sequence of ordinary tokens.
    const prev = out[out.length - 1];
    const prev2 = out[out.length - 2];
    if (
      prev?.text === "(" &&
      prev2?.kind === "ident" &&
      RAW_LITERALS.has(prev2.text.toLowerCase()) &&
      c !== "'" &&
      c !== '"'
    ) {
      const end = text.indexOf(")", i);
      if (end < 0) fail("unterminated datetime literal", i);
      const raw = text.slice(i, end).trim();
      out.push({
        kind: prev2.text.toLowerCase() === "datetime" ? "string" : "timespan",
        text: raw,
        value: raw,
        pos: start,
      });
      i = end;
      continue;
    }
    if (
      c === "'" ||
      c === '"' ||
      ((c === "@" || c === "h" || c === "H") && (text[i + 1] === "'" || text[i + 1] === '"'))
    ) {
      const verbatim = c === "@";
      if (c !== "'" && c !== '"') i++;
      const q = text[i]!;
      i++;
      let v = "";
      while (i < text.length && text[i] !== q) {
        if (text[i] === "\\" && !verbatim) {
          const n = text[i + 1];
          v += n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : (n ?? "");
          i += 2;
        } else v += text[i++];
      }
      if (i >= text.length) fail("unterminated string literal", start);
      i++;
      out.push({ kind: "string", text: text.slice(start, i), value: v, pos: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = NUMBER.exec(text.slice(i));
      if (!m) fail("malformed number", i);
      i += m![0].length;
      if (m![2]) out.push({ kind: "timespan", text: m![0], value: parseTimespan(m![0]) ?? 0, pos: start });
      else out.push({ kind: "number", text: m![0], value: Number(m![1]), pos: start });
      continue;
    }
    // ['name'] is a quoted identifier, except right after a value (d['key'] is member access).
    const last = out[out.length - 1];
    const postfix = last !== undefined && (last.kind === "ident" || last.text === ")" || last.text === "]");
    const q0 = text[i + 1];
    const closeAt = q0 === "'" || q0 === '"' ? text.indexOf(q0, i + 2) : -1;
    if (c === "[" && !postfix && dynamicAt < 0 && closeAt > 0 && text[closeAt + 1] === "]") {
      const q = q0!;
      const end = text.indexOf(`${q}]`, i + 2);
      out.push({ kind: "ident", text: text.slice(i + 2, end), value: text.slice(i + 2, end), pos: start });
      i = end + 2;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*(?:-[A-Za-z]+)*/.exec(text.slice(i))!;
      // Hyphenated keywords (project-away, mv-expand, make-series, !has-like forms) are one token.
      let word = m[0];
      if (
        word.includes("-") &&
        !/^(project-away|project-rename|project-keep|project-reorder|project-smart|mv-expand|mv-apply|make-series|make-graph|top-nested|top-hitters|sample-distinct|macro-expand|graph-match|order|sort)/i.test(
          word,
        )
      )
        word = word.split("-")[0]!;
      i += word.length;
      out.push({ kind: "ident", text: word, value: word, pos: start });
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) {
      i += op.length;
      out.push({ kind: "op", text: op, pos: start });
      continue;
    }
    if (c === "(") {
      depth++;
      if (dynamicAt < 0 && last?.kind === "ident" && last.text.toLowerCase() === "dynamic") dynamicAt = depth;
    } else if (c === ")") {
      if (depth === dynamicAt) dynamicAt = -1;
      depth--;
    }
    if (PUNCT.includes(c)) {
      i++;
      out.push({ kind: "punct", text: c, pos: start });
      continue;
    }
    fail(`unexpected character "${c}"`, i);
  }
  out.push({ kind: "eof", text: "", pos: text.length });
  return out;
}
