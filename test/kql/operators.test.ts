import { describe, expect, it } from "vitest";
import { H, NOW, names, rows, run } from "./fixtures.js";

// Expected values are worked out by hand from the fixture rows in fixtures.ts.

const L = "datatable(k:string, v:long)['a',1,'a',2,'b',3]";
const R = "datatable(k:string, w:long)['a',10,'a',11,'c',12]";
const sortRows = (r: unknown[][]) => r.map((x) => JSON.stringify(x)).sort();

describe("sort / top / take / distinct / count", () => {
  it("sorts with Kusto's null placement and honours explicit nulls first|last", () => {
    const scores = (q: string) => rows(`SigninLogs | ${q} | project Score`).map((r) => r[0]);
    expect(scores("sort by Score asc")).toEqual([null, 1, 3, 5, 7]);
    expect(scores("sort by Score asc nulls last")).toEqual([1, 3, 5, 7, null]);
    expect(scores("sort by Score")).toEqual([7, 5, 3, 1, null]); // desc by default
    expect(scores("order by Score desc nulls first")).toEqual([null, 7, 5, 3, 1]);
  });

  it("sorts by several keys and top takes the first n of that order", () => {
    const expected = [
      ["0", 7],
      ["0", 1],
      ["0", null],
      ["50126", 5],
      ["50126", 3],
    ];
    expect(rows("SigninLogs | sort by ResultType asc, Score desc | project ResultType, Score")).toEqual(expected);
    expect(rows("SigninLogs | top 2 by ResultType asc, Score desc | project ResultType, Score")).toEqual(
      expected.slice(0, 2),
    );
    expect(rows("SigninLogs | top 0 by Score")).toEqual([]);
  });

  it("take/limit, count, distinct, distinct *", () => {
    expect(rows("SigninLogs | limit 3")).toHaveLength(3);
    expect(rows("SigninLogs | count")).toEqual([[5]]);
    expect(names("SigninLogs | count")).toEqual(["Count"]);
    expect(rows("SigninLogs | distinct ResultType | sort by ResultType asc")).toEqual([["0"], ["50126"]]);
    expect(rows("datatable(a:long, b:string)[1,'x',1,'x',2,'x'] | distinct *")).toEqual([
      [1, "x"],
      [2, "x"],
    ]);
    expect(rows("SigninLogs | count | render timechart")).toEqual([[5]]);
  });
});

describe("project / extend / project-away / project-rename", () => {
  it("names outputs as Kusto does", () => {
    expect(
      names("SigninLogs | project UserPrincipalName, s2 = Score * 2, tolower(IPAddress), tostring(Score)"),
    ).toEqual(["UserPrincipalName", "s2", "Column1", "Score"]);
    expect(names("SigninLogs | project-rename U = UserPrincipalName, R = ResultType")).toEqual([
      "TimeGenerated",
      "U",
      "IPAddress",
      "R",
      "Score",
    ]);
    expect(names("print d = dynamic({'a': {'b': 1}}) | project d.a.b")).toEqual(["d_a_b"]);
  });

  it("extend sees earlier items and can overwrite a column", () => {
    expect(rows("SigninLogs | extend a = Score + 1, b = a * 2 | project a, b | take 1")).toEqual([[4, 8]]);
    expect(rows("SigninLogs | extend Score = Score * 10 | project Score | take 2")).toEqual([[30], [50]]);
    expect(names("SigninLogs | extend Score * 2 | project-away TimeGenerated, IPAddress")).toEqual([
      "UserPrincipalName",
      "ResultType",
      "Score",
      "Column1",
    ]);
  });
});

describe("summarize", () => {
  it("aggregates per group with Kusto's default column names", () => {
    const r = run(
      "SigninLogs | summarize countif(Score > 4), dcountif(UserPrincipalName, Score > 2), min(Score), make_set(IPAddress), make_list(Score), avg(Score), sumif(Score, Score > 3) by ResultType | sort by ResultType asc",
    );
    expect(r.columns.map((c) => c.name)).toEqual([
      "ResultType",
      "countif_",
      "dcountif_UserPrincipalName",
      "min_Score",
      "set_IPAddress",
      "list_Score",
      "avg_Score",
      "sumif_Score",
    ]);
    expect(r.rows).toEqual([
      ["0", 1, 1, 1, ["203.0.113.45", "10.0.0.4", "10.0.0.5"], [7, 1], 4, 7],
      ["50126", 1, 2, 3, ["203.0.113.45"], [3, 5], 4, 5],
    ]);
  });

  it("arg_min / arg_max, take_any, percentile, duplicate names", () => {
    expect(
      rows("SigninLogs | summarize arg_min(Score, UserPrincipalName) by ResultType | sort by ResultType asc"),
    ).toEqual([
      ["0", 1, "Adele@Contoso.com"],
      ["50126", 3, "adele@contoso.com"],
    ]);
    expect(names("SigninLogs | summarize arg_max(Score, UserPrincipalName) by ResultType")).toEqual([
      "ResultType",
      "Score",
      "UserPrincipalName",
    ]);
    // Scores 3, 5, 7, 1 → sorted 1, 3, 5, 7; nearest rank of the 50th percentile is the 2nd value.
    expect(run("SigninLogs | summarize percentile(Score, 50)").rows).toEqual([[3]]);
    expect(names("SigninLogs | summarize percentile(Score, 50)")).toEqual(["percentile_Score_50"]);
    expect(names("SigninLogs | summarize count(), count()")).toEqual(["count_", "count_1"]);
    expect(rows("SigninLogs | where ResultType == '50126' | summarize take_any(ResultType)")).toEqual([["50126"]]);
  });

  it("groups by several keys and by bin() of a datetime", () => {
    const r = rows("SigninLogs | summarize c = count() by ResultType, bin(TimeGenerated, 1d) | sort by c desc");
    // Day 2026-03-01: r0, r1 (50126) and r2 (0); 2026-02-28: r3 (0); 2026-02-27: r4 (0).
    expect(r[0]).toEqual(["50126", Date.parse("2026-03-01T00:00:00Z"), 2]);
    expect(r).toHaveLength(4);
  });
});

