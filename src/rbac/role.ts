import { effectiveConstraints, effectiveScope } from "../governance/decide.js";
import { policyHash } from "../governance/policy.js";
import { KNOWN_OPS, toolByOp } from "../tools/registry.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import type { NeededOperation } from "./effective.js";
import { ALL_TABLES, type OperationKind, operationFact, TABLE_NAME, tableQueryAction } from "./operations.js";

// The Azure custom roles a policy needs: from the ops it allows, each tool's declared operations (src/tools/*/*.ts
// `rbac`), and for KQL tools the tables the policy lets them read. Reads and writes become two roles when the policy
// has writes, so the write role can be assigned only while a write is approved (docs/azure.md, Just-in-time writes).

export type RbacErrorCode = "rbac_unknown_operation" | "rbac_invalid_table" | "rbac_invalid_scope";

/** A bad input or declaration, naming the field and the fix. */
export class RbacError extends Error {
  constructor(
    readonly code: RbacErrorCode,
    readonly field: string,
    message: string,
    readonly fix: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "RbacError";
  }
}

/** The built-in role the telemetry identity gets on the data collection rule (builtin-monitor). */
export const MONITORING_METRICS_PUBLISHER = {
  name: "Monitoring Metrics Publisher",
  id: "3913510d-42f4-4e42-8a64-420c390055eb",
  dataActions: ["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"],
} as const;

export interface PolicyNeeds {
  policyName: string;
  policyHash: string;
  /** Ops the policy allows (allow − deny), governance ops excluded. */
  ops: string[];
  /** What read ops need. */
  reads: NeededOperation[];
  /** What write ops need beyond the reads (their own reads of prior state included when no read op needs them). */
  writes: NeededOperation[];
  /** Both, for the permission check. */
  all: NeededOperation[];
}

/** Checks every `kql.allowed_tables` entry names a table, so a role never carries a malformed action. */
function assertTables(wpc: WorkPolicyContract): void {
  for (const [key, c] of Object.entries(wpc.constraints ?? {}))
    (c.kql?.allowed_tables ?? []).forEach((t, i) => {
      if (!TABLE_NAME.test(t))
        throw new RbacError(
          "rbac_invalid_table",
          `constraints.${key}.kql.allowed_tables[${i}]`,
          `"${t}" is not a Log Analytics table name`,
          "write the table's name as the workspace has it (a letter, then letters, digits or _; e.g. SigninLogs)",
        );
    });
}

function add(list: NeededOperation[], name: string, kind: OperationKind, op: string, rollbackOnly = false): void {
  const found = list.find((n) => n.kind === kind && n.name.toLowerCase() === name.toLowerCase());
  if (!found) {
    list.push({ name, kind, tools: [op], ...(rollbackOnly ? { rollbackOnly: true } : {}) });
    return;
  }
  if (!found.tools.includes(op)) found.tools.push(op);
  if (!rollbackOnly) delete found.rollbackOnly;
}

/**
 * What the policy's allowed ops need. With `workspace`, only the ops its constraints let reach that workspace and
 * tenant. Every name is checked against src/rbac/operations.ts: an unknown one is a defect, and nothing is generated.
 */
