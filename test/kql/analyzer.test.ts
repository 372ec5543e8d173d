import { beforeAll, describe, expect, it } from "vitest";
import { analyzeKql, type KqlSchema, preloadKqlAnalyzer } from "../../src/kql/index.js";

// The policy analyzer on Microsoft's Kusto language service: loaded once for this file.

const cols = [
  { name: "TimeGenerated", type: "datetime" as const },
  { name: "Name", type: "string" as const },
  { name: "Entities", type: "dynamic" as const },
];
const SCHEMA: KqlSchema = {
  tables: [
    { name: "SecurityAlert", columns: cols },
    { name: "SigninLogs", columns: [...cols, { name: "UserPrincipalName", type: "string" }] },
    { name: "AuditLogs", columns: cols },
    { name: "AgentSecurityEvent_CL", columns: cols },
  ],
  functions: [
    { name: "AgentSecurityEvent", body: "AgentSecurityEvent_CL | project TimeGenerated, Name" },
    { name: "Inner", body: "AuditLogs | where Name != ''" },
    { name: "Outer", body: "Inner | union SigninLogs" },
    { name: "Sneaky", body: "externaldata(Name:string)['https://evil.example/x.csv']" },
  ],
};
const analyze = (q: string) => analyzeKql(q, SCHEMA);
const constructs = async (q: string) => (await analyze(q)).forbidden.map((f) => f.construct);

beforeAll(() => preloadKqlAnalyzer());

describe("referenced tables", () => {
  it("resolves let aliases (also chained), subqueries, joins, unions, lookup and table('X')", async () => {
    expect((await analyze("let T = SecurityAlert; T | take 1")).tables).toEqual(["SecurityAlert"]);
    expect((await analyze("let a = (SecurityAlert | where Name == 'x'); let b = a; b | count")).tables).toEqual([
      "SecurityAlert",
    ]);
    expect(
      (
        await analyze(
          "SecurityAlert | join kind=leftouter (SigninLogs | take 1) on $left.Name == $right.UserPrincipalName",
        )
      ).tables,
    ).toEqual(["SecurityAlert", "SigninLogs"]);
    expect((await analyze("union SecurityAlert, (AuditLogs | take 1) | count")).tables).toEqual([
      "AuditLogs",
      "SecurityAlert",
    ]);
    expect((await analyze("SecurityAlert | lookup (AuditLogs | project Name, X = 1) on Name")).tables).toEqual([
      "AuditLogs",
      "SecurityAlert",
    ]);
    expect((await analyze("table('SigninLogs') | take 1")).tables).toEqual(["SigninLogs"]);
    expect((await analyze("print 1")).tables).toEqual([]);
  });

  it("resolves stored functions into the tables their bodies read, recursively", async () => {
    const a = await analyze("AgentSecurityEvent | take 1");
    expect(a.tables).toEqual(["AgentSecurityEvent_CL"]);
    expect(a.functions).toContain("AgentSecurityEvent");
    expect((await analyze("Outer | count")).tables).toEqual(["AuditLogs", "SigninLogs"]);
    // A forbidden construct inside a function body is still reported for the caller.
    expect(await constructs("Sneaky | take 1")).toContain("externaldata");
  });

  it("lists operators and whether a where clause filters on TimeGenerated", async () => {
    const a = await analyze(
      "SecurityAlert | where TimeGenerated > ago(1d) | summarize count() by Name | join (AuditLogs) on Name | project Name",
    );
    expect(a).toMatchObject({ ok: true, forbidden: [], hasTimeFilter: true });
    expect(a.operators).toEqual(["join", "project", "summarize", "where"]);
    expect((await analyze("SecurityAlert | project TimeGenerated")).hasTimeFilter).toBe(false);
    expect(
      (await analyze("let t = SecurityAlert; t | where TimeGenerated between (ago(2d) .. now())")).hasTimeFilter,
    ).toBe(true);
  });
});

