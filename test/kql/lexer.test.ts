import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/engine.js";
import { tokenize } from "../../src/kql/lexer.js";
import { analyzeKqlSync, lsTokens, makeSource, SCHEMA } from "./ls-oracle.js";

// Our lexer must read every quoting form exactly as Microsoft's Kusto language service (the policy analyzer's parser)
// does; otherwise the engine can run text the analyzer saw as a string or a name.

beforeAll(() => {
  lsTokens("print 1");
});

/** Where our tokens and the language service's disagree on strings and bracketed names; undefined when they agree. */
function disagreement(q: string): string | undefined {
  let ours: ReturnType<typeof tokenize>;
  try {
    ours = tokenize(q);
  } catch {
    return undefined; // we refuse the query: nothing runs
  }
  const ls = lsTokens(q);
  const at = (pos: number) => ls.find((t) => t.pos === pos);
  // datetime(...), long(...), !has, in~, hint.strategy: one token to the language service, several to us.
  const inCompound = (pos: number) => ls.some((l) => l.kind !== "StringLiteralToken" && l.pos < pos && pos < l.end);
  for (const t of ours) {
    if (t.kind === "eof" || inCompound(t.pos)) continue;
    const l = at(t.pos);
    if (!l) return `our token ${JSON.stringify(t.text)} at ${t.pos} starts inside a language-service token`;
    if (l.bad)
      return `we accept ${JSON.stringify(t.text)} at ${t.pos}, the language service reports ${JSON.stringify(l)}`;
    if (t.kind !== "string" && l.kind === "StringLiteralToken")
      return `the language service reads a string at ${t.pos} where we read ${t.kind} ${JSON.stringify(t.text)}`;
    if (t.kind === "string") {
      if (l.kind !== "StringLiteralToken" || l.end !== t.end || l.value !== t.value || l.bad)
        return `string at ${t.pos}: ours ${JSON.stringify(t.value)}, language service ${JSON.stringify(l)}`;
    } else if (t.kind === "ident" && t.end - t.pos !== t.text.length) {
      const inner = ls.filter((x) => x.pos > t.pos && x.end < t.end);
      const close = ls.find((x) => x.end === t.end);
      if (
        l.kind !== "OpenBracketToken" ||
        close?.kind !== "CloseBracketToken" ||
        inner.some((x) => x.kind !== "StringLiteralToken" || x.bad) ||
        inner.map((x) => x.value).join("") !== t.text
      )
        return `bracketed name at ${t.pos}: ours ${JSON.stringify(t.text)}, language service ${JSON.stringify([l, ...inner, close])}`;
    }
  }
  // Every string the language service sees is inside one of our strings or bracketed names.
  for (const l of ls)
    if (l.kind === "StringLiteralToken" && !ours.some((t) => t.kind !== "eof" && t.pos <= l.pos && l.end <= t.end))
      return `language service string ${JSON.stringify(l.text)} at ${l.pos} is code to us`;
  return undefined;
}

