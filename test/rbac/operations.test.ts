import { describe, expect, it } from "vitest";
import { type AzurePermission, isAllowed } from "../../src/rbac/effective.js";
import {
  DERIVED_OPERATIONS,
  KNOWN_OPERATIONS,
  operationFact,
  PUBLISHED,
  SOURCES,
  tableQueryAction,
} from "../../src/rbac/operations.js";
import { policyNeeds, RbacError } from "../../src/rbac/role.js";
import { KNOWN_OPS, TOOLS } from "../../src/tools/registry.js";
import { ROLE_SETS } from "../../src/workspace/arm-authorization.js";
import { examplePolicy } from "../helpers/policy.js";

/**
 * ARM's naming rule for the operation a request is authorized as: the provider, then the resource type path (every
 * type segment, not the names), then read (GET), write (PUT/PATCH), delete (DELETE), or `<last segment>/action` (POST).
 */
function armOperation(method: string, path: string): string {
  const [, rest] = path.split("/providers/Microsoft.SecurityInsights/") as [string, string];
  const segs = rest.split("?")[0]!.split("/").filter(Boolean);
  // After the provider, segments alternate: type, name, type, name… A POST ends on an action name.
  const action = method === "POST" ? segs.pop() : undefined;
  const types = segs.filter((_, i) => i % 2 === 0);
  const verb =
    method === "GET" ? "read" : method === "DELETE" ? "delete" : method === "POST" ? `${action}/action` : "write";
  return `Microsoft.SecurityInsights/${types.join("/")}/${verb}`;
}

