import { describe, expect, it } from "vitest";
import { analyzeKqlSync, type KqlSchema } from "../../src/kql/analyzer.js";

// Lineage on the analyzer alone, for constructs the local engine does not run (so the end-to-end property test in
// lineage-property.test.ts cannot reach them): what is masked, what stays readable, what is refused.

const SCHEMA: KqlSchema = {
  tables: [
    {
      name: "SigninLogs",
      columns: [
        { name: "TimeGenerated", type: "datetime" },
        { name: "UserPrincipalName", type: "string" },
        { name: "IPAddress", type: "string" },
        { name: "Props", type: "dynamic" },
      ],
    },
    {
      name: "SecurityAlert",
      columns: [
        { name: "TimeGenerated", type: "datetime" },
        { name: "AlertName", type: "string" },
      ],
    },
  ],
  functions: [{ name: "SigninView", body: "SigninLogs | project Who = UserPrincipalName, IPAddress" }],
};
const lineage = (q: string) => {
  const a = analyzeKqlSync(q, SCHEMA, { redactedColumns: ["SigninLogs.UserPrincipalName"] });
  return { ok: a.ok, ...a.lineage! };
};

describe("column lineage (analyzer)", () => {
  it.each([
    ["print x = toscalar(SigninLogs | summarize any(UserPrincipalName))", ["x"]],
    [
      "let s = toscalar(SigninLogs | project UserPrincipalName | take 1); SecurityAlert | extend z = strcat(AlertName, s)",
      ["z"],
    ],
    ["let T = materialize(SigninLogs | project a = UserPrincipalName); T | project b = a", ["b"]],
    ["SigninLogs | as X | project Y = toscalar(X | project UserPrincipalName | take 1)", ["Y"]],
    ["SigninLogs | mv-apply c = split(UserPrincipalName, '') on (summarize m = make_list(c)) | project m", ["m"]],
    ["SigninLogs | extend p = bag_pack_columns(UserPrincipalName) | project p", ["p"]],
    ["SigninLogs | extend x = column_ifexists('UserPrincipalName', '') | project x", ["x"]],
    ["SigninLogs | extend p = pack_all() | project p, IPAddress", ["p"]],
    ["SigninLogs | summarize take_any(*) by IPAddress", ["UserPrincipalName"]],
    ["SecurityAlert | join (SigninLogs) on TimeGenerated", ["UserPrincipalName"]],
    ["SigninView | project Who, IPAddress", ["Who"]],
    ["SigninLogs | scan declare (u:string = '') with (step s: true => u = UserPrincipalName;) | project u", ["u"]],
    // Function bodies are bound against their declared parameters; what they build from a tainted argument is masked.
    ["let g = (T:(*)) { T | extend p = pack_all() }; g(SigninLogs) | project p", ["p"]],
    ["let g = (T:(IPAddress:string)) { T | summarize m = make_bag(pack_all()) }; g(SigninLogs)", ["m"]],
    ["let g = (T:(*)) { T | extend p = tostring(pack_all()) }; SigninLogs | invoke g() | project p", ["p"]],
    [
      "let g = (s:string) { strcat(s, '') }; SigninLogs | extend x = g(UserPrincipalName), y = g(IPAddress) | project x, y",
      ["x"],
    ],
  ])("%s masks %j", (q, masked) => {
    const l = lineage(q);
    expect(l.ok, q).toBe(true);
    expect(l.unknown).toBeUndefined();
    expect(l.masked).toEqual(masked);
  });

  it("follows a long pipeline to its end in one analysis", () => {
    let q = "SigninLogs | extend a0 = UserPrincipalName";
    for (let i = 1; i < 200; i++) q += ` | extend a${i} = a${i - 1}`;
    const l = lineage(`${q} | project a199, IPAddress`);
    expect(l.unknown).toBeUndefined();
    expect(l.masked).toEqual(["a199"]);
  });

  it("columns that do not derive from a redacted column stay readable", () => {
    expect(lineage("SigninLogs | project IPAddress, Hour = bin(TimeGenerated, 1h)").masked).toEqual([]);
    expect(lineage("SigninLogs | summarize n = count() by IPAddress").masked).toEqual([]);
    expect(lineage("let f = () { SigninLogs | project IPAddress }; f()").masked).toEqual([]);
    expect(lineage("SigninLogs | project IPAddress | extend p = pack_all()").masked).toEqual([]);
  });

  it("records predicates on redacted data, which leak one bit per row", () => {
    expect(lineage("SigninLogs | where UserPrincipalName startswith 'a' | project IPAddress").predicates).toEqual([
      "where:UserPrincipalName",
    ]);
    expect(
      lineage("SigninLogs | project U = UserPrincipalName, IPAddress | sort by U | project IPAddress").predicates,
    ).toEqual(["sort:U"]);
  });

  it("refuses where the output's names come from the data", () => {
    for (const q of [
      "SigninLogs | evaluate bag_unpack(Props)",
      "SigninLogs | extend x = column_ifexists(strcat('User', 'PrincipalName'), '') | project x",
    ])
      expect(lineage(q).unknown, q).toBeDefined();
  });

  it("applies only when a redacted column's table is read", () => {
    const a = analyzeKqlSync("SecurityAlert | project AlertName", SCHEMA, {
      redactedColumns: ["SigninLogs.UserPrincipalName"],
    });
    expect(a.lineage).toBeUndefined();
    const star = analyzeKqlSync("SigninLogs | project IPAddress", SCHEMA, { redactedColumns: ["*.IPAddress"] });
    expect(star.lineage?.masked).toEqual(["IPAddress"]);
  });
});
