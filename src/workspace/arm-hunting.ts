import { randomUUID } from "node:crypto";
import { ArmError, type ArmRequest } from "./arm-core.js";
import { assertSpecBody, handleCollection, providerPrefix, view } from "./arm-resources.js";
import type { WorkspaceIds } from "./ids.js";
import type { WorkspaceStore } from "./store.js";

// Hunting surface of the local workspace: Log Analytics saved searches (Microsoft.OperationalInsights, api-version
// 2020-08-01; Sentinel's hunting queries are the "Hunting Queries" category) and Sentinel bookmarks
// (Microsoft.SecurityInsights, 2022-09-01-preview). Shapes follow SavedSearches.json and Bookmarks.json.

const SAVED_SEARCH = {
  kind: "savedSearches",
  armType: "Microsoft.OperationalInsights/savedSearches",
  // Microsoft.OperationalInsights: not a SecurityInsights model; PUT is checked by hand below.
  model: "SavedSearch",
};
const BOOKMARK = {
  kind: "bookmarks",
  armType: "Microsoft.SecurityInsights/Bookmarks",
  model: "Bookmark",
  validate: (b: Record<string, unknown>) => bookmarkProblem(b),
};

const MAX_QUERY = 10_000;

function workspacePrefix(ids: WorkspaceIds): string {
  return `/subscriptions/${ids.subscriptionId}/resourceGroups/${ids.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ids.workspaceName}`;
}

/** `segments`: the path below .../workspaces/{name}/, e.g. ["savedSearches", id]. */
export function handleSavedSearches(
  store: WorkspaceStore,
  ids: WorkspaceIds,
  req: ArmRequest,
): { status: number; body?: unknown } {
  const [, id, extra] = req.segments;
  if (extra !== undefined) throw new ArmError(404, "NotFound", "no such resource path under savedSearches");
  const prefix = `${workspacePrefix(ids)}/savedSearches`;
  const show = (name: string) => view(prefix, SAVED_SEARCH, store.get(SAVED_SEARCH.kind, name)!);
  if (!id) {
    if (req.method !== "GET")
      throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on savedSearches`);
    // The real API returns the whole list in one response (x-ms-pageable with no nextLink).
    return { status: 200, body: { value: store.list(SAVED_SEARCH.kind).map((r) => show(r.name)) } };
  }
  const existing = store.get(SAVED_SEARCH.kind, id);
  switch (req.method) {
    case "GET":
      if (!existing) throw new ArmError(404, "ResourceNotFound", `saved search ${id} not found`);
      return { status: 200, body: show(id) };
    case "PUT": {
      const body = (req.body ?? {}) as { etag?: string; properties?: Record<string, unknown> };
      const p = body.properties;
      if (!p || typeof p !== "object") throw new ArmError(400, "BadRequest", "request body must have properties");
      for (const f of ["category", "displayName", "query"])
        if (typeof p[f] !== "string" || !p[f]) throw new ArmError(400, "BadRequest", `properties.${f} is required`);
      if ((p.query as string).length > MAX_QUERY)
        throw new ArmError(400, "BadRequest", `properties.query is longer than ${MAX_QUERY} characters`);
      const tags = p.tags ?? [];
      if (!Array.isArray(tags) || !tags.every((t) => typeof t?.name === "string" && typeof t?.value === "string"))
        throw new ArmError(400, "BadRequest", "properties.tags must be a list of {name, value} strings");
      if (existing && body.etag && body.etag !== "*" && body.etag !== existing.etag)
        throw new ArmError(409, "Conflict", `etag ${body.etag} does not match the current etag ${existing.etag}`);
      const props = {
        category: p.category,
        displayName: p.displayName,
        query: p.query,
        ...(typeof p.functionAlias === "string" ? { functionAlias: p.functionAlias } : {}),
        ...(typeof p.functionParameters === "string" ? { functionParameters: p.functionParameters } : {}),
        version: typeof p.version === "number" ? p.version : 2,
        tags,
      };
      store.put(SAVED_SEARCH.kind, id, { properties: props }, `W/"datetime'${new Date().toISOString()}'"`);
      return { status: 200, body: show(id) };
    }
    case "DELETE":
      store.delete(SAVED_SEARCH.kind, id);
      return { status: 200 };
    default:
      throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on a saved search`);
  }
}

function bookmarkProblem(b: Record<string, unknown>): string | undefined {
  const p = (b.properties ?? {}) as Record<string, unknown>;
  if (typeof p.displayName !== "string" || !p.displayName) return "properties.displayName is required";
  if (typeof p.query !== "string" || !p.query) return "properties.query is required";
  if (p.query.length > MAX_QUERY) return `properties.query is longer than ${MAX_QUERY} characters`;
  for (const f of ["eventTime", "queryStartTime", "queryEndTime"])
    if (p[f] !== undefined && Number.isNaN(Date.parse(String(p[f])))) return `properties.${f} must be a date-time`;
  return undefined;
}

/** `segments`: below .../providers/Microsoft.SecurityInsights/, e.g. ["bookmarks", id]. */
export function handleBookmarks(
  store: WorkspaceStore,
  ids: WorkspaceIds,
  req: ArmRequest,
): { status: number; body?: unknown } {
  const [, id, sub] = req.segments;
  if (sub !== undefined) throw new ArmError(404, "NotFound", `no sub-resource "${sub}" on bookmarks`);
  const prefix = `${providerPrefix(ids)}/bookmarks`;
  if (req.method !== "PUT" || !id) return handleCollection(store, BOOKMARK, prefix, "", id, req);
  const body = (req.body ?? {}) as { etag?: string; properties?: Record<string, unknown> };
  if (typeof body.properties !== "object" || body.properties === null)
    throw new ArmError(400, "BadRequest", "request body must have properties");
  assertSpecBody(BOOKMARK.model, body);
  const problem = bookmarkProblem(body);
  if (problem) throw new ArmError(400, "BadRequest", problem);
  const existing = store.get(BOOKMARK.kind, id);
  const ifMatch = (req.headers["if-match"] as string | undefined) ?? body.etag;
  if (existing && ifMatch && ifMatch !== "*" && ifMatch !== existing.etag)
    throw new ArmError(412, "PreconditionFailed", `etag ${ifMatch} does not match the current etag ${existing.etag}`);
  // created / updated are server-managed: the client's copies are ignored.
  const now = new Date().toISOString();
  const prior = (existing?.body.properties ?? {}) as Record<string, unknown>;
  const props = { ...body.properties, created: prior.created ?? now, updated: now };
  store.put(BOOKMARK.kind, id, { properties: props }, `"${randomUUID()}"`);
  return { status: existing ? 200 : 201, body: view(prefix, BOOKMARK, store.get(BOOKMARK.kind, id)!) };
}
