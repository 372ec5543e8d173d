import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_INTERMEDIATE_ROWS } from "../../src/kql/context.js";
import { executeKql } from "../../src/kql/engine.js";
import type { KqlError } from "../../src/kql/errors.js";
import type { KqlDataSource, KqlExecuteOptions } from "../../src/kql/types.js";

// Intermediate results are capped (opts.maxIntermediateRows, default 1,000,000) before they are materialised, so no
// query shape (many-to-many join, mv-expand, make-series, range, union, summarize) can exhaust memory.

const K = 300; // 300 rows with one key: a self-join has 90,000 rows
const src: KqlDataSource = {
  table: (n) =>
    n === "Big"
      ? { name: "Big", columns: [{ name: "k", type: "long" }], rows: Array.from({ length: 2000 }, (_, i) => [i]) }
      : n === "T"
        ? {
            name: "T",
            columns: [
              { name: "k", type: "long" },
              { name: "a", type: "dynamic" },
            ],
            rows: Array.from({ length: K }, (_, i) => [1, [i, i + 1, i + 2]]),
          }
        : undefined,
  tableNames: () => ["T"],
};
const limitError = (q: string, opts: KqlExecuteOptions = {}): KqlError["info"] => {
  try {
    executeKql(q, src, opts);
  } catch (e) {
    return (e as KqlError).info;
  }
  throw new Error(`expected a limit error: ${q}`);
};

describe("intermediate row caps", () => {
  it("defaults to 1,000,000", () => {
    expect(DEFAULT_MAX_INTERMEDIATE_ROWS).toBe(1_000_000);
    expect(limitError("range x from 1 to 2000000 step 1").message).toContain("more than 1000000 rows");
  });

  it.each([
    ["T | join kind=inner (T) on k | count", "join"],
    ["T | join kind=leftouter (T) on k", "join"],
    ["T | lookup (T | project k, b = a) on k", "lookup"],
    ["T | extend b = pack_array(1, 2, 3, 4) | mv-expand b | count", "mv-expand"],
    ["range x from 1 to 50000 step 1", "range"],
    ["union T, T, T, T", "union"],
    ["Big | summarize count() by k", "summarize"],
    ["T | make-series count() default=0 on k from 0 to 10000 step 1 by tostring(a)", "make-series"],
  ])("%s stops with a limit error naming %s", (q, what) => {
    const e = limitError(q, { maxIntermediateRows: 1000 });
    expect(e.code).toBe("limit");
    expect(e.message).toContain(what);
    expect(e.message).toContain("more than 1000 rows");
    expect(e.message).toMatch(/narrow the query with where\/take/);
  });

  it("within the cap the same shapes run", () => {
    const r = executeKql("T | join kind=inner (T) on k | count", src, { maxIntermediateRows: 100_000 });
    expect(r.rows).toEqual([[K * K]]);
  });

  it("dynamic values cannot double past the element cap (pack_array(d, d) repeated)", () => {
    const doubling = Array.from({ length: 24 }, () => "| extend d = pack_array(d, d)").join(" ");
    const e = limitError(`print d = 1 ${doubling} | extend s = tostring(d)`);
    expect(e.code).toBe("limit");
    expect(e.message).toContain("pack_array()");
    const sixteen = doubling.split("|").slice(1, 17).join("|");
    const e2 = limitError(`range i from 1 to 20 step 1 | extend d = 1 |${sixteen} | summarize make_list(d)`);
    expect(e2.message).toContain("make_list()");
  });

  it("string and list builders are bounded", () => {
    const e = limitError(
      "range i from 1 to 30 step 1 | summarize s = make_list(i) | extend t = strcat('0123456789abcdef', 'x') " +
        "| extend u = replace_regex(strcat_delim(t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t), '', t) " +
        "| extend v = replace_regex(u, '', u)",
    );
    expect(e.code).toBe("limit");
    expect(e.message).toContain("replace_regex()");
    const e2 = limitError(
      "print a = replace_regex('0123456789', '', '0123456789') | extend b = replace_string(a, '', a) " +
        "| extend c = replace_string(b, '', b)",
    );
    expect(e2.message).toContain("replace_string()");
  });
});