describe("operation facts", () => {
  it("every operation a tool declares is a fact: published, derived with its call, or a table action", () => {
    let checked = 0;
    for (const t of TOOLS) {
      for (const a of [...t.rbac.actions, ...(t.rbac.rollback ?? [])]) {
        expect(operationFact(a, "action"), `${t.op}: ${a}`).toBeDefined();
        checked++;
      }
      for (const a of t.rbac.dataActions ?? []) expect(operationFact(a, "dataAction"), `${t.op}: ${a}`).toBeDefined();
      // Every Sentinel tool that reaches Azure declares something; the rest say why not.
      if (!t.rbac.actions.length && !t.rbac.tables) expect(t.rbac.note, t.op).toBeTruthy();
    }
    expect(checked).toBeGreaterThan(40);
  });

  it("a declaration naming an operation that does not exist fails (the registry would refuse to build a role)", () => {
    const wpc = examplePolicy("triage-readonly");
    const tool = TOOLS.find((t) => t.op === "incidents.get")!;
    const saved = tool.rbac.actions;
    for (const bad of [
      "Microsoft.SecurityInsights/incident/read", // singular: a typo Azure would accept silently
      "Microsoft.SecurityInsights/incidents/list",
      "Microsoft.SecurityInsight/incidents/read",
      "Microsoft.OperationalInsights/workspaces/query/Sign-in Logs/read",
    ]) {
      tool.rbac.actions = [bad];
      try {
        expect(() => policyNeeds(wpc)).toThrowError(RbacError);
        expect(() => policyNeeds(wpc)).toThrowError(/incidents\.get.*not an operation/);
      } finally {
        tool.rbac.actions = saved;
      }
    }
  });

  it("lookups are case-insensitive, as Azure's, and kinds are separate", () => {
    expect(operationFact("microsoft.securityinsights/INCIDENTS/read")?.name).toBe(
      "Microsoft.SecurityInsights/incidents/read",
    );
    expect(operationFact("Microsoft.SecurityInsights/incidents/read", "dataAction")).toBeUndefined();
    expect(operationFact("Microsoft.Insights/Telemetry/Write", "dataAction")?.source).toBe("builtin-monitor");
    expect(operationFact("Microsoft.Insights/Telemetry/Write", "action")).toBeUndefined();
  });

  it("facts are unique, each with a known source, and every source says where it was read", () => {
    const keys = KNOWN_OPERATIONS.map((f) => `${f.kind}:${f.name.toLowerCase()}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const f of KNOWN_OPERATIONS) expect(SOURCES[f.source], f.name).toBeDefined();
    for (const s of Object.values(SOURCES)) {
      expect(s.url).toMatch(/^https:\/\//);
      expect(s.repo).toMatch(/^[\w-]+\/[\w.-]+$/);
      expect(s.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    // The Microsoft.SecurityInsights list is the whole published one, not only what we use.
    expect(PUBLISHED.filter((f) => f.name.startsWith("Microsoft.SecurityInsights/")).length).toBeGreaterThan(150);
  });

  it("derived names are not in the published list, and ARM's rule gives each from its call", () => {
    const published = new Set(PUBLISHED.map((f) => f.name.toLowerCase()));
    expect(DERIVED_OPERATIONS.length).toBeGreaterThan(0);
    for (const d of DERIVED_OPERATIONS) {
      expect(published.has(d.name.toLowerCase()), d.name).toBe(false);
      const [method, path] = d.derivedFrom!.split(" ") as [string, string];
      expect(armOperation(method, path).toLowerCase(), d.derivedFrom).toBe(d.name.toLowerCase());
    }
  });

  it("the same rule reproduces the published names of the calls the list does carry", () => {
    const calls: [string, string][] = [
      ["GET", "…/providers/Microsoft.SecurityInsights/incidents/{incidentId}"],
      ["PUT", "…/providers/Microsoft.SecurityInsights/incidents/{incidentId}"],
      ["GET", "…/providers/Microsoft.SecurityInsights/incidents/{incidentId}/comments"],
      ["PUT", "…/providers/Microsoft.SecurityInsights/incidents/{incidentId}/comments/{commentId}"],
      ["POST", "…/providers/Microsoft.SecurityInsights/entities/{entityId}/getTimeline"],
      ["POST", "…/providers/Microsoft.SecurityInsights/entities/{entityId}/getInsights"],
      ["POST", "…/providers/Microsoft.SecurityInsights/threatIntelligence/main/queryIndicators"],
      ["GET", "…/providers/Microsoft.SecurityInsights/threatIntelligence/main/indicators"],
      ["DELETE", "…/providers/Microsoft.SecurityInsights/alertRules/{ruleId}"],
    ];
    for (const [m, p] of calls) {
      const name = armOperation(m, p);
      expect(operationFact(name)?.source, `${m} ${p} → ${name}`).toBe("permissions-security");
    }
  });

  it("table actions follow the documented template; custom tables use Tables.Custom; bad names are refused", () => {
    expect(tableQueryAction("SigninLogs")).toBe("Microsoft.OperationalInsights/workspaces/query/SigninLogs/read");
    expect(tableQueryAction("AgentSecurityEvent_CL")).toBe(
      "Microsoft.OperationalInsights/workspaces/query/Tables.Custom/read",
    );
    expect(operationFact(tableQueryAction("SigninLogs"))?.source).toBe("permissions-monitor");
    expect(operationFact(tableQueryAction("BrandNewTable"))?.source).toBe("manage-access");
    for (const bad of ["", "Sign-in Logs", "1Table", "a/b", "*"]) expect(() => tableQueryAction(bad)).toThrow();
  });

  it("each tool's `role` is a built-in role that covers its operations, by the published role definitions", () => {
    // Log Analytics Reader as manage-access describes it.
    const logAnalyticsReader = {
      actions: [
        "*/read",
        "Microsoft.OperationalInsights/workspaces/analytics/query/action",
        "Microsoft.OperationalInsights/workspaces/search/action",
        "Microsoft.Support/*",
      ],
      notActions: ["Microsoft.OperationalInsights/workspaces/sharedKeys/read"],
    };
    const roles: Record<string, AzurePermission> = {
      "Microsoft Sentinel Reader": ROLE_SETS.reader,
      "Microsoft Sentinel Responder": ROLE_SETS.responder,
      "Microsoft Sentinel Contributor": {
        actions: [
          "Microsoft.SecurityInsights/*",
          "Microsoft.OperationalInsights/workspaces/*/read",
          "Microsoft.OperationalInsights/workspaces/savedSearches/*",
          "Microsoft.OperationalInsights/workspaces/query/read",
          "Microsoft.OperationalInsights/workspaces/query/*/read",
        ],
      },
      "Log Analytics Reader": logAnalyticsReader,
    };
    const order = ["Microsoft Sentinel Reader", "Microsoft Sentinel Responder", "Microsoft Sentinel Contributor"];
    for (const t of TOOLS) {
      const ops = [...t.rbac.actions, ...(t.rbac.rollback ?? [])];
      if (t.rbac.role === "none") {
        expect(ops, t.op).toEqual([]);
        continue;
      }
      const role = roles[t.rbac.role];
      expect(role, `${t.op}: ${t.rbac.role}`).toBeDefined();
      for (const a of ops) expect(isAllowed([role!], a), `${t.op}: ${t.rbac.role} lacks ${a}`).toBe(true);
      // And it is the least of the Sentinel roles that does.
      const least = order.find((r) => ops.every((a) => isAllowed([roles[r]!], a)));
      if (t.rbac.role !== "Log Analytics Reader") expect(t.rbac.role, t.op).toBe(least);
    }
  });

  it("every op of the registry has a tool with a declaration", () => {
    expect(TOOLS.map((t) => t.op).sort()).toEqual([...KNOWN_OPS].sort());
  });
});
