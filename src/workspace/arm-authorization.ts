import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isAllowed } from "../rbac/effective.js";
import { ArmError } from "./arm-core.js";
import type { WorkspaceIds } from "./ids.js";

// The embedded workspace's identity: which roles the bearer secret "holds", answered at
// GET …/providers/Microsoft.Authorization/permissions (api-version 2022-04-01) at resource-group and workspace scope,
// in Azure's shape (`{ value: [{ actions, notActions, dataActions, notDataActions }] }`, one entry per role). The
// permission check reads it through @azure/arm-authorization exactly as it reads Azure.
//
// Configured by `identity.json` in the workspace directory (or startWorkspace's `identity` option):
//   { "roles": ["reader"] }                                   one or more role sets
//   { "roles": ["custom"], "custom": [{ "actions": [...] }] }  your own entries (e.g. a generated custom role)
// Without it the workspace has no identity configured; the endpoint then answers with the owner set (the secret can
// do everything), and serve and doctor do not check it.

export const IDENTITY_FILE = "identity.json";

export interface PermissionEntry {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export type RoleSetName = "reader" | "responder" | "contributor" | "owner" | "custom";

export interface IdentityConfig {
  roles: RoleSetName[];
  /** Entries of the custom role set. */
  custom?: Partial<PermissionEntry>[];
}

const entry = (p: Partial<PermissionEntry>): PermissionEntry => ({
  actions: [...(p.actions ?? [])],
  notActions: [...(p.notActions ?? [])],
  dataActions: [...(p.dataActions ?? [])],
  notDataActions: [...(p.notDataActions ?? [])],
});

/**
 * The built-in roles as Microsoft publishes them (src/rbac/operations.ts SOURCES: builtin-security for the Sentinel
 * roles, 2025-01-25; Contributor and Owner from the built-in roles page's privileged section).
 */
export const ROLE_SETS: Record<Exclude<RoleSetName, "custom">, PermissionEntry> = {
  // Microsoft Sentinel Reader, 8d289c81-5878-46d4-8554-54e1e3d8b5cb
  reader: entry({
    actions: [
      "Microsoft.SecurityInsights/*/read",
      "Microsoft.SecurityInsights/dataConnectorsCheckRequirements/action",
      "Microsoft.SecurityInsights/threatIntelligence/indicators/query/action",
      "Microsoft.SecurityInsights/threatIntelligence/queryIndicators/action",
      "Microsoft.OperationalInsights/workspaces/analytics/query/action",
      "Microsoft.OperationalInsights/workspaces/*/read",
      "Microsoft.OperationalInsights/workspaces/LinkedServices/read",
      "Microsoft.OperationalInsights/workspaces/savedSearches/read",
      "Microsoft.OperationsManagement/solutions/read",
      "Microsoft.OperationalInsights/workspaces/query/read",
      "Microsoft.OperationalInsights/workspaces/query/*/read",
      "Microsoft.OperationalInsights/querypacks/*/read",
      "Microsoft.OperationalInsights/workspaces/dataSources/read",
      "Microsoft.Insights/workbooks/read",
      "Microsoft.Insights/myworkbooks/read",
      "Microsoft.Authorization/*/read",
      "Microsoft.Insights/alertRules/*",
      "Microsoft.Resources/deployments/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Resources/templateSpecs/*/read",
      "Microsoft.Support/*",
    ],
    notActions: [
      "Microsoft.SecurityInsights/ConfidentialWatchlists/*",
      "Microsoft.OperationalInsights/workspaces/query/ConfidentialWatchlist/*",
    ],
  }),
  // Microsoft Sentinel Responder, 3e150937-b8fe-4cfb-8069-0eaf05ecd056
  responder: entry({
    actions: [
      "Microsoft.SecurityInsights/*/read",
      "Microsoft.SecurityInsights/dataConnectorsCheckRequirements/action",
      "Microsoft.SecurityInsights/automationRules/*",
      "Microsoft.SecurityInsights/cases/*",
      "Microsoft.SecurityInsights/incidents/*",
      "Microsoft.SecurityInsights/entities/runPlaybook/action",
      "Microsoft.SecurityInsights/threatIntelligence/indicators/appendTags/action",
      "Microsoft.SecurityInsights/threatIntelligence/indicators/query/action",
      "Microsoft.SecurityInsights/threatIntelligence/bulkTag/action",
      "Microsoft.SecurityInsights/threatIntelligence/indicators/appendTags/action",
      "Microsoft.SecurityInsights/threatIntelligence/indicators/replaceTags/action",
      "Microsoft.SecurityInsights/threatIntelligence/queryIndicators/action",
      "Microsoft.SecurityInsights/businessApplicationAgents/systems/undoAction/action",
      "Microsoft.OperationalInsights/workspaces/analytics/query/action",
      "Microsoft.OperationalInsights/workspaces/*/read",
      "Microsoft.OperationalInsights/workspaces/dataSources/read",
      "Microsoft.OperationalInsights/workspaces/savedSearches/read",
      "Microsoft.OperationsManagement/solutions/read",
      "Microsoft.OperationalInsights/workspaces/query/read",
      "Microsoft.OperationalInsights/workspaces/query/*/read",
      "Microsoft.OperationalInsights/workspaces/dataSources/read",
      "Microsoft.OperationalInsights/querypacks/*/read",
      "Microsoft.Insights/workbooks/read",
      "Microsoft.Insights/myworkbooks/read",
      "Microsoft.Authorization/*/read",
      "Microsoft.Insights/alertRules/*",
      "Microsoft.Resources/deployments/*",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Support/*",
    ],
    notActions: [
      "Microsoft.SecurityInsights/cases/*/Delete",
      "Microsoft.SecurityInsights/incidents/*/Delete",
      "Microsoft.SecurityInsights/ConfidentialWatchlists/*",
      "Microsoft.OperationalInsights/workspaces/query/ConfidentialWatchlist/*",
    ],
  }),
  // Contributor, b24988ac-6180-42a0-ab88-20f7382dd24c: everything but access management
  contributor: entry({
    actions: ["*"],
    notActions: [
      "Microsoft.Authorization/*/Delete",
      "Microsoft.Authorization/*/Write",
      "Microsoft.Authorization/elevateAccess/Action",
      "Microsoft.Blueprint/blueprintAssignments/write",
      "Microsoft.Blueprint/blueprintAssignments/delete",
      "Microsoft.Compute/galleries/share/action",
    ],
  }),
  // Owner, 8e3af657-a8ff-443c-a75c-2fe8c4bcb635
  owner: entry({ actions: ["*"] }),
};

const SET_NAMES = ["reader", "responder", "contributor", "owner", "custom"] as const;

/** A configuration problem, naming the field and the fix. */
export class IdentityConfigError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "IdentityConfigError";
  }
}