export function policyNeeds(wpc: WorkPolicyContract, workspace?: { name: string; tenant: string }): PolicyNeeds {
  assertTables(wpc);
  const ops = effectiveScope(wpc, KNOWN_OPS, KNOWN_OPS).filter((op) => {
    if (op.startsWith("governance.")) return false;
    if (!workspace) return true;
    const c = effectiveConstraints(wpc, op);
    return (
      (!c.workspaces || c.workspaces.includes(workspace.name)) && (!c.tenants || c.tenants.includes(workspace.tenant))
    );
  });
  const reads: NeededOperation[] = [];
  const writeAll: NeededOperation[] = [];
  for (const op of ops) {
    const tool = toolByOp(op)!;
    const target = tool.effects.readOnly ? reads : writeAll;
    const declared: [string, OperationKind, boolean][] = [
      ...tool.rbac.actions.map((a): [string, OperationKind, boolean] => [a, "action", false]),
      ...(tool.rbac.dataActions ?? []).map((a): [string, OperationKind, boolean] => [a, "dataAction", false]),
      ...(tool.rbac.rollback ?? []).map((a): [string, OperationKind, boolean] => [a, "action", true]),
    ];
    for (const [name, kind, rollbackOnly] of declared) {
      if (!operationFact(name, kind))
        throw new RbacError(
          "rbac_unknown_operation",
          `tool ${op} rbac`,
          `declares ${kind} "${name}", which is not an operation in src/rbac/operations.ts`,
          "correct the declaration to Microsoft's operation name (or add the fact with its source)",
        );
      add(target, name, kind, op, rollbackOnly);
    }
    if (tool.rbac.tables === "policy") {
      const tables = effectiveConstraints(wpc, op).kql?.allowed_tables;
      if (!tables) add(target, ALL_TABLES, "action", op);
      else for (const t of tables) add(target, tableQueryAction(t), "action", op);
    }
  }
  const inReads = (n: NeededOperation) =>
    reads.some((r) => r.kind === n.kind && r.name.toLowerCase() === n.name.toLowerCase());
  const writes = writeAll.filter((n) => !inReads(n));
  // The check needs every tool behind each operation, the writes' own reads included.
  const all: NeededOperation[] = reads.map((r) => ({ ...r, tools: [...r.tools] }));
  for (const w of writeAll) for (const op of w.tools) add(all, w.name, w.kind, op, w.rollbackOnly === true);
  const byName = (a: NeededOperation, b: NeededOperation) => ordinal(a.name, b.name);
  return {
    policyName: wpc.policy_name,
    policyHash: policyHash(wpc),
    ops,
    reads: reads.sort(byName),
    writes: writes.sort(byName),
    all: all.sort(byName),
  };
}

/** An Azure custom role as `az role definition create --role-definition FILE` takes it. */
export interface RoleDefinitionFile {
  Name: string;
  IsCustom: true;
  Description: string;
  Actions: string[];
  NotActions: string[];
  DataActions: string[];
  NotDataActions: string[];
  AssignableScopes: string[];
}

export interface GeneratedRoles {
  needs: PolicyNeeds;
  /** The read role, then the write role when the policy has writes. */
  roles: { kind: "read" | "write"; definition: RoleDefinitionFile }[];
  /** ARM template (resource-group deployment): the role definitions, their assignment at workspace scope, and
   * Monitoring Metrics Publisher on the data collection rule for the telemetry identity. */
  arm: Record<string, unknown>;
  bicep: string;
}

const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const SCOPE = new RegExp(`^/subscriptions/${GUID}(/resourceGroups/[-\\w._()]{1,90})?$`, "i");

/** AssignableScopes: subscriptions or resource groups (what Azure accepts for custom roles). */
export function assertAssignableScopes(scopes: string[], field = "--scope"): void {
  if (!scopes.length)
    throw new RbacError(
      "rbac_invalid_scope",
      field,
      "no assignable scope",
      "pass --scope /subscriptions/<id>/resourceGroups/<rg> (the resource group of the Sentinel workspace), or set AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP",
    );
  for (const s of scopes)
    if (!SCOPE.test(s))
      throw new RbacError(
        "rbac_invalid_scope",
        field,
        `"${s}" is not a subscription or resource group scope`,
        "use /subscriptions/<subscription GUID> or /subscriptions/<subscription GUID>/resourceGroups/<name>; the assignment itself goes on the workspace (the ARM template does that)",
      );
}

/** Ordinal, case-insensitive: the same order on every machine. */
const ordinal = (a: string, b: string) => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

const names = (list: NeededOperation[], kind: OperationKind) =>
  [...new Set(list.filter((n) => n.kind === kind).map((n) => n.name))].sort(ordinal);

function definition(needs: PolicyNeeds, kind: "read" | "write", list: NeededOperation[], scopes: string[]) {
  const ops = [...new Set(list.flatMap((n) => n.tools))].sort();
  return {
    Name: `gsmcp ${needs.policyName} (${kind})`,
    IsCustom: true as const,
    Description:
      `Generated by gsmcp policy role from ${needs.policyName} (${needs.policyHash}): the ${kind === "read" ? "reads" : "writes"} of ${ops.join(", ")}.`.slice(
        0,
        1024,
      ),
    Actions: names(list, "action"),
    NotActions: [],
    DataActions: names(list, "dataAction"),
    NotDataActions: [],
    AssignableScopes: [...scopes],
  };
}

