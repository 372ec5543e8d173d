import { describe, expect, it } from "vitest";
import type { KqlTable } from "../../src/kql/types.js";
import { errorOf, H, NOW, run, SIGNINS, source } from "./fixtures.js";

// Constructs the survey of real Sentinel content found (docs/kql-survey.md), each on queries we wrote ourselves.
// Every expected answer was worked out by hand from the fixture rows (SIGNINS in fixtures.ts and AUDIT below).

const AUDIT: KqlTable = {
  name: "AuditLogs",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "OperationName", type: "string" },
    { name: "TargetResources", type: "dynamic" },
  ],
  rows: [
    [
      NOW - 1 * H,
      "Add member to role",
      [
        {
          type: "User",
          userPrincipalName: "adele@contoso.com",
          modifiedProperties: [{ displayName: "Role", newValue: "Admins" }],
        },
        { type: "Group", displayName: "g1" },
      ],
    ],
    [NOW - 2 * H, "Add member to role", [{ type: "Group", displayName: "g2" }]],
  ],
};
const SRC = source([SIGNINS, AUDIT]);
const q = (text: string) => run(text, {}, SRC);

describe("constructs real Sentinel content uses", () => {
  it("legacy aliases: makeset, makelist, parsejson, mvexpand, argmin", () => {
    // IPs by user: adele@ (exact case) has 203.0.113.45 twice → one distinct value.
    expect(
      q("SigninLogs | where UserPrincipalName == 'adele@contoso.com' | summarize makeset(IPAddress)").rows,
    ).toEqual([[["203.0.113.45"]]]);
    expect(q("SigninLogs | where Score > 4 | summarize makelist(Score)").rows).toEqual([[[5, 7]]]);
    expect(q("print x = parsejson('{\"a\":2}').a").rows).toEqual([[2]]);
    expect(q("print d = dynamic([1, 2, 3]) | mvexpand d | count").rows).toEqual([[3]]);
    // argmin(TimeGenerated, *) for diego: his only row, Score null.
    const r = q("SigninLogs | where UserPrincipalName == 'diego@contoso.com' | summarize argmin(TimeGenerated, Score)");
    expect(r.rows).toEqual([[NOW - 30 * H, null]]);
  });

  it("make_set / make_list default names are set_X / list_X, make_bag merges bags as bag_X", () => {
    const r = q("SigninLogs | summarize make_set(ResultType), make_list(Score, 2)");
    expect(r.columns.map((c) => c.name)).toEqual(["set_ResultType", "list_Score"]);
    expect(r.rows).toEqual([
      [
        ["50126", "0"],
        [3, 5],
      ],
    ]);
    expect(q("print b = dynamic({'a': 1}) | summarize make_bag(b)").rows).toEqual([[{ a: 1 }]]);
    expect(q("print b = dynamic({'a': 1}) | summarize make_bag(b)").columns[0]!.name).toBe("bag_b");
  });

  it("count(X) counts non-null values; count() every row", () => {
    // Score is null in one of five rows.
    expect(q("SigninLogs | summarize count(Score), n = count()").rows).toEqual([[4, 5]]);
  });

  it("string compared with a number as Kusto does: ResultType == 0, in (numbers)", () => {
    // ResultType "0" on three rows, "50126" on two.
    expect(q("SigninLogs | where ResultType == 0 | count").rows).toEqual([[3]]);
    expect(q("SigninLogs | where ResultType != 0 | count").rows).toEqual([[2]]);
    expect(q("SigninLogs | where ResultType > 100 | count").rows).toEqual([[2]]);
    expect(q("SigninLogs | where ResultType in (50126, 50053) | count").rows).toEqual([[2]]);
    expect(q("let codes = dynamic([0]); SigninLogs | where ResultType in (codes) | count").rows).toEqual([[3]]);
  });

  it('.[i] and .["key"] accessors on dynamic values', () => {
    expect(
      q("print d = dynamic([{'User Account': 'u1'}]) | project v = tostring(d.[0].[\"User Account\"])").rows,
    ).toEqual([["u1"]]);
    expect(q("print d = dynamic({'a': [10, 20]}) | project v = d.a.[1]").rows).toEqual([[20]]);
  });

  it("let-bound tabular functions with table() inside, union isfuzzy=true skips missing tables", () => {
    const text = `let f = (tableName:string) {
      table(tableName) | where Score > 4 | project UserPrincipalName
    };
    let a = f("SigninLogs");
    let b = f("NoSuchTable");
    union isfuzzy=true a, b | count`;
    // Score > 4: alex (5) and adele (7).
    expect(q(text).rows).toEqual([[2]]);
    expect(() => q("union SigninLogs, NoSuchTable | count")).toThrow(/does not exist/);
    // A function body with its own lets, and a parameter used in a predicate.
    expect(q("let g = (n:long) { let t = SigninLogs; t | where Score >= n | count }; g(5)").rows).toEqual([[2]]);
  });

  it("mv-apply runs a subquery over each row's array", () => {
    const r = q(`AuditLogs
      | mv-apply T = TargetResources on (where T.type =~ "User" | extend Upn = tostring(T.userPrincipalName))
      | project OperationName, Upn`);
    // Only the first audit row has a User target.
    expect(r.rows).toEqual([["Add member to role", "adele@contoso.com"]]);
    const n = q("AuditLogs | mv-apply T = TargetResources on (summarize k = count()) | project k");
    expect(n.rows).toEqual([[2], [1]]);
  });

  it("mv-expand of unnamed paths keeps the column name", () => {
    const r = q(
      'print AuthenticationDetails = \'[{"s":1},{"s":2}]\' | mv-expand todynamic(AuthenticationDetails) | project v = AuthenticationDetails.s',
    );
    expect(r.rows).toEqual([[1], [2]]);
    const p = q("print x = '{\"y\":[7,8]}' | mv-expand parse_json(x).y | project y");
    expect(p.rows).toEqual([[7], [8]]);
  });

  it("in (tabular expression) and toscalar()", () => {
    // Users with some Score > 4: alex, adele (lower case) → their rows: adele×2 + alex×1.
    expect(
      q("SigninLogs | where UserPrincipalName in (SigninLogs | where Score > 4 | project UserPrincipalName) | count")
        .rows,
    ).toEqual([[3]]);
    expect(
      q(
        "let u = SigninLogs | where Score > 4 | project UserPrincipalName; SigninLogs | where UserPrincipalName !in (u) | count",
      ).rows,
    ).toEqual([[2]]);
    expect(q("let n = toscalar(SigninLogs | count); print n").rows).toEqual([[5]]);
  });

  it("make-series without from/to and with in range(); tuple extend with series_fit_line", () => {
    // Rows at NOW-50h, -30h, -3h, -2h, -1h; daily bins: 02-27 (1), 02-28 (1), 03-01 (3).
    const r = q("SigninLogs | make-series n = count() on TimeGenerated step 1d");
    expect(r.rows).toEqual([
      [
        [1, 1, 3],
        [Date.parse("2026-02-27"), Date.parse("2026-02-28"), Date.parse("2026-03-01")],
      ],
    ]);
    const rr = q(
      "SigninLogs | make-series n = count() on TimeGenerated in range(datetime(2026-02-28), datetime(2026-03-02), 1d)",
    );
    expect(rr.rows[0]![0]).toEqual([1, 3]);
    // y = 1, 1, 3 over x = 0, 1, 2: slope 1, intercept 2/3, fit [2/3, 5/3, 8/3], SSres 2/3, SStot 8/3, R² 0.75.
    const f = q(`SigninLogs | make-series n = count() on TimeGenerated step 1d
      | extend (RSquare, Slope, Variance, RVariance, Interception, LineFit) = series_fit_line(n)
      | project RSquare, Slope, Interception, LineFit`);
    const [rsq, slope, icp, fit] = f.rows[0] as [number, number, number, number[]];
    expect(rsq).toBeCloseTo(0.75);
    expect(slope).toBeCloseTo(1);
    expect(icp).toBeCloseTo(2 / 3);
    expect(fit.map((x) => Number(x.toFixed(4)))).toEqual([0.6667, 1.6667, 2.6667]);
    const d = q(`SigninLogs | make-series n = count() on TimeGenerated step 1d
      | extend (flags, score, baseline) = series_decompose_anomalies(n) | project flags`);
    expect(d.rows[0]![0]).toHaveLength(3);
  });

  it("datetime_diff, datetime_part, set_difference, column_ifexists, and typeof(T) as an argument", () => {
    expect(q("print datetime_diff('minute', datetime(2026-03-01 12:10), datetime(2026-03-01 12:00))").rows).toEqual([
      [10],
    ]);
    expect(q("print datetime_diff('day', datetime(2026-03-01), datetime(2026-02-27 23:00))").rows).toEqual([[2]]);
    expect(q("print datetime_part('Hour', datetime(2026-03-01 13:45))").rows).toEqual([[13]]);
    expect(q("print set_difference(dynamic([1, 2, 3, 2]), dynamic([2]))").rows).toEqual([[[1, 3]]]);
    expect(
      q("SigninLogs | take 1 | project v = column_ifexists('Nope', 'd'), w = column_ifexists('Score', 0)").rows,
    ).toEqual([["d", 3]]);
  });

  it("join kind=anti is leftanti; summarize tolerates a comma before by", () => {
    // Users without any Score > 4: diego, Adele@ (case differs) → 2 rows.
    expect(q("SigninLogs | join kind=anti (SigninLogs | where Score > 4) on UserPrincipalName | count").rows).toEqual([
      [2],
    ]);
    expect(q("SigninLogs | summarize n = count(), by ResultType | count").rows).toEqual([[2]]);
  });

  it("refuses what it does not run as unsupported <construct> at line:col", () => {
    for (const text of [
      "SigninLogs | evaluate bag_unpack(x)",
      "search 'x'",
      "let f = (T:(*)) { T | count }; f(SigninLogs)",
      "print ipv4_is_private('10.0.0.1')",
      "print geo_info_from_ip_address('1.1.1.1')",
      "SigninLogs | invoke f()",
      "print extractjson('$.a', '{}', typeof(string))",
    ]) {
      const e = errorOf(text, SRC);
      expect(e.code, text).toBe("unsupported");
      expect(e.line, text).toBeGreaterThan(0);
      expect(e.column, text).toBeGreaterThan(0);
    }
  });
});