describe("forbidden constructs", () => {
  it.each([
    ["externaldata(x:string)['https://evil.example/x.csv']", "externaldata"],
    ["external_table('x') | take 1", "external_table"],
    ["workspace('other').SecurityAlert | take 1", "workspace"],
    ["app('x').requests", "app"],
    ["cluster('x').database('y').T", "cluster"],
    ["cluster('x').database('y').T", "database"],
    ["database('y').T", "database"],
    ["resource('/subscriptions/x/resourceGroups/y').SecurityAlert", "resource"],
    ["adx('https://help.kusto.windows.net/Samples').StormEvents", "adx"],
    ["union * | take 1", "union_wildcard"],
    ["union Sec* | take 1", "union_wildcard"],
    ["SecurityAlert | evaluate bag_unpack(Entities)", "evaluate"],
    ["print 1 | evaluate narrow()", "evaluate"],
    ["let t = 'SecurityAlert'; table(t)", "table_dynamic"],
    ["table(strcat('Security', 'Alert'))", "table_dynamic"],
    [".show tables", "control_command"],
    ["   .drop table SecurityAlert", "control_command"],
    ["// looks harmless\n.set-or-append SecurityAlert <| print 1", "control_command"],
    ["search 'x'", "search"],
    ["find 'x'", "find"],
  ])("%s → %s", async (q, construct) => {
    expect(await constructs(q)).toContain(construct);
  });

  it("reports a forbidden construct with its line and column", async () => {
    const a = await analyze("SecurityAlert\n| where Name != ''\n| evaluate bag_unpack(Entities)");
    expect(a.forbidden).toContainEqual({ construct: "evaluate", line: 3, column: 3 });
  });

  it("a wildcard lists every matching table, so an allowed-tables check cannot pass vacuously", async () => {
    expect((await analyze("union Sec* | take 1")).tables).toEqual(["SecurityAlert"]);
    expect((await analyze("union * | take 1")).tables).toEqual([
      "AgentSecurityEvent_CL",
      "AuditLogs",
      "SecurityAlert",
      "SigninLogs",
    ]);
  });
});

describe("bypass attempts", () => {
  it("comments and whitespace/newlines do not hide constructs", async () => {
    expect(await constructs("union   // all of them\n  *\n| take 1")).toContain("union_wildcard");
    expect(await constructs("SecurityAlert\n|\n\tevaluate\n\n  bag_unpack(Entities)")).toContain("evaluate");
    expect(await constructs("workspace ( 'other' ) . SecurityAlert")).toContain("workspace");
    // Text inside strings and comments is not a construct.
    const benign = await analyze(
      "SecurityAlert // externaldata workspace('x') union *\n| where Name == \"evaluate externaldata\"",
    );
    expect(benign).toMatchObject({ ok: true, forbidden: [], tables: ["SecurityAlert"] });
  });

  it("mixed casing is an error and still reported as the construct", async () => {
    for (const [q, c] of [
      ["ExternalData (x:string)['h']", "externaldata"],
      ["EXTERNALDATA(x:string)['h']", "externaldata"],
      ["Union *", "union_wildcard"],
      ["UNION * | take 1", "union_wildcard"],
      ["SecurityAlert | Evaluate bag_unpack(Entities)", "evaluate"],
      ["WorkSpace('x').SecurityAlert", "workspace"],
      ["Cluster('x').database('y').T", "cluster"],
    ]) {
      const a = await analyze(q!);
      expect(a.ok, q).toBe(false);
      expect(
        a.forbidden.map((f) => f.construct),
        q,
      ).toContain(c);
    }
  });

  it("unknown names and Unicode look-alikes are unknown tables, never allowed ones", async () => {
    for (const q of [
      "NotATable | take 1",
      "SecurityΑlert | take 1", // Greek capital alpha
      "ЅecurityAlert | take 1", // Cyrillic dze
      "['SecurityΑlert'] | take 1",
      "Security\u200BAlert | take 1", // zero-width space
      "table('SecurityΑlert')",
      "union SecurityAlert, Nope",
      "SecurityAlert | join (Nope) on Name",
      "let T = Nope; T | take 1",
    ]) {
      const a = await analyze(q);
      expect(a.ok, q).toBe(false);
      expect(
        a.tables.every((t) => SCHEMA.tables.some((s) => s.name === t)),
        q,
      ).toBe(true);
      expect(a.tables, q).not.toContain("SecurityΑlert");
    }
    const unknown = await analyze("NotATable | take 1");
    expect(unknown.tables).toEqual([]);
    expect(unknown.diagnostics).toContainEqual(expect.objectContaining({ code: "unknown_table", line: 1, column: 1 }));
    const bracketed = await analyze("['SecurityΑlert'] | take 1");
    expect(bracketed.diagnostics.some((d) => d.code === "unknown_table")).toBe(true);
  });

  it("syntax errors make the analysis not ok, with positions", async () => {
    const a = await analyze("SecurityAlert | where");
    expect(a.ok).toBe(false);
    expect(a.diagnostics[0]).toMatchObject({ severity: "Error", line: 1 });
  });
});
