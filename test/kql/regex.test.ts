import { describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/engine.js";
import type { KqlError } from "../../src/kql/errors.js";
import type { KqlDataSource } from "../../src/kql/types.js";

// Regular expressions from query text run on RE2: linear time on any input, and Kusto's RE2 syntax (no backreferences,
// no lookaround). These inputs froze JavaScript's backtracking RegExp; here they simply complete (no timing asserts).

const LONG = `${"a".repeat(40_000)}!`;
const src: KqlDataSource = {
  table: (n) =>
    n === "T" ? { name: "T", columns: [{ name: "s", type: "string" }], rows: [[LONG], ["xaac"], ["b"]] } : undefined,
  tableNames: () => ["T"],
};
const run = (q: string) => executeKql(q, src).rows;
const err = (q: string): KqlError["info"] => {
  try {
    executeKql(q, src);
  } catch (e) {
    return (e as KqlError).info;
  }
  throw new Error("expected an error");
};

describe("RE2 regular expressions", () => {
  it("catastrophic patterns finish on 40k-character input with correct results", () => {
    expect(run("T | where s matches regex '(a+)+$' | project n = strlen(s)")).toEqual([]);
    expect(run("T | where s matches regex '(a|aa)*c' | project s")).toEqual([["xaac"]]);
    expect(run("T | extend m = extract('(a|aa)*c', 0, s) | project m")).toEqual([[null], ["aac"], [null]]);
    expect(run("T | project r = strlen(replace_regex(s, '(a+)+b', 'x'))")).toEqual([[40_001], [4], [1]]);
    expect(run("T | project r = strlen(trim('(a|aa)+', s))")).toEqual([[1], [4], [1]]);
    expect(run("T | project r = trim_end('(a*)*!', s) | project n = strlen(r)")).toEqual([[0], [4], [1]]);
    expect(run("T | parse s with x '!' | project n = strlen(x)")).toEqual([[40_000], [0], [0]]);
    expect(run(`T | parse s with ${Array(12).fill("*").join(" 'a' ")} '!' rest | project rest`)).toEqual([
      [""],
      [""],
      [""],
    ]);
  });

  it("replace_regex writes groups as \\1 and keeps $ literal", () => {
    expect(run("print r = replace_regex('a1b22', @'(\\d+)', @'<\\1$1>')")).toEqual([["a<1$1>b<22$1>"]]);
    expect(run("print r = replace_regex('abc', '', '-')")).toEqual([["-a-b-c-"]]);
  });

  it.each([
    ["print x = extract(@'(a)\\1', 0, 'aa')", "backreference"],
    ["print x = 'ab' matches regex '(?=a)'", "lookaround"],
    ["print x = replace_regex('ab', '(?<!a)b', '')", "lookaround"],
    ["print x = trim(@'\\k<n>', 'ab')", "backreference"],
    ["print x = extract('(', 0, 'a')", "not a valid RE2"],
  ])("%s is refused naming the construct", (q, what) => {
    const e = err(q);
    expect(e.code).toBe("semantic");
    expect(e.message).toContain(what);
    if (what !== "not a valid RE2") expect(e.message).toContain("Kusto's RE2 does not support");
  });
});
