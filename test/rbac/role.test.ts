import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { effectiveConstraints, effectiveScope } from "../../src/governance/decide.js";
import { comparePermissions } from "../../src/rbac/effective.js";
import { operationFact, tableQueryAction } from "../../src/rbac/operations.js";
import {
  assertAssignableScopes,
  generateRoles,
  MONITORING_METRICS_PUBLISHER,
  policyNeeds,
  RbacError,
} from "../../src/rbac/role.js";
import { KNOWN_OPS, TOOLS, toolByOp } from "../../src/tools/registry.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { mulberry32 } from "../../src/workspace/seed-determinism.js";
import { examplePolicy } from "../helpers/policy.js";

const SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel";
const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));

/** What one op needs, computed independently of role.ts: its declaration plus its tables under the policy. */
function expectedFor(wpc: WorkPolicyContract, op: string): string[] {
  const t = toolByOp(op)!;
  const out = [...t.rbac.actions, ...(t.rbac.rollback ?? [])];
  if (t.rbac.tables) {
    const tables = effectiveConstraints(wpc, op).kql?.allowed_tables;
    out.push(...(tables ? tables.map(tableQueryAction) : ["Microsoft.OperationalInsights/workspaces/query/*/read"]));
  }
  return out;
}

const rng = mulberry32;

/** A random valid policy: some ops allowed, some of those denied, maybe table bounds for kql.query. */
function randomPolicy(r: () => number, i: number): WorkPolicyContract {
  const allowed = KNOWN_OPS.filter(() => r() < 0.45);
  const denied = allowed.filter(() => r() < 0.2);
  const tables = ["SigninLogs", "AuditLogs", "SecurityAlert", "CommonSecurityLog", "AgentSecurityEvent_CL"].filter(
    () => r() < 0.5,
  );
  return {
    wpc_version: "v1",
    policy_name: `random-${i}`,
    allow: allowed.length ? [{ tool: "sentinel.api", ops: allowed as [string, ...string[]] }] : [],
    ...(denied.length ? { deny: [{ tool: "sentinel.api", ops: denied as [string, ...string[]] }] } : {}),
    token_requirements: { cst_ttl_seconds_max: 900 },
    ...(r() < 0.6 && tables.length ? { constraints: { "kql.query": { kql: { allowed_tables: tables } } } } : {}),
  } as WorkPolicyContract;
}

function checkRoles(wpc: WorkPolicyContract): void {
  const g = generateRoles(wpc, [SCOPE]);
  const ops = effectiveScope(wpc, KNOWN_OPS, KNOWN_OPS).filter((o) => !o.startsWith("governance."));
  const granted = lower(g.roles.flatMap((x) => x.definition.Actions));
  const expected = lower(ops.flatMap((op) => expectedFor(wpc, op)));
  // Covers every allowed tool, and holds nothing no allowed tool needs.
  expect(granted, wpc.policy_name).toEqual(expected);
  for (const a of granted) expect(operationFact(a), a).toBeDefined();
  // Two roles exactly when something allowed writes; the write role repeats nothing the read role has.
  const writes = ops.some((op) => !toolByOp(op)!.effects.readOnly);
  expect(g.roles.map((x) => x.kind)).toEqual(writes && g.needs.writes.length ? ["read", "write"] : ["read"]);
  if (g.roles.length === 2) {
    const read = lower(g.roles[0]!.definition.Actions);
    for (const a of g.roles[1]!.definition.Actions) expect(read.has(a.toLowerCase()), a).toBe(false);
  }
  for (const { definition: d } of g.roles) {
    expect(d.AssignableScopes).toEqual([SCOPE]);
    expect(d.NotActions).toEqual([]);
  }
  // The exact role passes the permission check clean.
  const perms = g.roles.map(({ definition: d }) => ({ actions: d.Actions, dataActions: d.DataActions }));
  expect(comparePermissions(perms, g.needs.all), wpc.policy_name).toEqual({ missing: [], excess: [] });
}