describe("lexer agrees with the Kusto language service", () => {
  it("regression: an escaped quote inside ['...'] does not end the bracketed name (hid a union from the analyzer)", () => {
    // The language service reads one column name `x'] = 1 | union SecurityAlert | extend y = ` followed by `] = 1`
    // and a comment; the old lexer ended the name at `\'` and ran `union SecurityAlert` as code.
    const attack = "AuditLogs | project Name, ['x\\'] = 1 | union SecurityAlert | extend y = '] = 1 //'";
    const a = analyzeKqlSync(attack, SCHEMA);
    expect(a.tables).toEqual(["AuditLogs"]);
    expect(disagreement(attack)).toBeUndefined();
    const r = executeKql(attack, makeSource());
    expect(r.reads.tables).toEqual(["AuditLogs"]);
    expect(r.columns.map((c) => c.name)).toEqual(["Name", "x'] = 1 | union SecurityAlert | extend y = "]);
  });

  it("regression: a verbatim string's doubled quote does not end it", () => {
    const q = "AuditLogs | extend y = @'a'' | union SecurityAlert | extend z = '";
    expect(analyzeKqlSync(q, SCHEMA).tables).toEqual(["AuditLogs"]);
    expect(disagreement(q)).toBeUndefined();
    expect(executeKql(q, makeSource()).reads.tables).toEqual(["AuditLogs"]);
  });

  it.each([
    ["print x = 'a\\'b\\\\c\\n\\t\\u0041\\x41\\101'", "a'b\\c\n\tAAA"],
    ['print x = "a\\"b"', 'a"b'],
    ["print x = @'C:\\dir\\''x'", "C:\\dir\\'x"],
    ['print x = @"a""b"', 'a"b'],
    ["print x = h'secret'", "secret"],
    ["print x = H@'se''cret'", "se'cret"],
    ["print x = ```line1\nline2 'quoted' \\n```", "line1\nline2 'quoted' \\n"],
    ["print x = ~~~a~b~~~", "a~b"],
    ["print x = 'a' 'b' @'c'", "abc"],
  ])("%s", (q, value) => {
    expect(disagreement(q)).toBeUndefined();
    expect(executeKql(q, makeSource()).rows).toEqual([[value]]);
  });

  it.each([
    ["['Audit' 'Logs'] | count", "AuditLogs"],
    ['["AuditLogs"] | count', "AuditLogs"],
    ["[@'AuditLogs'] | count", "AuditLogs"],
    ["[h'AuditLogs'] | count", "AuditLogs"],
    ["union ['AuditLogs'], [ 'SigninLogs' ] | count", "AuditLogs,SigninLogs"],
    ["AuditLogs | where ['Name'] != '' | count", "AuditLogs"],
  ])("bracketed table name %s", (q, tables) => {
    expect(disagreement(q)).toBeUndefined();
    expect(analyzeKqlSync(q, SCHEMA).tables.join(",")).toBe(tables);
    expect(executeKql(q, makeSource()).reads.tables.join(",")).toBe(tables);
  });

  it.each([
    "print x = 'a\nb'", // single-quoted strings stop at a line break
    "print x = 'a\\qb'", // invalid escape
    "print x = ['a'", // unclosed bracketed name
    "print x = `a`",
    "print x = 'a\rb'",
  ])("refuses %j", (q) => {
    expect(() => tokenize(q)).toThrow();
  });

  it("comments end at any Kusto line break (CR, LF, U+2028, U+2029); Kusto's whitespace includes U+200B", () => {
    for (const br of ["\r", "\n", "\r\n", "\u2028", "\u2029"]) {
      const q = `AuditLogs // c${br}| union SigninLogs | count`;
      expect(disagreement(q)).toBeUndefined();
      expect(executeKql(q, makeSource()).reads.tables).toEqual(["AuditLogs", "SigninLogs"]);
    }
    // Outside a comment U+2028 is not whitespace to Kusto.
    expect(() => tokenize("AuditLogs\u2028| count")).toThrow(/unexpected character/);
    expect(executeKql("print\u200bx = 1", makeSource()).rows).toEqual([[1]]);
  });

  it("datetime(...) and other raw literals end at the first ')', as in Kusto", () => {
    const q = "print d = datetime(2024-01-01 10:00), l = long(5), b = bool(true), t = time(1.02:00:00)";
    expect(disagreement(q)).toBeUndefined();
    expect(executeKql(q, makeSource()).rows).toEqual([[Date.parse("2024-01-01T10:00:00Z"), 5, true, 26 * 3_600_000]]);
  });

  it("property: any string, written in each quoting form, reads back as itself in our lexer and in Kusto's", () => {
    const esc = (v: string, q: string) =>
      v.replace(/\\/g, "\\\\").replace(new RegExp(q, "g"), `\\${q}`).replace(/\n/g, "\\n").replace(/\r/g, "\\r");
    const forms: [string, (v: string) => string | undefined][] = [
      ["'x'", (v) => `'${esc(v, "'")}'`],
      ['"x"', (v) => `"${esc(v, '"')}"`],
      ["h'x'", (v) => `h'${esc(v, "'")}'`],
      ["@'x'", (v) => (/[\r\n]/.test(v) ? undefined : `@'${v.replace(/'/g, "''")}'`)],
      ['H@"x"', (v) => (/[\r\n]/.test(v) ? undefined : `H@"${v.replace(/"/g, '""')}"`)],
      ["```x```", (v) => (v.includes("`") ? undefined : `\`\`\`${v}\`\`\``)],
      ["['x']", (v) => `['${esc(v, "'")}']`],
      ['[@"x"]', (v) => (/[\r\n]/.test(v) ? undefined : `[@"${v.replace(/"/g, '""')}"]`)],
    ];
    const text = fc.string({
      unit: fc.constantFrom("'", '"', "\\", "`", "\n", "\r", "]", "[", "|", "a", "é", "\u200b", "😀"),
    });
    fc.assert(
      fc.property(text, fc.nat(forms.length - 1), (v, f) => {
        const lit = forms[f]![1](v);
        if (lit === undefined) return;
        const q = `print ${lit}`;
        const ours = tokenize(q)[1]!;
        const ls = lsTokens(q).filter((t) => t.kind === "StringLiteralToken");
        expect(ours.kind === "string" ? ours.value : ours.text).toBe(v);
        expect(ls.map((t) => t.value).join("")).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: any text in any quoting form tokenizes as the language service tokenizes it", () => {
    const alphabet = [
      ...["'", '"', "\\", "[", "]", "@", "h", "H", "`", "~", "|", "/", "\n", "\r", " ", "a", "u", "0", "4", "x"],
      ...["(", ")", "datetime(", "long(", "!has ", "in~", "$", "-", ".", "e", "ms", "project-away", "\u2028", "\u200b"],
      ...["\u00a0", "\v", "0x1F", "1.5", "'x'", "['y']", "where ", "```", "~~~", ";", ","],
    ];
    const piece = fc.array(fc.constantFrom(...alphabet), { maxLength: 14 }).map((a) => a.join(""));
    const forms = [
      (s: string) => `'${s}'`,
      (s: string) => `"${s}"`,
      (s: string) => `@'${s}'`,
      (s: string) => `h'${s}'`,
      (s: string) => `['${s}']`,
      (s: string) => `["${s}"]`,
      (s: string) => `[@'${s}']`,
      (s: string) => `\`\`\`${s}\`\`\``,
      (s: string) => s,
    ];
    fc.assert(
      fc.property(piece, piece, fc.nat(forms.length - 1), (a, b, f) => {
        const q = `print x = ${forms[f]!(a)} | union SecurityAlert ${b}`;
        const d = disagreement(q);
        if (d) throw new Error(`${d}\nquery: ${JSON.stringify(q)}`);
      }),
      { numRuns: 3000 },
    );
  });
});