describe("join", () => {
  const j = (kind: string) => rows(`let L = ${L}; let R = ${R}; L | join kind=${kind} (R) on k`);

  it("rightouter and fullouter keep unmatched rows with nulls", () => {
    expect(sortRows(j("rightouter"))).toEqual(
      sortRows([
        ["a", 1, "a", 10],
        ["a", 1, "a", 11],
        ["a", 2, "a", 10],
        ["a", 2, "a", 11],
        [null, null, "c", 12],
      ]),
    );
    expect(sortRows(j("fullouter"))).toEqual(
      sortRows([
        ["a", 1, "a", 10],
        ["a", 1, "a", 11],
        ["a", 2, "a", 10],
        ["a", 2, "a", 11],
        ["b", 3, null, null],
        [null, null, "c", 12],
      ]),
    );
  });

  it("suffixes clashing columns and matches keys case-sensitively", () => {
    const q = (kind: string) =>
      run(`SigninLogs | join kind=${kind} (SecurityAlert) on $left.UserPrincipalName == $right.CompromisedEntity`);
    expect(q("inner").columns.map((c) => c.name)).toEqual([
      "TimeGenerated",
      "UserPrincipalName",
      "IPAddress",
      "ResultType",
      "Score",
      "TimeGenerated1",
      "AlertName",
      "CompromisedEntity",
      "Entities",
    ]);
    // adele (r0, r2) → 2, alex → 1, diego → 1; "Adele@Contoso.com" does not equal "adele@contoso.com".
    expect(q("inner").rows).toHaveLength(4);
    expect(q("innerunique").rows).toHaveLength(3); // the second adele row is dropped before joining
    expect(
      rows("SigninLogs | join SecurityAlert on $left.UserPrincipalName == $right.CompromisedEntity | count"),
    ).toEqual([[3]]);
  });
});

describe("union / let / stored functions / sources", () => {
  it("union splits a column with two types and names sources", () => {
    const r = run("union (datatable(x:long)[1]), (datatable(x:string)['a'])");
    expect(r.columns).toEqual([
      { name: "x_long", type: "long" },
      { name: "x_string", type: "string" },
    ]);
    expect(r.rows).toEqual([
      [1, null],
      [null, "a"],
    ]);
    expect(
      rows("union withsource=S SigninLogs, (SecurityAlert | take 1) | summarize count() by S | sort by S asc"),
    ).toEqual([
      ["SigninLogs", 5],
      ["union_arg1", 1],
    ]);
    expect(rows("SigninLogs | union SecurityAlert | count")).toEqual([[8]]);
  });

  it("the timespan bounds every scan: lets, unions, joins and stored functions", () => {
    const span = { timespan: { start: NOW - 24 * H, end: NOW + 1 } };
    // In the last 24 h: 3 sign-ins (r0..r2) and 2 alerts.
    expect(rows("let x = SigninLogs; union x, Signins, (SecurityAlert) | count", span)).toEqual([[8]]);
    expect(rows("FailedSignins | count", span)).toEqual([[2]]);
    expect(
      rows(
        "SigninLogs | join kind=leftanti (SecurityAlert) on $left.UserPrincipalName == $right.CompromisedEntity",
        span,
      ),
    ).toEqual([]);
    // The end is exclusive: a window ending exactly at r0's time excludes r0.
    expect(rows("SigninLogs | count", { timespan: { start: NOW - 2 * H, end: NOW - 1 * H } })).toEqual([[1]]);
  });

  it("resolves stored functions (also nested, also called with ()), table('X') and let aliases", () => {
    expect(rows("Nested")).toEqual([["adele@contoso.com"], ["alex@contoso.com"]]);
    expect(rows("Signins() | count")).toEqual([[5]]);
    expect(rows("table('SigninLogs') | count")).toEqual([[5]]);
    expect(rows("let sig = Signins; sig | count")).toEqual([[5]]);
    expect(rows("let lim = 2; let t = SigninLogs | take lim; t | count")).toEqual([[2]]);
  });

  it("datatable, range, print", () => {
    expect(rows("range t from datetime(2026-03-01) to datetime(2026-03-01T02:00:00Z) step 1h | count")).toEqual([[3]]);
    expect(run("print 1 + 2").columns).toEqual([{ name: "print_0", type: "long" }]);
    expect(rows("print 1 + 2")).toEqual([[3]]);
    expect(rows("datatable(a:string, b:bool)['x', true, 'y', false] | where b")).toEqual([["x", true]]);
  });
});