describe("gsmcp policy role: roles from a policy", () => {
  it("the example policies: every action exists, every allowed tool is covered, the exact role is clean", () => {
    for (const name of ["triage-readonly", "containment-with-approvals"]) checkRoles(examplePolicy(name));
    const triage = generateRoles(examplePolicy("triage-readonly"), [SCOPE]);
    expect(triage.roles.map((r) => r.kind)).toEqual(["read"]);
    // Table-level read access: the policy's five tables plus SecurityAlert for alerts.list, never all tables.
    expect(triage.roles[0]!.definition.Actions).not.toContain("Microsoft.OperationalInsights/workspaces/query/*/read");
    expect(triage.roles[0]!.definition.Actions).toContain(
      "Microsoft.OperationalInsights/workspaces/query/SigninLogs/read",
    );
    const containment = generateRoles(examplePolicy("containment-with-approvals"), [SCOPE]);
    expect(containment.roles.map((r) => r.kind)).toEqual(["read", "write"]);
    expect(containment.roles[1]!.definition.Actions).toEqual(
      expect.arrayContaining([
        "Microsoft.SecurityInsights/incidents/write",
        "Microsoft.SecurityInsights/incidents/comments/write",
        "Microsoft.SecurityInsights/alertRules/write",
        // analyticsRules.create's rollback deletes the rule it made.
        "Microsoft.SecurityInsights/alertRules/delete",
      ]),
    );
    // Denied ops contribute nothing: no automation rule writes.
    expect(containment.roles[1]!.definition.Actions.join()).not.toMatch(/automationRules/);
  });

  it("property: 200 random policies get roles that cover exactly their allowed tools", () => {
    const r = rng(2326);
    for (let i = 0; i < 200; i++) checkRoles(randomPolicy(r, i));
  });

  it("a KQL op without allowed_tables needs every table (query/*/read), and nothing else does", () => {
    const wpc = randomPolicy(() => 0.99, 0);
    wpc.allow = [{ tool: "sentinel.api", ops: ["kql.query", "incidents.get"] }];
    const g = generateRoles(wpc, [SCOPE]);
    expect(g.roles[0]!.definition.Actions).toContain("Microsoft.OperationalInsights/workspaces/query/*/read");
    wpc.allow = [{ tool: "sentinel.api", ops: ["incidents.get"] }];
    expect(generateRoles(wpc, [SCOPE]).roles[0]!.definition.Actions).toEqual([
      "Microsoft.SecurityInsights/incidents/read",
    ]);
  });

  it("per workspace: ops a constraint keeps off a workspace are not needed there", () => {
    const wpc = examplePolicy("containment-with-approvals");
    wpc.constraints = { ...wpc.constraints, "incidents.close": { workspaces: ["other"] } };
    const here = policyNeeds(wpc, { name: "contoso", tenant: "local" });
    const there = policyNeeds(wpc, { name: "other", tenant: "local" });
    const tools = (n: typeof here) => new Set(n.all.flatMap((x) => x.tools));
    expect(tools(here).has("incidents.close")).toBe(false);
    expect(tools(there).has("incidents.close")).toBe(true);
  });

  it("bad inputs are refused naming the field and the fix", () => {
    const wpc = examplePolicy("triage-readonly");
    wpc.constraints!["kql.query"]!.kql!.allowed_tables = ["SigninLogs", "Sign-in Logs"];
    try {
      generateRoles(wpc, [SCOPE]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RbacError);
      expect((e as RbacError).field).toBe("constraints.kql.query.kql.allowed_tables[1]");
      expect((e as RbacError).message).toMatch(/"Sign-in Logs" is not a Log Analytics table name/);
      expect((e as RbacError).fix).toMatch(/table's name/);
    }
    for (const scopes of [
      [],
      ["/"],
      ["/subscriptions/not-a-guid"],
      [`${SCOPE}/providers/Microsoft.OperationalInsights/workspaces/w`],
      ["rg-sentinel"],
    ]) {
      expect(() => assertAssignableScopes(scopes), JSON.stringify(scopes)).toThrowError(/--scope/);
    }
    expect(() => assertAssignableScopes(["/subscriptions/00000000-0000-0000-0000-000000000000"])).not.toThrow();
  });

  it("the ARM template defines each role, assigns it at workspace scope (writes only on request) and the DCR role", () => {
    const g = generateRoles(examplePolicy("containment-with-approvals"), [SCOPE]);
    const resources = g.arm.resources as Record<string, unknown>[];
    const defs = resources.filter((x) => x.type === "Microsoft.Authorization/roleDefinitions");
    const assignments = resources.filter((x) => x.type === "Microsoft.Authorization/roleAssignments");
    expect(defs).toHaveLength(2);
    for (const d of defs) {
      const p = d.properties as { assignableScopes: string[]; permissions: { actions: string[] }[]; type: string };
      expect(p.assignableScopes).toEqual(["[resourceGroup().id]"]);
      expect(p.type).toBe("customRole");
      expect(p.permissions[0]!.actions.length).toBeGreaterThan(0);
    }
    const onWorkspace = assignments.filter((a) => String(a.scope).includes("Microsoft.OperationalInsights/workspaces"));
    expect(onWorkspace).toHaveLength(2);
    // Each assignment's role is one the template defines (same guid seed).
    for (const a of onWorkspace) {
      const id = (a.properties as { roleDefinitionId: string }).roleDefinitionId;
      const seed = /guid\(resourceGroup\(\)\.id, 'gsmcp', '[^']+', '(read|write)'\)/.exec(id)?.[1];
      expect(seed).toBeDefined();
      expect(defs.some((d) => String(d.name).includes(`'${seed}')`))).toBe(true);
    }
    expect(
      onWorkspace.find((a) =>
        String((a.properties as { roleDefinitionId: string }).roleDefinitionId).includes("'write'"),
      )?.condition,
    ).toBe("[parameters('assignWriteRole')]");
    const telemetry = assignments.find((a) => String(a.scope).includes("dataCollectionRules"))!;
    expect(String((telemetry.properties as { roleDefinitionId: string }).roleDefinitionId)).toContain(
      MONITORING_METRICS_PUBLISHER.id,
    );
    expect((g.arm.parameters as Record<string, unknown>).assignWriteRole).toBeDefined();
    expect(g.bicep).toContain("if (assignWriteRole)");
    expect(g.bicep).toContain(MONITORING_METRICS_PUBLISHER.id);
    for (const a of g.roles.flatMap((r) => r.definition.Actions)) expect(g.bicep).toContain(`'${a}'`);
    // A read-only policy has no write role and no assignWriteRole switch.
    const triage = generateRoles(examplePolicy("triage-readonly"), [SCOPE]);
    expect((triage.arm.parameters as Record<string, unknown>).assignWriteRole).toBeUndefined();
    expect(triage.bicep).not.toContain("writeRole");
  });

  it("docs/azure.md shows the roles the example policies generate now (regenerate with gsmcp policy role)", () => {
    const doc = readFileSync("docs/azure.md", "utf8");
    for (const name of ["triage-readonly", "containment-with-approvals"]) {
      const block = new RegExp(
        `<!-- generated: ${name} -->\\n\`\`\`json\\n([\\s\\S]*?)\`\`\`\\n<!-- end generated -->`,
      ).exec(doc);
      expect(block, name).not.toBeNull();
      const shown = JSON.parse(block![1]!);
      expect(
        shown,
        `docs/azure.md (${name}) drifted: gsmcp policy role examples/policies/${name}.wpc.json --scope ${SCOPE}`,
      ).toEqual(generateRoles(examplePolicy(name), [SCOPE]).roles.map((r) => r.definition));
    }
  });

  it("every tool of the registry is reachable by some policy (no declaration goes untested)", () => {
    const all = examplePolicy("triage-readonly");
    all.allow = [{ tool: "sentinel.api", ops: [...KNOWN_OPS] as [string, ...string[]] }];
    delete all.deny;
    checkRoles(all);
    const needs = policyNeeds(all);
    const tools = new Set(needs.all.flatMap((n) => n.tools));
    for (const t of TOOLS) if (t.rbac.actions.length) expect(tools.has(t.op), t.op).toBe(true);
  });
});