/** The roles, the ARM template and the Bicep file for a policy. */
export function generateRoles(wpc: WorkPolicyContract, scopes: string[]): GeneratedRoles {
  assertAssignableScopes(scopes);
  const needs = policyNeeds(wpc);
  const roles: GeneratedRoles["roles"] = [{ kind: "read", definition: definition(needs, "read", needs.reads, scopes) }];
  if (needs.writes.length) roles.push({ kind: "write", definition: definition(needs, "write", needs.writes, scopes) });
  return { needs, roles, arm: armTemplate(needs, roles), bicep: bicepFile(needs, roles) };
}

function armTemplate(needs: PolicyNeeds, roles: GeneratedRoles["roles"]): Record<string, unknown> {
  const seed = (kind: string) => `[guid(resourceGroup().id, 'gsmcp', '${needs.policyHash}', '${kind}')]`;
  const guidOf = (kind: string) => `guid(resourceGroup().id, 'gsmcp', '${needs.policyHash}', '${kind}')`;
  // The deployment's own resource (for dependsOn), and the definition's id as role assignments take it.
  const ownId = (kind: string) => `[resourceId('Microsoft.Authorization/roleDefinitions', ${guidOf(kind)})]`;
  const defId = (kind: string) =>
    `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${guidOf(kind)})]`;
  const workspaceScope = "[format('Microsoft.OperationalInsights/workspaces/{0}', parameters('workspaceName'))]";
  const resources: Record<string, unknown>[] = [];
  for (const { kind, definition: d } of roles) {
    resources.push({
      type: "Microsoft.Authorization/roleDefinitions",
      apiVersion: "2022-04-01",
      name: seed(kind),
      properties: {
        roleName: d.Name,
        description: d.Description,
        type: "customRole",
        permissions: [{ actions: d.Actions, notActions: [], dataActions: d.DataActions, notDataActions: [] }],
        assignableScopes: ["[resourceGroup().id]"],
      },
    });
    resources.push({
      ...(kind === "write" ? { condition: "[parameters('assignWriteRole')]" } : {}),
      type: "Microsoft.Authorization/roleAssignments",
      apiVersion: "2022-04-01",
      scope: workspaceScope,
      name: `[guid(resourceGroup().id, parameters('workspaceName'), parameters('principalId'), '${needs.policyHash}', '${kind}')]`,
      dependsOn: [ownId(kind)],
      properties: {
        roleDefinitionId: defId(kind),
        principalId: "[parameters('principalId')]",
        principalType: "[parameters('principalType')]",
        description: `gsmcp ${needs.policyName} ${kind}s, at workspace scope`,
      },
    });
  }
  resources.push({
    condition: "[not(empty(parameters('dataCollectionRuleName')))]",
    type: "Microsoft.Authorization/roleAssignments",
    apiVersion: "2022-04-01",
    scope: "[format('Microsoft.Insights/dataCollectionRules/{0}', parameters('dataCollectionRuleName'))]",
    name: "[guid(resourceGroup().id, parameters('dataCollectionRuleName'), variables('telemetryPrincipal'), 'monitoring-metrics-publisher')]",
    properties: {
      roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${MONITORING_METRICS_PUBLISHER.id}')]`,
      principalId: "[variables('telemetryPrincipal')]",
      principalType: "[parameters('principalType')]",
      description: "gsmcp telemetry: Logs Ingestion into AgentSecurityEvent_CL through this rule only",
    },
  });
  return {
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    contentVersion: "1.0.0.0",
    metadata: {
      description: `Least-privilege roles for policy ${needs.policyName} (${needs.policyHash}), generated by gsmcp policy role. Deploy to the resource group of the Sentinel workspace.`,
    },
    parameters: {
      principalId: {
        type: "string",
        metadata: { description: "Object id of the server's identity (service principal or managed identity)" },
      },
      principalType: {
        type: "string",
        defaultValue: "ServicePrincipal",
        allowedValues: ["ServicePrincipal", "Group", "User"],
      },
      workspaceName: {
        type: "string",
        metadata: {
          description: "The Sentinel (Log Analytics) workspace: roles are assigned on it, not on the resource group",
        },
      },
      ...(roles.length > 1
        ? {
            assignWriteRole: {
              type: "bool",
              defaultValue: false,
              metadata: {
                description:
                  "Assign the write role now (standing). Leave false and assign it time-bound when a write is approved (docs/azure.md, Just-in-time writes)",
              },
            },
          }
        : {}),
      dataCollectionRuleName: {
        type: "string",
        defaultValue: "",
        metadata: { description: "The DCR of AgentSecurityEvent_CL (examples/azure); empty: no telemetry assignment" },
      },
      telemetryPrincipalId: {
        type: "string",
        defaultValue: "",
        metadata: { description: "The identity that sends telemetry, when not the server's own" },
      },
    },
    variables: {
      telemetryPrincipal:
        "[if(empty(parameters('telemetryPrincipalId')), parameters('principalId'), parameters('telemetryPrincipalId'))]",
    },
    resources,
    outputs: Object.fromEntries(
      roles.map(({ kind }) => [`${kind}RoleDefinitionId`, { type: "string", value: defId(kind) }]),
    ),
  };
}

