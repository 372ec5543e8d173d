import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { previewForApproval } from "../../src/console/rule-preview.js";
import { Redactor } from "../../src/governance/redact.js";
import type { KqlValue } from "../../src/kql/types.js";
import { createKqlFactsAnalyzer, type KqlFactsAnalyzer } from "../../src/sentinel/kql-facts.js";
import type { RulePreviewRule } from "../../src/sentinel/rule-preview.js";
import { openStateDb } from "../../src/state/db.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { LOG_TABLES } from "../../src/workspace/schemas.js";
import { WorkspaceStore } from "../../src/workspace/store.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { examplePolicy } from "../helpers/policy.js";

const M = 60_000;
const H = 60 * M;
const END = Date.parse("2026-03-01T12:00:00Z");
const USER = "approver-preview@contoso.com";

/** A policy under which an agent may propose rules (behind approval) over SigninLogs only, users redacted. */
function rulePolicy(): WorkPolicyContract {
  const base = examplePolicy("containment-with-approvals");
  return {
    ...base,
    policy_name: "rules-with-approvals",
    allow: [{ tool: "sentinel.api", ops: ["kql.query", "analyticsRules.create", "analyticsRules.update"] }],
    deny: [],
    approvals: [{ name: "rule-approval", required_for: ["analyticsRules.create"], mode: "explicit" }],
    constraints: {
      "*": { max_rows: 50 },
      "analyticsRules.create": {
        kql: { allowed_tables: ["SigninLogs"], forbidden: [], max_query_seconds: 4 },
      },
    },
    redaction: { builtin: ["ipv4"], columns: ["SigninLogs.UserPrincipalName"] },
    budgets: { max_calls: 1, max_rows: 1 },
  } as WorkPolicyContract;
}

const rule = (query: string, over: Partial<RulePreviewRule> = {}): RulePreviewRule => ({
  query,
  queryFrequency: "PT1H",
  queryPeriod: "PT1H",
  triggerOperator: "GreaterThan",
  triggerThreshold: 2,
  ...over,
});

/** Row counts of every table in the state store: the preview must leave them as they were. */
function stateCounts(h: TestHome): Record<string, number> {
  const db = openStateDb(h.paths.stateDb);
  try {
    const names = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    return Object.fromEntries(
      names.map((n) => [n, (db.prepare(`SELECT count(*) AS c FROM "${n}"`).get() as { c: number }).c]),
    );
  } finally {
    db.close();
  }
}

let h: TestHome;
let analyzeKql: KqlFactsAnalyzer;

beforeAll(async () => {
  h = await makeHome();
  analyzeKql = createKqlFactsAnalyzer(async () => {
    throw new Error("the analysis needs no backend");
  });
  // Three failed sign-ins in the hour before END-3h, from one address.
  const store = new WorkspaceStore(join(h.paths.workspace, "workspace.db"));
  const row = (offset: number): KqlValue[] => {
    const v: Record<string, KqlValue> = {
      TimeGenerated: END - offset,
      UserPrincipalName: USER,
      IPAddress: "198.51.100.7",
      ResultType: "50126",
    };
    return LOG_TABLES.SigninLogs!.map((c) => v[c.name] ?? null);
  };
  store.appendLogs("SigninLogs", [row(3 * H + 50 * M), row(3 * H + 20 * M), row(3 * H + 5 * M)]);
  store.close();
}, 120_000);

afterAll(async () => {
  await analyzeKql?.close();
});

describe("previewForApproval", () => {
  const failures = `SigninLogs | where ResultType == "50126" and IPAddress == "198.51.100.7" | project TimeGenerated, UserPrincipalName, IPAddress`;

  it("replays the rule under the job's policy: lineage-masked columns, redacted values, the policy's time limit", async () => {
    const before = stateCounts(h);
    const r = await previewForApproval({
      policy: rulePolicy(),
      rule: rule(failures),
      target: h.paths.workspace,
      now: END,
      analyzeKql,
    });
    expect(r).toMatchObject({
      ok: true,
      method: "engine-slide",
      runs: 168,
      fired: 1,
      firings: [{ runTime: new Date(END - 3 * H).toISOString(), count: 3 }],
      redactedColumns: ["UserPrincipalName"],
      timeLimitSeconds: 4,
      frequency: "PT1H",
      period: "PT1H",
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.sample?.columns.map((c) => c.name)).toEqual(["TimeGenerated", "UserPrincipalName", "IPAddress"]);
    expect(r.sample?.rows).toHaveLength(3);
    for (const row of r.sample!.rows) {
      expect(row[1]).toBe("«redacted:column»");
      expect(row[2]).toBe("«redacted:ipv4»");
    }
    expect(JSON.stringify(r)).not.toContain(USER);
    expect(JSON.stringify(r)).not.toContain("198.51.100.7");
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    // Neither charged to the job nor in its trail: the state store is untouched (a budget of 1 call is not spent).
    expect(stateCounts(h)).toEqual(before);
  }, 60_000);

  it("uses the redactor it is given (the server's)", async () => {
    const r = await previewForApproval({
      policy: { wpc: rulePolicy() },
      rule: rule(`SigninLogs | where IPAddress == "198.51.100.7" | project TimeGenerated, ResultType`),
      target: h.paths.workspace,
      now: END,
      analyzeKql,
      redactor: new Redactor({ patterns: [{ name: "code", regex: "50126" }] }),
    });
    expect(r.ok && r.sample?.rows.map((x) => x[1])).toEqual(["«redacted:code»", "«redacted:code»", "«redacted:code»"]);
  }, 60_000);

  it("a query the policy blocks is not run", async () => {
    const before = stateCounts(h);
    const table = await previewForApproval({
      policy: rulePolicy(),
      rule: rule("AuditLogs | where OperationName has 'role'"),
      target: h.paths.workspace,
      now: END,
      analyzeKql,
    });
    expect(table).toMatchObject({ ok: false, code: "kql_table_not_allowed" });
    const policy = rulePolicy();
    policy.constraints!["analyticsRules.create"]!.kql!.forbidden = ["union_wildcard"];
    const wildcard = await previewForApproval({
      policy,
      rule: rule("union * | take 1"),
      target: h.paths.workspace,
      now: END,
      analyzeKql,
    });
    expect(wildcard).toMatchObject({ ok: false, code: "kql_forbidden_construct" });
    // The update op is governed by its own entry: no allowed_tables there, but a denied op is refused outright.
    const denied = await previewForApproval({
      policy: { ...rulePolicy(), deny: [{ tool: "sentinel.api", ops: ["analyticsRules.update"] }] },
      op: "analyticsRules.update",
      rule: rule(failures),
      target: h.paths.workspace,
      now: END,
      analyzeKql,
    });
    expect(denied).toMatchObject({ ok: false, code: "op_denied" });
    expect(stateCounts(h)).toEqual(before);
  }, 60_000);

  it("a schedule Sentinel would not accept, and a workspace the policy does not allow", async () => {
    const bad = await previewForApproval({
      policy: rulePolicy(),
      rule: rule(failures, { queryFrequency: "PT1M" }),
      target: h.paths.workspace,
      analyzeKql,
    });
    expect(bad).toMatchObject({ ok: false, code: "invalid_arguments" });
    const policy = rulePolicy();
    policy.constraints!["*"]!.workspaces = ["elsewhere"];
    const ws = await previewForApproval({ policy, rule: rule(failures), target: h.paths.workspace, analyzeKql });
    expect(ws).toMatchObject({ ok: false, code: "workspace_not_allowed" });
  }, 60_000);
});