describe("mv-expand", () => {
  it("expands arrays, drops empty arrays, keeps null, expands bags to single-entry bags", () => {
    // Alert 0 has one entity, alert 1 an empty array (no row), alert 2 null (one row with null).
    expect(rows("SecurityAlert | mv-expand Entities | project AlertName, Entities")).toEqual([
      ["Impossible travel", { Type: "ip", Address: "203.0.113.45" }],
      ["Mass download", null],
    ]);
    expect(rows("print d = dynamic({'a': 1, 'b': 2}) | mv-expand d")).toEqual([[{ a: 1 }], [{ b: 2 }]]);
  });

  it("expands several columns in parallel, with names, limits and typeof casts", () => {
    expect(rows("print a = dynamic([1,2,3]), b = dynamic(['x']) | mv-expand a, b")).toEqual([
      [1, "x"],
      [2, null],
      [3, null],
    ]);
    expect(rows("print a = dynamic([1,2,3]) | mv-expand a limit 2")).toEqual([[1], [2]]);
    const typed = run("print a = dynamic([1,'two']) | mv-expand v = a to typeof(long) | project v");
    expect(typed.columns).toEqual([{ name: "v", type: "long" }]);
    expect(typed.rows).toEqual([[1], [null]]);
  });
});

describe("make-series", () => {
  it("bins by key with the default filling empty bins", () => {
    const q =
      "SigninLogs | make-series c = count() default = 0, s = sum(Score) default = -1 on TimeGenerated from datetime(2026-03-01T08:00:00Z) to datetime(2026-03-01T12:00:00Z) step 1h by ResultType | sort by ResultType asc";
    const r = run(q);
    expect(r.columns.map((c) => c.name)).toEqual(["ResultType", "c", "s", "TimeGenerated"]);
    // Bins 08, 09, 10, 11: r2 (0) at 09:00, r1 (50126) at 10:00, r0 (50126) at 11:00.
    expect(r.rows.map((x) => x.slice(0, 3))).toEqual([
      ["0", [0, 1, 0, 0], [-1, 7, -1, -1]],
      ["50126", [0, 0, 1, 1], [-1, -1, 5, 3]],
    ]);
    expect(r.rows[0]![3]).toEqual([8, 9, 10, 11].map((h) => Date.UTC(2026, 2, 1, h)));
  });
});

describe("lookup / project-keep / project-reorder / parse", () => {
  it("lookup is a leftouter join (inner on request) without the right key columns", () => {
    const q = `let L = ${L}; let R = datatable(k:string, w:long)['a',10,'c',12]; L | lookup`;
    expect(run(`${q} (R) on k`).columns.map((c) => c.name)).toEqual(["k", "v", "w"]);
    expect(rows(`${q} (R) on k`)).toEqual([
      ["a", 1, 10],
      ["a", 2, 10],
      ["b", 3, null],
    ]);
    expect(rows(`${q} kind=inner (R) on k`)).toEqual([
      ["a", 1, 10],
      ["a", 2, 10],
    ]);
  });

  it("project-keep keeps input order; project-reorder moves the named columns first", () => {
    expect(names("SigninLogs | project-keep Score, *Name")).toEqual(["UserPrincipalName", "Score"]);
    expect(names("SigninLogs | project-reorder Score, IPAddress")).toEqual([
      "Score",
      "IPAddress",
      "TimeGenerated",
      "UserPrincipalName",
      "ResultType",
    ]);
  });

  it("parse extracts typed columns; a row that does not match gets empty values", () => {
    const q =
      "datatable(m:string)['user=adele id=42 ok', 'garbage'] | parse m with 'user=' User ' id=' Id:long ' ' Rest | project User, Id, Rest";
    const r = run(q);
    expect(r.columns).toEqual([
      { name: "User", type: "string" },
      { name: "Id", type: "long" },
      { name: "Rest", type: "string" },
    ]);
    expect(r.rows).toEqual([
      ["adele", 42, "ok"],
      ["", null, ""],
    ]);
    expect(rows("SigninLogs | parse UserPrincipalName with Name '@' * | distinct Name | sort by Name asc")).toEqual([
      ["Adele"],
      ["adele"],
      ["alex"],
      ["diego"],
    ]);
  });
});
