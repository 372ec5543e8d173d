import { describe, expect, it } from "vitest";
import { errorOf, run } from "./fixtures.js";

// extract_all and the legacy replace(), as surveyed queries use them; answers worked out by hand.
describe("extract_all and replace()", () => {
  it("extract_all: one group gives strings, several give arrays, chosen groups, no match gives null", () => {
    const rows = (q: string) => run(q).rows;
    expect(rows(`print x = extract_all(@"(\\d+)", "a1b22c333")`)).toEqual([[["1", "22", "333"]]]);
    expect(rows(`print x = extract_all(@"(\\w)=(\\d)", "a=1;b=2")`)).toEqual([
      [
        [
          ["a", "1"],
          ["b", "2"],
        ],
      ],
    ]);
    expect(rows(`print x = extract_all(@"(\\w)=(\\d)", dynamic([2]), "a=1;b=2")`)).toEqual([[["1", "2"]]]);
    expect(rows(`print x = isnull(extract_all(@"(\\d)", "none"))`)).toEqual([[true]]);
    expect(errorOf(`print x = extract_all(@"\\d", "1")`).message).toContain("between 1 and 16 capture groups");
  });

  it("replace(regex, rewrite, text) is replace_regex(text, regex, rewrite) in the old order", () => {
    expect(run(`print x = replace(@"(\\w+)@(\\w+)", @"\\2 at \\1", "user@host")`).rows).toEqual([["host at user"]]);
    expect(run(`print a = replace(@"\\s", "", " a b "), b = replace_regex(" a b ", @"\\s", "")`).rows).toEqual([
      ["ab", "ab"],
    ]);
  });
});

describe("countof, array_concat, array_slice, arraylength", () => {
  it("answers as Kusto's documentation examples do", () => {
    expect(
      run(`print a = countof("aaaa", "aa"), b = countof("aaaa", "aa", "regex"), c = countof("The cat sat", "at")`).rows,
    ).toEqual([[3, 2, 2]]);
    expect(run(`print x = array_concat(dynamic([1, 2]), dynamic(["a"]))`).rows).toEqual([[[1, 2, "a"]]]);
    expect(run(`print x = isnull(array_concat(dynamic([1]), "no"))`).rows).toEqual([[true]]);
    expect(
      run(
        `print a = array_slice(dynamic([1, 2, 3, 4]), 1, 2), b = array_slice(dynamic([1, 2, 3, 4]), -2, -1), c = array_slice(dynamic([1, 2]), 1, 9)`,
      ).rows,
    ).toEqual([[[2, 3], [3, 4], [2]]]);
    expect(run(`print a = arraylength(dynamic([1, 2, 3]))`).rows).toEqual([[3]]);
  });
});

describe("a dynamic value compared with a string", () => {
  it("compares its JSON text, so an empty array equals '[]'", () => {
    expect(
      run(
        `print a = dynamic([]) == "[]", b = dynamic([]) != "[]", c = dynamic(["x"]) == "[]", d = "[]" == dynamic([]), e = dynamic({"k":1}) == '{"k":1}'`,
      ).rows,
    ).toEqual([[true, false, false, true, true]]);
  });
});

describe("in (tabular) whose column holds arrays", () => {
  it("flattens them, as a value list does", () => {
    expect(
      run(
        `let s = datatable(v:dynamic) [dynamic(["a", "B"])]; print x = "b" in~ (s), y = "a" in (s), z = "c" in (s), w = "a" in (dynamic(["a"]))`,
      ).rows,
    ).toEqual([[true, true, false, true]]);
  });
});