const q = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
const list = (xs: string[], indent: string) =>
  xs.length ? `[\n${xs.map((x) => `${indent}  ${q(x)}`).join("\n")}\n${indent}]` : "[]";

function bicepFile(needs: PolicyNeeds, roles: GeneratedRoles["roles"]): string {
  const out: string[] = [
    `// Least-privilege roles for policy ${needs.policyName} (${needs.policyHash}), generated by gsmcp policy role.`,
    "// Deploy to the resource group of the Sentinel workspace: az deployment group create -g <rg> -f <this file> -p principalId=<object id> workspaceName=<workspace>",
    "",
    "@description('Object id of the server identity (service principal or managed identity)')",
    "param principalId string",
    "param principalType string = 'ServicePrincipal'",
    "@description('The Sentinel (Log Analytics) workspace: roles are assigned on it, not on the resource group')",
    "param workspaceName string",
  ];
  if (roles.length > 1)
    out.push(
      "@description('Assign the write role now (standing); leave false and assign it time-bound when a write is approved (docs/azure.md)')",
      "param assignWriteRole bool = false",
    );
  out.push(
    "@description('The DCR of AgentSecurityEvent_CL; empty: no telemetry assignment')",
    "param dataCollectionRuleName string = ''",
    "@description('The identity that sends telemetry, when it is not the server identity')",
    "param telemetryPrincipalId string = ''",
    "",
    "resource workspace 'Microsoft.OperationalInsights/workspaces@2022-10-01' existing = {",
    "  name: workspaceName",
    "}",
    "",
  );
  for (const { kind, definition: d } of roles) {
    out.push(
      `resource ${kind}Role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {`,
      `  name: guid(resourceGroup().id, 'gsmcp', ${q(needs.policyHash)}, ${q(kind)})`,
      "  properties: {",
      `    roleName: ${q(d.Name)}`,
      `    description: ${q(d.Description)}`,
      "    type: 'customRole'",
      "    permissions: [",
      "      {",
      `        actions: ${list(d.Actions, "        ")}`,
      "        notActions: []",
      `        dataActions: ${list(d.DataActions, "        ")}`,
      "        notDataActions: []",
      "      }",
      "    ]",
      "    assignableScopes: [",
      "      resourceGroup().id",
      "    ]",
      "  }",
      "}",
      "",
      `resource ${kind}Assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = ${kind === "write" ? "if (assignWriteRole) " : ""}{`,
      "  scope: workspace",
      `  name: guid(workspace.id, principalId, ${q(needs.policyHash)}, ${q(kind)})`,
      "  properties: {",
      `    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${kind}Role.name)`,
      "    principalId: principalId",
      "    principalType: principalType",
      "  }",
      "}",
      "",
    );
  }
  out.push(
    "resource dcr 'Microsoft.Insights/dataCollectionRules@2022-06-01' existing = {",
    "  name: empty(dataCollectionRuleName) ? 'none' : dataCollectionRuleName",
    "}",
    "",
    "resource telemetryAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(dataCollectionRuleName)) {",
    "  scope: dcr",
    `  name: guid(dcr.id, empty(telemetryPrincipalId) ? principalId : telemetryPrincipalId, ${q(MONITORING_METRICS_PUBLISHER.id)})`,
    "  properties: {",
    `    // ${MONITORING_METRICS_PUBLISHER.name} (built-in): ${MONITORING_METRICS_PUBLISHER.dataActions.join(", ")}`,
    `    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${q(MONITORING_METRICS_PUBLISHER.id)})`,
    "    principalId: empty(telemetryPrincipalId) ? principalId : telemetryPrincipalId",
    "    principalType: principalType",
    "  }",
    "}",
    "",
  );
  for (const { kind } of roles)
    out.push(
      `output ${kind}RoleDefinitionId string = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${kind}Role.name)`,
    );
  return `${out.join("\n")}\n`;
}
