import { describe, expect, it } from "vitest";
import { executeKql, type KqlError } from "../../src/kql/index.js";
import type { KqlDataSource, KqlTable } from "../../src/kql/types.js";

const H = 3_600_000;
const NOW = Date.parse("2026-03-01T12:00:00Z");
// Hand-made fixture; expected answers below are counted by hand from these rows.
const T: KqlTable = {
  name: "SigninLogs",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "UserPrincipalName", type: "string" },
    { name: "IPAddress", type: "string" },
    { name: "ResultType", type: "string" },
    { name: "Score", type: "long" },
  ],
  rows: [
    [NOW - 1 * H, "adele@contoso.com", "203.0.113.45", "50126", 3],
    [NOW - 2 * H, "alex@contoso.com", "203.0.113.45", "50126", 5],
    [NOW - 3 * H, "adele@contoso.com", "203.0.113.45", "0", 7],
    [NOW - 30 * H, "diego@contoso.com", "10.0.0.4", "0", null],
    [NOW - 50 * H, "Adele@Contoso.com", "10.0.0.5", "0", 1],
  ],
};
const src: KqlDataSource = {
  table: (n) => (n === "SigninLogs" ? T : undefined),
  tableNames: () => ["SigninLogs"],
  storedFunction: (n) => (n === "Signins" ? "SigninLogs" : undefined),
};
const run = (q: string, ts?: { start: number; end: number }) =>
  executeKql(q, src, { now: NOW, ...(ts ? { timespan: ts } : {}) });

