import { randomUUID } from "node:crypto";
import type { KqlValue } from "../kql/types.js";
import { ArmError, type ArmRequest } from "./arm-core.js";
import type { WorkspaceIds } from "./ids.js";
import { describeProblems, validateBody } from "./spec/validate.js";
import type { StoredResource, WorkspaceStore } from "./store.js";

// Generic ARM CRUD for the SecurityInsights child resources beyond incidents: incident comments, alert rules,
// automation rules, watchlists and watchlist items. Each kind declares its ARM type and what a valid body needs.

export interface Kind {
  /** Store kind. */
  kind: string;
  armType: string;
  /** The SDK model a PUT body must satisfy (validated as Azure does: spec/validate.ts). */
  model: string;
  /** Further checks of the local workspace beyond the spec (what it does not serve). */
  validate?(body: Record<string, unknown>): string | undefined;
  /** Resource-level fields kept outside `properties` (e.g. alert rule `kind`). */
  topLevel?: string[];
  /** Sets the server-managed properties (timestamps, ids) of a PUT, from the stored `prior` properties. */
  stamp?(props: Record<string, unknown>, prior: Record<string, unknown> | undefined, name: string, now: string): void;
}

/** Server-managed fields of a PUT: the client's copies are replaced. */
const keepCreated =
  (created: string, updated: string) =>
  (props: Record<string, unknown>, prior: Record<string, unknown> | undefined, _name: string, now: string) => {
    props[created] = prior?.[created] ?? now;
    props[updated] = now;
  };

export const KINDS: Record<string, Kind> = {
  comments: {
    kind: "comments",
    armType: "Microsoft.SecurityInsights/Incidents/Comments",
    model: "IncidentComment",
    validate: (b) =>
      ((b.properties as Record<string, unknown>).message as string).length <= 30000
        ? undefined
        : "properties.message is longer than 30000 characters",
    stamp: keepCreated("createdTimeUtc", "lastModifiedTimeUtc"),
  },
  alertRules: {
    kind: "alertRules",
    armType: "Microsoft.SecurityInsights/alertRules",
    model: "AlertRule",
    topLevel: ["kind"],
    validate: (b) =>
      b.kind === "Scheduled"
        ? undefined
        : `kind "${String(b.kind)}" is valid, but only Scheduled rules are served by the local workspace`,
    stamp: (props, _prior, _name, now) => {
      props.lastModifiedUtc = now;
    },
  },
  automationRules: {
    kind: "automationRules",
    armType: "Microsoft.SecurityInsights/AutomationRules",
    model: "AutomationRule",
    stamp: keepCreated("createdTimeUtc", "lastModifiedTimeUtc"),
  },
  watchlists: {
    kind: "watchlists",
    armType: "Microsoft.SecurityInsights/Watchlists",
    model: "Watchlist",
    stamp: (props, prior, name, now) => {
      keepCreated("created", "updated")(props, prior, name, now);
      // The resource name is the watchlist's alias.
      props.watchlistAlias = name;
      props.watchlistId = prior?.watchlistId ?? randomUUID();
    },
  },
  watchlistItems: {
    kind: "watchlistItems",
    armType: "Microsoft.SecurityInsights/Watchlists/WatchlistItems",
    model: "WatchlistItem",
    stamp: (props, prior, name, now) => {
      keepCreated("created", "updated")(props, prior, name, now);
      props.watchlistItemId = name;
    },
  },
  relations: {
    kind: "relations",
    armType: "Microsoft.SecurityInsights/Incidents/relations",
    model: "Relation",
    stamp: (props) => {
      // The related resource's name and type are read from its ARM id (e.g. a bookmark of this workspace).
      const rid = String(props.relatedResourceId);
      const m = /\/providers\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(rid);
      props.relatedResourceName = m?.[3] ?? rid.split("/").pop();
      props.relatedResourceType = m ? `${m[1]}/${m[2]}` : undefined;
      delete props.relatedResourceKind;
    },
  },
};

/** Refuses a PUT/POST body the spec rejects, with ARM's 400 (every problem in the message). */
export function assertSpecBody(model: string, body: unknown): void {
  const problems = validateBody(model, body, "request");
  if (problems.length) throw new ArmError(400, "BadRequest", `Invalid ${model}: ${describeProblems(problems)}`);
}

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
      assertSpecBody(k.model, body);
      const problem = k.validate?.(body);
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
      k.stamp?.(props, existing?.body.properties as Record<string, unknown> | undefined, id, now);
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

/**
 * An ARM view of a stored resource, without fields the workspace keeps for itself. `etag: false` for resource types
 * the spec gives no etag (entities, alert rule templates: Resource, not ResourceWithEtag).
 */
export function resourceView(
  prefix: string,
  armType: string,
  r: StoredResource,
  opts: { etag?: boolean } = {},
): Record<string, unknown> {
  const { alertIds: _internal, ...body } = r.body;
  return {
    id: `${prefix}/${r.name}`,
    name: r.name,
    type: armType,
    ...(opts.etag === false ? {} : { etag: r.etag }),
    ...body,
  };
}

/** Case-insensitive comparison key of a log or resource value. */
export const lower = (v: KqlValue) => String(v ?? "").toLowerCase();
