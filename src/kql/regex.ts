import { RE2JS, RE2JSSyntaxException } from "re2js";

// Every regular expression that comes from query text runs on RE2 (re2js: pure JS, linear time), as in Kusto:
// no catastrophic backtracking can freeze the server, and patterns Kusto rejects (backreferences, lookaround) are
// rejected here too, with the construct named.

export type Regex = RE2JS;

/** Thrown for a pattern RE2 rejects; callers turn it into a KqlError at the construct's position. */
export class RegexError extends Error {}

const cache = new Map<string, RE2JS>();

/** Compiles `pattern` with RE2 semantics (cached), or throws RegexError naming what is wrong. */
export function compileRegex(pattern: string, flags = 0): RE2JS {
  const key = `${flags}\u0000${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, flags);
  } catch (err) {
    const msg = err instanceof RE2JSSyntaxException ? err.message : String(err);
    if (/invalid escape sequence: `\\[1-9k]/.test(msg))
      throw new RegexError(`uses a backreference, which Kusto's RE2 does not support`);
    if (/`\(\?(=|!|<=|<!)/.test(msg))
      throw new RegexError(`uses a lookaround assertion, which Kusto's RE2 does not support`);
    throw new RegexError(`is not a valid RE2 regular expression (${msg.replace(/^error parsing regexp: /, "")})`);
  }
  if (cache.size > 256) cache.clear();
  cache.set(key, re);
  return re;
}

/** First match and its groups (null for groups that did not take part), or null. */
export function firstMatch(re: RE2JS, s: string): (string | null)[] | null {
  const m = re.matcher(s);
  if (!m.find()) return null;
  const out: (string | null)[] = [];
  for (let g = 0; g <= m.groupCount(); g++) out.push(m.group(g));
  return out;
}

/**
 * Every match of `re` in `s` replaced; `\N` in Kusto's replacement text is group N, anything else literal.
 * Undefined as soon as the result would exceed maxLength (an empty pattern multiplies the input).
 */
export function replaceAll(re: RE2JS, s: string, replacement: string, maxLength = Infinity): string | undefined {
  const m = re.matcher(s);
  let out = "";
  let last = 0;
  while (m.find()) {
    out += s.slice(last, m.start());
    out += replacement.replace(/\\(\d)/g, (all: string, d: string) =>
      Number(d) <= m.groupCount() ? (m.group(Number(d)) ?? "") : all,
    );
    last = m.end();
    if (out.length > maxLength) return undefined;
  }
  out += s.slice(last);
  return out.length > maxLength ? undefined : out;
}

export { RE2JS };
