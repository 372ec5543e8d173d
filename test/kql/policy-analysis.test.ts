import { describe, expect, it } from "vitest";
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { normalizeConstruct } from "../../src/sentinel/kql-facts.js";
import { SENTINEL_TABLE_SCHEMAS } from "../../src/sentinel/table-schemas.js";

const analyze = (q: string) => {
  const a = analyzeKqlSync(q, SENTINEL_TABLE_SCHEMAS);
  return { ...a, constructs: a.forbidden.map((f) => normalizeConstruct(f.construct)) };
};

describe("KQL analysis for policy (Microsoft's Kusto language service)", () => {
  it("finds every referenced table through let aliases, joins, unions, table() and stored functions", () => {
    expect(analyze("let T = SecurityAlert; T | take 1").tables).toEqual(["SecurityAlert"]);
    expect(
      analyze(
        "SecurityAlert | join kind=inner (SigninLogs | take 1) on $left.CompromisedEntity == $right.UserPrincipalName",
      ).tables,
    ).toEqual(["SecurityAlert", "SigninLogs"]);
    expect(analyze("union SecurityAlert, AuditLogs | count").tables).toEqual(["AuditLogs", "SecurityAlert"]);
    expect(analyze("table('SigninLogs') | take 1").tables).toEqual(["SigninLogs"]);
    expect(analyze("AgentSecurityEvent | take 1").tables).toEqual(["AgentSecurityEvent_CL"]);
    expect(analyze("let a = (SecurityAlert | where AlertSeverity == 'High'); let b = a; b | count").tables).toEqual([
      "SecurityAlert",
    ]);
  });

  it("reports forbidden constructs by syntax, whatever the casing, comments or whitespace", () => {
    expect(analyze('externaldata(x:string)[@"https://evil.example/x.csv"]').constructs).toContain("externaldata");
    expect(analyze("union * | take 1").constructs).toContain("union_wildcard");
    expect(analyze("union Sec* | take 1").constructs).toContain("union_wildcard");
    expect(analyze("union   // all of them\n  *\n| take 1").constructs).toContain("union_wildcard");
    expect(analyze("SecurityAlert | evaluate bag_unpack(Entities)").constructs).toContain("evaluate");
    expect(analyze("workspace('other').SecurityAlert | take 1").constructs).toContain("workspace");
    expect(analyze("cluster('x').database('y').T").constructs).toEqual(expect.arrayContaining(["cluster", "database"]));
    expect(analyze("app('x').requests").constructs).toContain("app");
    expect(analyze("let t = 'SecurityAlert'; table(t)").constructs).toContain("table_dynamic");
    expect(analyze(".show tables").constructs).toContain("control_command");
  });

  it("does not accept what it cannot resolve: unknown tables, look-alike names, miscased keywords", () => {
    // "SecurityΑlert" with a Greek capital alpha is a different identifier: unknown, so not ok.
    const lookalike = analyze("SecurityΑlert | take 1");
    expect(lookalike.ok).toBe(false);
    expect(lookalike.tables).toEqual([]);
    expect(analyze("NotATable | take 1").ok).toBe(false);
    // KQL keywords are case-sensitive: these do not parse as the operators, so they are errors, not bypasses.
    expect(analyze("ExternalData (x:string)['h']").ok).toBe(false);
    expect(analyze("Union *").ok).toBe(false);
    expect(analyze("SecurityAlert | where").ok).toBe(false);
  });

  it("clean queries are ok with no forbidden constructs", () => {
    const a = analyze("SecurityAlert | where TimeGenerated > ago(1d) | summarize count() by AlertSeverity");
    expect(a).toMatchObject({ ok: true, tables: ["SecurityAlert"], forbidden: [], hasTimeFilter: true });
  });
});