const strings = (v: unknown, field: string): string[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.length === 0 || x.length > 512))
    throw new IdentityConfigError(
      `${field} is not a list of operation strings`,
      `write ${field} as ["Microsoft.SecurityInsights/incidents/read", …]`,
    );
  return v as string[];
};

/** Checks a configuration; every problem names its field (`where` is the file). */
export function validateIdentityConfig(raw: unknown, where = IDENTITY_FILE): IdentityConfig {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new IdentityConfigError(`${where} is not an object`, `write {"roles": ["reader"]}`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== "roles" && k !== "custom")
      throw new IdentityConfigError(`${where}: unknown field "${k}"`, `use "roles" and (for the custom set) "custom"`);
  if (!Array.isArray(o.roles) || o.roles.length === 0)
    throw new IdentityConfigError(
      `${where} roles must be a non-empty list`,
      `e.g. {"roles": ["reader"]} (sets: ${SET_NAMES.join(", ")})`,
    );
  const roles = o.roles.map((r, i) => {
    if (typeof r !== "string" || !(SET_NAMES as readonly string[]).includes(r))
      throw new IdentityConfigError(
        `${where} roles[${i}]: ${JSON.stringify(r)} is not a role set`,
        `use one of ${SET_NAMES.join(", ")}`,
      );
    return r as RoleSetName;
  });
  let custom: Partial<PermissionEntry>[] | undefined;
  if (o.custom !== undefined) {
    if (!Array.isArray(o.custom))
      throw new IdentityConfigError(
        `${where} custom must be a list of permission entries`,
        `write [{"actions": [...]}]`,
      );
    custom = o.custom.map((c, i) => {
      const f = `${where} custom[${i}]`;
      if (!c || typeof c !== "object" || Array.isArray(c))
        throw new IdentityConfigError(`${f} is not an object`, `write {"actions": [...], "notActions": [...]}`);
      const e = c as Record<string, unknown>;
      for (const k of Object.keys(e))
        if (!["actions", "notActions", "dataActions", "notDataActions"].includes(k))
          throw new IdentityConfigError(
            `${f}: unknown field "${k}"`,
            "use actions, notActions, dataActions, notDataActions (Azure's names)",
          );
      return {
        actions: strings(e.actions, `${f}.actions`),
        notActions: strings(e.notActions, `${f}.notActions`),
        dataActions: strings(e.dataActions, `${f}.dataActions`),
        notDataActions: strings(e.notDataActions, `${f}.notDataActions`),
      };
    });
  }
  if (roles.includes("custom") && !custom?.length)
    throw new IdentityConfigError(
      `${where}: role set "custom" needs a non-empty custom list`,
      `add "custom": [{"actions": [...]}] (e.g. the Actions of gsmcp policy role)`,
    );
  if (custom && !roles.includes("custom"))
    throw new IdentityConfigError(
      `${where}: "custom" entries are given but roles does not list "custom"`,
      `add "custom" to roles`,
    );
  return { roles, ...(custom ? { custom } : {}) };
}

