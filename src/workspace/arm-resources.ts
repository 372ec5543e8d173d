import { randomUUID } from "node:crypto";
import type { KqlValue } from "../kql/types.js";
import { ArmError, type ArmRequest } from "./arm-core.js";
import type { WorkspaceIds } from "./ids.js";
import type { StoredResource, WorkspaceStore } from "./store.js";

// Generic ARM CRUD for the SecurityInsights child resources beyond incidents: incident comments, alert rules,
// automation rules, watchlists and watchlist items. Each kind declares its ARM type and what a valid body needs.

interface Kind {
  /** Store kind. */
  kind: string;
  armType: string;
  /** Required properties (validated on PUT). */
  validate(body: Record<string, unknown>): string | undefined;
  /** Resource-level fields kept outside `properties` (e.g. alert rule `kind`). */
  topLevel?: string[];
}

const req = (props: Record<string, unknown>, names: string[]) =>
  names.find((n) => props[n] === undefined || props[n] === "");

export const KINDS: Record<string, Kind> = {
  comments: {
    kind: "comments",
    armType: "Microsoft.SecurityInsights/Incidents/Comments",
    validate: (b) =>
      typeof (b.properties as Record<string, unknown>)?.message === "string" &&
      ((b.properties as Record<string, unknown>).message as string).length <= 30000
        ? undefined
        : "properties.message is required (at most 30000 characters)",
  },
  alertRules: {
    kind: "alertRules",
    armType: "Microsoft.SecurityInsights/alertRules",
    topLevel: ["kind"],
    validate: (b) => {
      if (b.kind !== "Scheduled")
        return `kind must be "Scheduled" (other rule kinds are not served by the local workspace)`;
      const missing = req((b.properties ?? {}) as Record<string, unknown>, [
        "displayName",
        "query",
        "queryFrequency",
        "queryPeriod",
        "severity",
        "triggerOperator",
        "triggerThreshold",
      ]);
      if (missing) return `properties.${missing} is required`;
      if (typeof (b.properties as Record<string, unknown>).enabled !== "boolean")
        return "properties.enabled is required";
      return undefined;
    },
  },
  automationRules: {
    kind: "automationRules",
    armType: "Microsoft.SecurityInsights/AutomationRules",
    validate: (b) => {
      const missing = req((b.properties ?? {}) as Record<string, unknown>, [
        "displayName",
        "order",
        "triggeringLogic",
        "actions",
      ]);
      return missing ? `properties.${missing} is required` : undefined;
    },
  },
  watchlists: {
    kind: "watchlists",
    armType: "Microsoft.SecurityInsights/Watchlists",
    validate: (b) => {
      const missing = req((b.properties ?? {}) as Record<string, unknown>, [
        "displayName",
        "provider",
        "itemsSearchKey",
      ]);
      return missing ? `properties.${missing} is required` : undefined;
    },
  },
  watchlistItems: {
    kind: "watchlistItems",
    armType: "Microsoft.SecurityInsights/Watchlists/WatchlistItems",
    validate: (b) =>
      typeof (b.properties as Record<string, unknown>)?.itemsKeyValue === "object"
        ? undefined
        : "properties.itemsKeyValue is required",
  },
};

export function view(prefix: string, k: Kind, r: StoredResource): Record<string, unknown> {
  return { id: `${prefix}/${r.name}`, name: r.name, type: k.armType, etag: r.etag, ...r.body };
}

/** Handles list/get/put/delete of one child collection. `parent` scopes comments and items. */
export function handleCollection(
  store: WorkspaceStore,
  k: Kind,
  prefix: string,
  parent: string,
  id: string | undefined,
  r: ArmRequest,
): { status: number; body?: unknown } {
  if (!id) {
    if (r.method !== "GET") throw new ArmError(405, "MethodNotAllowed", `${r.method} is not allowed on a collection`);
    const top = r.query.get("$top");
    const all = store.list(k.kind, parent).map((x) => view(prefix, k, x));
    return { status: 200, body: { value: top ? all.slice(0, Number(top)) : all } };
  }
  const existing = store.get(k.kind, id, parent);
  switch (r.method) {
    case "GET":
      if (!existing) throw new ArmError(404, "NotFound", `${k.kind} ${id} not found`);
      return { status: 200, body: view(prefix, k, existing) };
    case "PUT": {
      const body = (r.body ?? {}) as Record<string, unknown>;
      if (typeof body.properties !== "object" || body.properties === null)
        throw new ArmError(400, "BadRequest", "request body must have properties");
      const problem = k.validate(body);
      if (problem) throw new ArmError(400, "BadRequest", problem);
      const ifMatch = (r.headers["if-match"] as string | undefined) ?? (body.etag as string | undefined);
      if (existing && ifMatch && ifMatch !== "*" && ifMatch !== existing.etag) {
        throw new ArmError(
          412,
          "PreconditionFailed",
          `etag ${ifMatch} does not match the current etag ${existing.etag}`,
        );
      }
      const now = new Date().toISOString();
      const props = { ...(body.properties as Record<string, unknown>) };
      if (k.kind === "comments") {
        props.createdTimeUtc =
          (existing?.body.properties as Record<string, unknown> | undefined)?.createdTimeUtc ?? now;
        props.lastModifiedTimeUtc = now;
      } else props.lastModifiedUtc = now;
      const stored: Record<string, unknown> = { properties: props };
      for (const f of k.topLevel ?? []) stored[f] = body[f];
      store.put(k.kind, id, stored, `"${randomUUID()}"`, parent);
      return { status: existing ? 200 : 201, body: view(prefix, k, store.get(k.kind, id, parent)!) };
    }
    case "DELETE":
      if (!existing) return { status: 204 };
      store.delete(k.kind, id, parent);
      return { status: 200 };
    default:
      throw new ArmError(405, "MethodNotAllowed", `${r.method} is not allowed here`);
  }
}

export function providerPrefix(ids: WorkspaceIds): string {
  return `/subscriptions/${ids.subscriptionId}/resourceGroups/${ids.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ids.workspaceName}/providers/Microsoft.SecurityInsights`;
}

export function requireMethod(req: ArmRequest, method: string, what: string): void {
  if (req.method !== method)
    throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on ${what}; use ${method}`);
}

/** An ARM view of a stored resource, without fields the workspace keeps for itself. */
export function resourceView(prefix: string, armType: string, r: StoredResource): Record<string, unknown> {
  const { alertIds: _internal, ...body } = r.body;
  return { id: `${prefix}/${r.name}`, name: r.name, type: armType, etag: r.etag, ...body };
}

/** Case-insensitive comparison key of a log or resource value. */
export const lower = (v: KqlValue) => String(v ?? "").toLowerCase();