describe("local KQL engine", () => {
  it("where / count / take with Kusto string semantics", () => {
    expect(run("SigninLogs | where ResultType == '50126' | count").rows).toEqual([[2]]);
    expect(run("SigninLogs | where UserPrincipalName == 'adele@contoso.com' | count").rows).toEqual([[2]]); // == is case-sensitive
    expect(run("SigninLogs | where UserPrincipalName =~ 'adele@contoso.com' | count").rows).toEqual([[3]]);
    expect(run("SigninLogs | where UserPrincipalName has 'contoso' | count").rows).toEqual([[5]]);
    expect(run("SigninLogs | where UserPrincipalName has 'conto' | count").rows).toEqual([[0]]); // has is whole-term
    expect(run("SigninLogs | where UserPrincipalName contains 'CONTO' | count").rows).toEqual([[5]]);
    expect(run("SigninLogs | where IPAddress startswith '203.' and ResultType != '0' | count").rows).toEqual([[2]]);
    expect(run("SigninLogs | where ResultType in ('0', 'x') | count").rows).toEqual([[3]]);
    expect(run("SigninLogs | where ResultType !in ('0') | count").rows).toEqual([[2]]);
    expect(run("SigninLogs | take 2").rows).toHaveLength(2);
    expect(run("SigninLogs | take 50").rows).toHaveLength(5);
  });

  it("time: ago(), datetime literals, bin(), and the API timespan as a hard bound", () => {
    expect(run("SigninLogs | where TimeGenerated > ago(1d) | count").rows).toEqual([[3]]);
    expect(run("SigninLogs | where TimeGenerated >= datetime(2026-02-28T05:00:00Z) | count").rows).toEqual([[4]]);
    const binned = run("SigninLogs | summarize n = count() by bin(TimeGenerated, 1d) | sort by TimeGenerated asc").rows;
    expect(binned).toEqual([
      [Date.parse("2026-02-27T00:00:00Z"), 1],
      [Date.parse("2026-02-28T00:00:00Z"), 1],
      [Date.parse("2026-03-01T00:00:00Z"), 3],
    ]);
    // The timespan hides older rows even from a query that asks for everything.
    expect(run("SigninLogs | count", { start: NOW - 24 * H, end: NOW + 1 }).rows).toEqual([[3]]);
  });

  it("summarize aggregations, naming and nulls", () => {
    const r = run(
      "SigninLogs | summarize count(), dcount(UserPrincipalName), sum(Score), max(Score), avg(Score) by IPAddress | sort by IPAddress asc",
    );
    expect(r.columns.map((c) => c.name)).toEqual([
      "IPAddress",
      "count_",
      "dcount_UserPrincipalName",
      "sum_Score",
      "max_Score",
      "avg_Score",
    ]);
    expect(r.rows[0]).toEqual(["10.0.0.4", 1, 1, 0, null, null]);
    expect(r.rows[2]).toEqual(["203.0.113.45", 3, 2, 15, 7, 5]);
    expect(run("SigninLogs | where Score > 100 | summarize count()").rows).toEqual([[0]]);
  });

  it("property: count by a key sums to the row count; where p and where not(p) partition the rows", () => {
    const total = run("SigninLogs | count").rows[0]![0];
    const byKey = run("SigninLogs | summarize c = count() by ResultType").rows.reduce(
      (s, r) => s + (r[1] as number),
      0,
    );
    expect(byKey).toBe(total);
    const p = run("SigninLogs | where IPAddress startswith '203' | count").rows[0]![0] as number;
    const notP = run("SigninLogs | where not(IPAddress startswith '203') | count").rows[0]![0] as number;
    expect(p + notP).toBe(total);
  });

  it("project, extend, project-away, sort (desc default), top, distinct, let, stored functions", () => {
    expect(run("SigninLogs | project U = tolower(UserPrincipalName) | distinct U").rows).toHaveLength(3);
    expect(run("SigninLogs | extend Hi = Score > 4 | where Hi | count").rows).toEqual([[2]]);
    expect(run("SigninLogs | project-away IPAddress, Score").columns.map((c) => c.name)).toEqual([
      "TimeGenerated",
      "UserPrincipalName",
      "ResultType",
    ]);
    expect(run("SigninLogs | sort by Score | take 1").rows[0]![4]).toBe(7);
    expect(run("SigninLogs | top 2 by Score asc").rows.map((r) => r[4])).toEqual([null, 1]);
    expect(run("let bad = '50126'; SigninLogs | where ResultType == bad | count").rows).toEqual([[2]]);
    expect(run("let f = SigninLogs | where Score >= 5; f | count").rows).toEqual([[2]]);
    expect(run("Signins | count").rows).toEqual([[5]]);
  });

  it("join kinds with Kusto semantics (innerunique dedupes the left; clashing columns get a 1 suffix)", () => {
    const L = "datatable(k:string, v:long)['a',1,'a',2,'b',3]";
    const R = "datatable(k:string, w:long)['a',10,'a',11,'c',12]";
    const j = (kind: string) => run(`let L = ${L}; let R = ${R}; L | join kind=${kind} (R) on k`);
    expect(j("inner").rows).toEqual([
      ["a", 1, "a", 10],
      ["a", 1, "a", 11],
      ["a", 2, "a", 10],
      ["a", 2, "a", 11],
    ]);
    expect(j("inner").columns.map((c) => c.name)).toEqual(["k", "v", "k1", "w"]);
    expect(j("innerunique").rows).toEqual([
      ["a", 1, "a", 10],
      ["a", 1, "a", 11],
    ]);
    expect(j("leftouter").rows).toEqual([
      ["a", 1, "a", 10],
      ["a", 1, "a", 11],
      ["a", 2, "a", 10],
      ["a", 2, "a", 11],
      ["b", 3, null, null],
    ]);
    expect(j("leftanti").rows).toEqual([["b", 3]]);
    expect(j("rightanti").rows).toEqual([["c", 12]]);
    expect(j("leftsemi").rows).toEqual([
      ["a", 1],
      ["a", 2],
    ]);
    const onLR = run(
      `let L = ${L}; let R = datatable(key:string, w:long)['b',7]; L | join kind=inner (R) on $left.k == $right.key`,
    );
    expect(onLR.rows).toEqual([["b", 3, "b", 7]]);
  });

  it("union, datatable, range, print, mv-expand, dynamic access, arg_max, between", () => {
    expect(run("union (datatable(a:long)[1,2]), (datatable(b:long)[3]) | count").rows).toEqual([[3]]);
    expect(run("union withsource=T SigninLogs, Signins | summarize count() by T | sort by T asc").rows).toEqual([
      ["SigninLogs", 5],
      ["Signins", 5],
    ]);
    expect(run("range x from 1 to 10 step 3").rows).toEqual([[1], [4], [7], [10]]);
    expect(run("print s = strcat('a', 'b'), n = 2 * 3").rows).toEqual([["ab", 6]]);
    expect(run("datatable(d:dynamic)[dynamic([1,2,3]), dynamic([4])] | mv-expand d | summarize sum(d)").rows).toEqual([
      [10],
    ]);
    expect(
      run("print d = dynamic({'a': {'b': [5, 6]}}) | project x = d.a.b[1], y = d['a']['b'][0], n = array_length(d.a.b)")
        .rows,
    ).toEqual([[6, 5, 2]]);
    expect(run("print j = parse_json('{\"k\": 3}') | project v = toint(j.k)").rows).toEqual([[3]]);
    const last = run(
      "SigninLogs | summarize arg_max(TimeGenerated, *) by IPAddress | where IPAddress == '203.0.113.45' | project UserPrincipalName, Score",
    );
    expect(last.rows).toEqual([["adele@contoso.com", 3]]);
    expect(run("SigninLogs | where Score between (3 .. 5) | count").rows).toEqual([[2]]);
  });

  it("make-series fills empty bins with the default and series_outliers flags the spike", () => {
    // 24 hourly bins with a steady 2 events, one hour with 40: that bin, and only that bin, is an outlier.
    const rows: string[] = [];
    for (let hr = 0; hr < 24; hr++)
      for (let i = 0; i < (hr === 17 ? 40 : 2); i++)
        rows.push(`datetime(2026-03-01T${String(hr).padStart(2, "0")}:10:00Z)`);
    const q = `datatable(t:datetime)[${rows.join(",")}] | make-series n = count() default = 0 on t from datetime(2026-03-01) to datetime(2026-03-02) step 1h | extend o = series_outliers(n) | project n, o`;
    const [n, o] = run(q).rows[0] as [number[], number[]];
    expect(n).toHaveLength(24);
    expect(n.reduce((a, b) => a + b, 0)).toBe(23 * 2 + 40);
    expect(o.map((x, i) => (x > 1.5 ? i : -1)).filter((i) => i >= 0)).toEqual([17]);
    const gaps = run(
      "datatable(t:datetime)[datetime(2026-03-01T00:30:00Z)] | make-series n = count() default = 0 on t from datetime(2026-03-01) to datetime(2026-03-01T03:00:00Z) step 1h",
    );
    expect(gaps.rows[0]![0]).toEqual([1, 0, 0]);
  });

  it("unsupported or wrong queries fail with the construct and its position, never a silent answer", () => {
    const err = (q: string) => {
      try {
        run(q);
      } catch (e) {
        return (e as KqlError).info;
      }
      throw new Error("expected an error");
    };
    expect(err("SigninLogs\n| evaluate bag_unpack(Score)")).toMatchObject({ code: "unsupported", line: 2, column: 3 });
    expect(err("SigninLogs | join kind=weird (SigninLogs) on IPAddress").message).toContain("weird");
    expect(err("union * | count").message).toContain("wildcard");
    expect(err("SigninLogs | where Nope == 1")).toMatchObject({ code: "semantic", line: 1, column: 20 });
    expect(err("Missing | take 1").message).toContain('"Missing" does not exist');
    expect(err("SigninLogs | where")).toMatchObject({ code: "syntax" });
    expect(err("SigninLogs | extend x = dark_magic(Score)").message).toContain("dark_magic");
  });
});
