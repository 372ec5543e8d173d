import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type DecisionRequest,
  decide,
  effectiveConstraints,
  effectiveScope,
  isoDurationMs,
} from "../../src/governance/decide.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";

const triage = JSON.parse(readFileSync("examples/policies/triage-readonly.wpc.json", "utf8")) as WorkPolicyContract;
const containment = JSON.parse(
  readFileSync("examples/policies/containment-with-approvals.wpc.json", "utf8"),
) as WorkPolicyContract;
const ALL = [
  "incidents.list",
  "incidents.get",
  "incidents.alerts",
  "alerts.list",
  "kql.query",
  "incidents.close",
  "incidents.update",
];

const req = (over: Partial<DecisionRequest>): DecisionRequest => ({
  op: "incidents.list",
  write: false,
  tokenScope: ALL,
  workspace: "ws",
  ...over,
});
const kqlOk = { ok: true, diagnostics: [], tables: ["SecurityAlert"], forbidden: [] };

describe("decide", () => {
  it("a saved hunting query is bound by kql.query's constraints; its own entry can only narrow them", () => {
    const p = {
      ...triage,
      allow: [{ tool: "sentinel.api", ops: ["kql.query", "huntingQueries.run"] }],
      deny: [],
    } as WorkPolicyContract;
    const run = (policy: WorkPolicyContract, tables: string[]) =>
      decide(
        policy,
        req({
          op: "huntingQueries.run",
          tokenScope: ["huntingQueries.run"],
          kql: { ...kqlOk, tables, requestedTimespan: "P30D" },
        }),
      );
    const ok = run(p, ["SigninLogs"]);
    expect(ok.effect).toBe("CONSTRAIN");
    expect(ok.constraints).toEqual(
      expect.arrayContaining([
        { kind: "timespan", value: "P7D", requested: "P30D" },
        expect.objectContaining({ kind: "max_rows", value: 50 }),
      ]),
    );
    expect(ok.reasons.find((r) => r.code === "timespan_capped")!.rule).toBe("constraints.kql.query.kql.max_timespan");
    expect(run(p, ["OfficeActivity"]).reasons.at(-1)!.code).toBe("kql_table_not_allowed");
    const narrower = {
      ...p,
      constraints: { ...p.constraints, "huntingQueries.run": { kql: { allowed_tables: ["AuditLogs", "Heartbeat"] } } },
    } as WorkPolicyContract;
    expect(effectiveConstraints(narrower, "huntingQueries.run").kql?.allowed_tables).toEqual(["AuditLogs"]);
    expect(run(narrower, ["SigninLogs"]).effect).toBe("BLOCK");
    expect(run(narrower, ["AuditLogs"]).effect).toBe("CONSTRAIN");
  });

  it("deny overrides allow, even when the token carries the op", () => {
    const p = {
      ...triage,
      allow: [{ tool: "sentinel.api", ops: [...triage.allow[0]!.ops, "incidents.close"] }],
    } as WorkPolicyContract;
    const d = decide(p, req({ op: "incidents.close", write: true }));
    expect(d.effect).toBe("BLOCK");
    expect(d.reasons.at(-1)).toMatchObject({ code: "op_denied", rule: "deny[0]" });
  });

  it("an op absent from allow is blocked; the token scope intersects the policy", () => {
    expect(decide(triage, req({ op: "watchlists.list" })).reasons.at(-1)!.code).toBe("op_not_allowed");
    expect(decide(triage, req({ tokenScope: ["kql.query"] })).reasons.at(-1)!.code).toBe("op_out_of_token_scope");
    expect(effectiveScope(triage, ["incidents.list", "incidents.close"], ALL)).toEqual(["incidents.list"]);
  });

  it("row cap is a CONSTRAIN when the caller asks for more, ALLOW (with the cap kept) when not", () => {
    const big = decide(triage, req({ requestedRows: 500 }));
    expect(big.effect).toBe("CONSTRAIN");
    expect(big.constraints).toContainEqual({ kind: "max_rows", value: 50, requested: 500 });
    const small = decide(triage, req({ requestedRows: 10 }));
    expect(small.effect).toBe("ALLOW");
    expect(small.constraints).toContainEqual({ kind: "max_rows", value: 50, requested: 10 });
  });

  it("KQL: forbidden constructs and tables block; the time range is capped", () => {
    expect(
      decide(
        triage,
        req({ op: "kql.query", kql: { ...kqlOk, forbidden: [{ construct: "externaldata", line: 1, column: 1 }] } }),
      ).reasons.at(-1)!.code,
    ).toBe("kql_forbidden_construct");
    // A construct kind the policy vocabulary does not know is still forbidden (fail closed).
    expect(
      decide(triage, req({ op: "kql.query", kql: { ...kqlOk, forbidden: [{ construct: "new_plugin" }] } })).effect,
    ).toBe("BLOCK");
    expect(
      decide(
        triage,
        req({ op: "kql.query", kql: { ...kqlOk, tables: ["SecurityAlert", "AgentSecurityEvent_CL"] } }),
      ).reasons.at(-1)!.code,
    ).toBe("kql_table_not_allowed");
    expect(
      decide(triage, req({ op: "kql.query", kql: { ...kqlOk, ok: false, diagnostics: ["syntax"] } })).reasons.at(-1)!
        .code,
    ).toBe("kql_invalid");
    const capped = decide(triage, req({ op: "kql.query", kql: { ...kqlOk, requestedTimespan: "P30D" } }));
    expect(capped.effect).toBe("CONSTRAIN");
    expect(capped.constraints).toContainEqual({ kind: "timespan", value: "P7D", requested: "P30D" });
    const inside = decide(triage, req({ op: "kql.query", kql: { ...kqlOk, requestedTimespan: "PT1H" } }));
    expect(inside.constraints.find((c) => c.kind === "timespan")).toBeUndefined();
  });

  it("writes gated by an approval carry the approval rule", () => {
    const d = decide(containment, req({ op: "incidents.close", write: true }));
    expect(d.effect).not.toBe("BLOCK");
    expect(d.approval).toMatchObject({
      name: "containment-approval",
      mode: "explicit",
      ttl_seconds: 900,
      approvers: [],
    });
  });

  it("workspaces, budgets and suspicious content", () => {
    const p = {
      ...triage,
      constraints: { ...triage.constraints, "*": { ...triage.constraints!["*"], workspaces: ["prod"] } },
    } as WorkPolicyContract;
    expect(decide(p, req({ workspace: "other" })).reasons.at(-1)!.code).toBe("workspace_not_allowed");
    expect(decide(triage, req({ tokenWorkspaces: ["a"], workspace: "b" })).reasons.at(-1)!.code).toBe(
      "workspace_not_allowed",
    );
    expect(decide(triage, req({ usage: { calls: 500, rows: 0, callsLastMinute: 0 } })).reasons.at(-1)!.code).toBe(
      "budget_exceeded",
    );
    expect(decide(triage, req({ usage: { calls: 0, rows: 0, callsLastMinute: 120 } })).reasons.at(-1)!.rule).toBe(
      "budgets.calls_per_minute",
    );
    expect(decide(triage, req({ usage: { calls: 410, rows: 0, callsLastMinute: 0 } })).effect).toBe("LOG");
    expect(decide(triage, req({ suspiciousContent: ["ignore_instructions"] })).effect).toBe("LOG");
  });

  it("merges * and op constraints, the stricter value winning", () => {
    const c = effectiveConstraints(triage, "kql.query");
    expect(c.max_rows).toBe(50);
    expect(c.kql?.max_timespan).toBe("P7D");
    expect(effectiveConstraints(triage, "incidents.list").max_rows).toBe(50);
  });

  it('a reason names the constraint entry its value came from (review defect: "*" was credited to the op)', () => {
    // triage: "*" caps rows at 50, kql.query at 100; the effective 50 comes from "*".
    const q = decide(triage, req({ op: "kql.query", kql: kqlOk }));
    expect(q.reasons.find((r) => r.code === "row_cap")?.rule).toBe("constraints.*.max_rows");
    expect(q.reasons.find((r) => r.code === "timespan_capped")?.rule).toBe("constraints.kql.query.kql.max_timespan");
    // The op's own entry wins when it is the stricter one.
    const strict: WorkPolicyContract = {
      ...triage,
      constraints: { ...triage.constraints, "kql.query": { ...triage.constraints!["kql.query"], max_rows: 10 } },
    };
    expect(decide(strict, req({ op: "kql.query", kql: kqlOk })).reasons.find((r) => r.code === "row_cap")?.rule).toBe(
      "constraints.kql.query.max_rows",
    );
    // A hunting query inherits kql.query's bounds and says so.
    const hunt = decide(
      triage,
      req({ op: "huntingQueries.run", tokenScope: [...ALL, "huntingQueries.run"], kql: kqlOk }),
    );
    expect(hunt.reasons.find((r) => r.code === "timespan_capped")?.rule).toBe("constraints.kql.query.kql.max_timespan");
  });

  it("parses ISO durations and rejects junk", () => {
    expect(isoDurationMs("P7D")).toBe(7 * 86400_000);
    expect(isoDurationMs("PT1H30M")).toBe(5400_000);
    expect(() => isoDurationMs("7d")).toThrow();
    expect(() => isoDurationMs("P")).toThrow();
  });
});