/** The workspace directory's identity.json; undefined when there is none. Throws IdentityConfigError when bad. */
export function readIdentityConfig(dir: string): IdentityConfig | undefined {
  const file = join(dir, IDENTITY_FILE);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new IdentityConfigError(`${file} is not JSON (${(e as Error).message})`, `write {"roles": ["reader"]}`);
  }
  return validateIdentityConfig(raw, file);
}

/** The permissions entries an identity holds: one per role set, as Azure answers one per role assignment. */
export function permissionEntries(config: IdentityConfig | undefined): PermissionEntry[] {
  if (!config) return [ROLE_SETS.owner];
  return config.roles.flatMap((r) => (r === "custom" ? (config.custom ?? []).map(entry) : [ROLE_SETS[r]]));
}

/**
 * Serves GET …/providers/Microsoft.Authorization/permissions for the workspace's resource group or the workspace
 * itself (any parent path the SDK sends, including the empty one: `…/Microsoft.OperationalInsights//workspaces/…`).
 * Returns undefined when the path is not a permissions path, so the router tries its other routes.
 */
export function handlePermissions(
  ids: WorkspaceIds,
  identity: () => IdentityConfig | undefined,
  req: { method: string; path: string; query: URLSearchParams },
): { status: number; body: unknown } | undefined {
  const lower = req.path.toLowerCase().replace(/\/{2,}/g, "/");
  if (!lower.endsWith("/providers/microsoft.authorization/permissions")) return undefined;
  if (req.method !== "GET")
    throw new ArmError(405, "MethodNotAllowed", `${req.method} is not supported on permissions`);
  if (!req.query.get("api-version"))
    throw new ArmError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  const rg = `/subscriptions/${ids.subscriptionId}/resourcegroups/${ids.resourceGroup}`.toLowerCase();
  const scope = lower.slice(0, -"/providers/microsoft.authorization/permissions".length);
  const workspace = `${rg}/providers/microsoft.operationalinsights/workspaces/${ids.workspaceName}`.toLowerCase();
  if (scope !== rg && scope !== workspace)
    throw new ArmError(404, "ResourceNotFound", `no resource at ${scope} in this workspace's resource group`);
  return { status: 200, body: { value: permissionEntries(identity()) } };
}

/**
 * The operation ARM authorizes a request as: the provider, the resource type path (the type segments, not the names),
 * then read (GET), write (PUT, PATCH), delete (DELETE) or `<last segment>/action` (POST). `segments` follow the
 * provider (`incidents/{id}/comments/{id}`); saved searches sit under Microsoft.OperationalInsights/workspaces.
 */
export function armOperationOf(method: string, segments: readonly string[], provider: string): string {
  const typesOf = (segs: readonly string[]) => segs.filter((_, i) => i % 2 === 0).join("/");
  if (method === "POST" && segments.length > 1 && segments.length % 2 === 1)
    return `${provider}/${typesOf(segments.slice(0, -1))}/${segments.at(-1)}/action`;
  const verb = method === "GET" ? "read" : method === "DELETE" ? "delete" : method === "POST" ? "action" : "write";
  return `${provider}/${typesOf(segments)}/${verb}`;
}

/**
 * Refuses a request the configured identity may not make, as ARM does (403 AuthorizationFailed, naming the action and
 * the scope). Without a configured identity nothing is enforced (the secret is owner).
 */
export function authorizeRequest(
  identity: IdentityConfig | undefined,
  operation: string,
  scope: string,
  kind: "action" | "dataAction" = "action",
): void {
  if (!identity) return;
  if (isAllowed(permissionEntries(identity), operation, kind)) return;
  throw new ArmError(
    403,
    "AuthorizationFailed",
    `The client does not have authorization to perform action '${operation}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}
