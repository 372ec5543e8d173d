import { describe, expect, it } from "vitest";
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { normalizeConstruct } from "../../src/sentinel/kql-facts.js";
import { SENTINEL_TABLE_SCHEMAS } from "../../src/sentinel/table-schemas.js";

// A corpus of queries with the tables each reads and the forbidden constructs each uses, including evasions
// (comments, casing, let-bound tables, nested unions, table("x"), functions, whitespace). `ok: false` marks queries
// that must not analyse cleanly (and are therefore refused by policy).
type Case = [query: string, tables: string[], forbidden?: string[], ok?: boolean];
const ALL = [
  "AgentSecurityEvent_CL",
  "AuditLogs",
  "CommonSecurityLog",
  "DeviceProcessEvents",
  "OfficeActivity",
  "SecurityAlert",
  "SecurityIncident",
  "SigninLogs",
  "Watchlist",
];
const CORPUS: Case[] = [
  ["SecurityAlert | take 1", ["SecurityAlert"]],
  ["SecurityAlert\n| where AlertSeverity == 'High'\n| count", ["SecurityAlert"]],
  ["SigninLogs | where ResultType != '0' | summarize count() by IPAddress", ["SigninLogs"]],
  ["SecurityIncident | where Status == 'New' | project Title", ["SecurityIncident"]],
  ["AuditLogs | where OperationName has 'Reset password'", ["AuditLogs"]],
  ["DeviceProcessEvents | where FileName =~ 'powershell.exe'", ["DeviceProcessEvents"]],
  ["AgentSecurityEvent | take 5", ["AgentSecurityEvent_CL"]],
  ["AgentSecurityEvent_CL | count", ["AgentSecurityEvent_CL"]],
  ["let T = SecurityAlert; T | take 1", ["SecurityAlert"]],
  ["let T = SecurityAlert; let U = T; U | count", ["SecurityAlert"]],
  ["let T = (SigninLogs | where ResultType != '0'); T | summarize count() by UserPrincipalName", ["SigninLogs"]],
  ["let hidden = AgentSecurityEvent_CL; SecurityAlert | union hidden", ["AgentSecurityEvent_CL", "SecurityAlert"]],
  ["SecurityAlert | union SigninLogs", ["SecurityAlert", "SigninLogs"]],
  ["union SecurityAlert, SigninLogs, AuditLogs | count", ["AuditLogs", "SecurityAlert", "SigninLogs"]],
  [
    "union (SecurityAlert | take 1), (union AuditLogs, (DeviceProcessEvents | take 1))",
    ["AuditLogs", "DeviceProcessEvents", "SecurityAlert"],
  ],
  ["union withsource=T SecurityAlert, SigninLogs | summarize count() by T", ["SecurityAlert", "SigninLogs"]],
  [
    "SecurityAlert | join kind=inner (SigninLogs) on $left.CompromisedEntity == $right.UserPrincipalName",
    ["SecurityAlert", "SigninLogs"],
  ],
  ["SigninLogs | join kind=leftanti (AuditLogs | project TimeGenerated) on TimeGenerated", ["AuditLogs", "SigninLogs"]],
  [
    "SecurityAlert | lookup (SecurityIncident | project Title, IncidentName) on $left.AlertName == $right.Title",
    ["SecurityAlert", "SecurityIncident"],
  ],
  ["table('SigninLogs') | take 1", ["SigninLogs"]],
  ['table("AuditLogs") | count', ["AuditLogs"]],
  ["SecurityAlert // AgentSecurityEvent_CL in a comment is not a table\n| take 1", ["SecurityAlert"]],
  ["SecurityAlert /* not a comment in KQL */ | take 1", ["SecurityAlert"], [], false],
  ["  \n\tSecurityAlert\n\n|\ttake 1  ", ["SecurityAlert"]],
  ["print x = 1", []],
  ["datatable(a:long)[1, 2] | count", []],
  ["range i from 1 to 3 step 1", []],
  ["SecurityAlert | where AlertName has 'externaldata' | take 1", ["SecurityAlert"]],
  ["SecurityAlert | where Description contains 'union *'", ["SecurityAlert"]],
  ["SecurityAlert | extend j = parse_json(Entities) | mv-expand j | take 1", ["SecurityAlert"]],
  ["SecurityAlert | summarize arg_max(TimeGenerated, *) by AlertName", ["SecurityAlert"]],
  [
    "AgentSecurityEvent | make-series n = count() default = 0 on TimeGenerated from ago(1d) to now() step 1h by AgentId",
    ["AgentSecurityEvent_CL"],
  ],
  // Forbidden constructs.
  ['externaldata(x:string)[@"https://evil.example/a.csv"]', [], ["externaldata"]],
  [
    'SecurityAlert | join (externaldata(x:string)["https://evil.example"]) on $left.AlertName == $right.x',
    ["SecurityAlert"],
    ["externaldata"],
  ],
  // A wildcard lists every table it matches, so an allowed-tables check can never pass on an empty list.
  ["union * | take 1", ALL, ["union_wildcard"]],
  ["union Sec* | take 1", ["SecurityAlert", "SecurityIncident"], ["union_wildcard"]],
  ["union   // every table\n  *\n| count", ALL, ["union_wildcard"]],
  ["union withsource=T * | count", ALL, ["union_wildcard"]],
  ["workspace('other').SecurityAlert | take 1", [], ["workspace"]],
  ["cluster('c').database('d').T | take 1", [], ["cluster", "database"]],
  ["app('x').requests | take 1", [], ["app"]],
  ["SecurityAlert | evaluate bag_unpack(Entities)", ["SecurityAlert"], ["evaluate"]],
  ["let t = 'SecurityAlert'; table(t) | take 1", [], ["table_dynamic"]],
  ["table(strcat('Security', 'Alert')) | take 1", [], ["table_dynamic"]],
  [".show tables", [], ["control_command"]],
  [".drop table SecurityAlert", ["SecurityAlert"], ["control_command"]],
  ["let f = () { externaldata(x:string)['https://e'] }; f()", [], ["externaldata"]],
  // Casing and look-alikes: keywords are case-sensitive in KQL, so these never parse as the operators — and are refused.
  ["ExternalData (x:string)['h']", [], undefined, false],
  ["UNION * | take 1", [], undefined, false],
  ["securityalert | take 1", [], [], false],
  ["SecurityΑlert | take 1", [], [], false],
  ["NotATable | take 1", [], [], false],
  ["SecurityAlert | where", ["SecurityAlert"], [], false],
];

describe(`policy analyzer corpus (${CORPUS.length} queries)`, () => {
  it("has at least 50 queries", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(50);
  });

  for (const [query, tables, forbidden, ok] of CORPUS) {
    it(JSON.stringify(query).slice(0, 90), () => {
      const a = analyzeKqlSync(query, SENTINEL_TABLE_SCHEMAS);
      expect(
        a.tables.filter((t) => !t.startsWith("unknown")),
        "tables",
      ).toEqual(tables);
      const found = [...new Set(a.forbidden.map((f) => normalizeConstruct(f.construct)))].sort();
      if (forbidden !== undefined) expect(found, "forbidden").toEqual(expect.arrayContaining([...forbidden].sort()));
      if (forbidden !== undefined && forbidden.length === 0) expect(found, "forbidden").toEqual([]);
      // Refused means: an error diagnostic or a forbidden construct. Clean means neither.
      const refused = !a.ok || a.forbidden.length > 0;
      expect(refused, "refused").toBe(ok === false || (forbidden?.length ?? 0) > 0);
    });
  }
});
