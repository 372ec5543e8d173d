import { randomUUID } from "node:crypto";
import { ArmError, type ArmRequest, compileFilter, compileOrder } from "./arm-core.js";
import { handleDiscovery } from "./arm-discovery.js";
import { incidentEntitiesBody } from "./arm-entities.js";
import { handleBookmarks } from "./arm-hunting.js";
import { assertSpecBody, handleCollection, KINDS, providerPrefix } from "./arm-resources.js";
import type { WorkspaceIds } from "./ids.js";
import { recordWatchlistItemChange } from "./seed-watchlists.js";
import type { StoredResource, WorkspaceStore } from "./store.js";

// The shared pieces live in arm-core.ts, so the route modules need not import this dispatcher (no import cycle).
export { ArmError, type ArmRequest, compileFilter, compileOrder };

// The ARM Microsoft.SecurityInsights surface the local workspace serves: resources shaped like the real API
// (id, name, type, etag, properties), nextLink paging, $filter/$orderby/$top, ARM error bodies.

const PAGE = 50;

function incidentView(ids: WorkspaceIds, r: StoredResource): Record<string, unknown> {
  return {
    id: `${providerPrefix(ids)}/incidents/${r.name}`,
    name: r.name,
    type: "Microsoft.SecurityInsights/Incidents",
    etag: r.etag,
    ...r.body,
  };
}

function alertView(ids: WorkspaceIds, r: StoredResource): Record<string, unknown> {
  return {
    id: `${providerPrefix(ids)}/entities/${r.name}`,
    name: r.name,
    type: "Microsoft.SecurityInsights/Entities",
    ...r.body,
  };
}

export function handleArm(
  store: WorkspaceStore,
  ids: WorkspaceIds,
  req: ArmRequest,
): { status: number; body?: unknown } {
  const [collection, id, sub, subId] = req.segments;
  const prefix = providerPrefix(ids);
  // threatIntelligence/main/indicators/{name}/appendTags is the one five-segment path served.
  if (req.segments.length > (collection === "threatIntelligence" ? 5 : 4))
    throw new ArmError(404, "NotFound", "no such resource path");
  const discovery = handleDiscovery(store, ids, req);
  if (discovery) return discovery;
  if (collection === "bookmarks") return handleBookmarks(store, ids, req);
  if (collection === "alertRules" || collection === "automationRules") {
    if (sub) throw new ArmError(404, "NotFound", `no sub-resource "${sub}" on ${collection}`);
    return handleCollection(store, KINDS[collection]!, `${prefix}/${collection}`, "", id, req);
  }
  if (collection === "watchlists") {
    if (sub === "watchlistItems") {
      if (!store.get("watchlists", id!)) throw new ArmError(404, "NotFound", `watchlist ${id} not found`);
      const out = handleCollection(
        store,
        KINDS.watchlistItems!,
        `${prefix}/watchlists/${id}/watchlistItems`,
        id!,
        subId,
        req,
      );
      // As Sentinel does: every item change is a Watchlist log row, which _GetWatchlist reads.
      if (subId && out.status < 300) recordWatchlistItemChange(store, id!, subId, req.method);
      return out;
    }
    if (sub) throw new ArmError(404, "NotFound", `no sub-resource "${sub}" on watchlists`);
    return handleCollection(store, KINDS.watchlists!, `${prefix}/watchlists`, "", id, req);
  }
  if (collection === "incidents" && sub === "relations") {
    if (!store.get("incidents", id!)) throw new ArmError(404, "NotFound", `incident ${id} not found`);
    return handleCollection(store, KINDS.relations!, `${prefix}/incidents/${id}/relations`, id!, subId, req);
  }
  if (collection === "incidents" && sub === "comments") {
    if (!store.get("incidents", id!)) throw new ArmError(404, "NotFound", `incident ${id} not found`);
    return handleCollection(store, KINDS.comments!, `${prefix}/incidents/${id}/comments`, id!, subId, req);
  }
  if (collection !== "incidents") {
    // ARM's answer for a resource type the provider does not register (the local workspace serves a subset).
    throw new ArmError(
      404,
      "InvalidResourceType",
      `The resource type '${collection}' could not be found in the namespace 'Microsoft.SecurityInsights' for api version '${req.query.get("api-version") ?? ""}'.`,
    );
  }
  if (!id) {
    if (req.method !== "GET")
      throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on the incidents collection`);
    return { status: 200, body: listIncidents(store, ids, req) };
  }
  const existing = store.get("incidents", id);
  if (sub === "alerts" && req.method === "POST") {
    if (!existing) throw new ArmError(404, "NotFound", `incident ${id} not found`);
    return { status: 200, body: { value: store.list("alerts", id).map((a) => alertView(ids, a)) } };
  }
  if (sub === "entities" && req.method === "POST") {
    if (!existing) throw new ArmError(404, "NotFound", `incident ${id} not found`);
    return { status: 200, body: incidentEntitiesBody(store, ids, id) };
  }
  if (sub !== undefined) throw new ArmError(404, "NotFound", `no operation "${sub}" on incidents`);
  switch (req.method) {
    case "GET":
      if (!existing) throw new ArmError(404, "NotFound", `incident ${id} not found`);
      return { status: 200, body: incidentView(ids, existing) };
    case "PUT":
      return putIncident(store, ids, id, existing, req);
    case "DELETE":
      if (!existing) return { status: 204 };
      store.delete("incidents", id);
      return { status: 200 };
    default:
      throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on an incident`);
  }
}

function listIncidents(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest) {
  const filter = compileFilter(req.query.get("$filter"));
  const order = compileOrder(req.query.get("$orderby"));
  const topParam = req.query.get("$top");
  const top = topParam === null ? undefined : Number(topParam);
  if (top !== undefined && (!Number.isInteger(top) || top < 1))
    throw new ArmError(400, "BadRequest", "$top must be a positive integer");
  const skip = Number(req.query.get("$skipToken") ?? 0);
  const all = store
    .list("incidents")
    .filter((r) => filter(r.body.properties as Record<string, unknown>))
    .sort((a, b) => order(a.body.properties as Record<string, unknown>, b.body.properties as Record<string, unknown>));
  const limited = top !== undefined ? all.slice(0, top) : all;
  const page = limited.slice(skip, skip + PAGE);
  const body: { value: unknown[]; nextLink?: string } = { value: page.map((r) => incidentView(ids, r)) };
  if (skip + PAGE < limited.length) {
    const next = new URLSearchParams(req.query);
    next.set("$skipToken", String(skip + PAGE));
    body.nextLink = `${req.baseUrl}${providerPrefix(ids)}/incidents?${next.toString()}`;
  }
  return body;
}

function putIncident(
  store: WorkspaceStore,
  ids: WorkspaceIds,
  id: string,
  existing: StoredResource | undefined,
  req: ArmRequest,
) {
  const body = req.body as { etag?: string; properties?: Record<string, unknown> } | undefined;
  const props = body?.properties;
  if (!props || typeof props !== "object") throw new ArmError(400, "BadRequest", "request body must have properties");
  // Our SDK backend clears a classification on rollback by sending "" (not in the enum; Azure likely refuses it —
  // the backend should omit the fields). Tolerated only on a non-Closed incident, where the fields are dropped anyway.
  if (props.status !== "Closed")
    for (const f of ["classification", "classificationReason"]) if (props[f] === "") delete props[f];
  assertSpecBody("Incident", body);
  if (!props.title) throw new ArmError(400, "BadRequest", "properties.title must not be empty");
  if (props.status === "Closed" && !props.classification)
    throw new ArmError(400, "BadRequest", "closing an incident requires properties.classification");
  const ifMatch = (req.headers["if-match"] as string | undefined) ?? body?.etag;
  if (existing && ifMatch && ifMatch !== "*" && ifMatch !== existing.etag) {
    throw new ArmError(412, "PreconditionFailed", `etag ${ifMatch} does not match the current etag ${existing.etag}`);
  }
  const now = new Date().toISOString();
  const prior = (existing?.body.properties ?? {}) as Record<string, unknown>;
  // Server-managed fields are kept from the stored incident; the client's copies are ignored.
  const incidentNumber = (prior.incidentNumber as number | undefined) ?? 1000 + store.list("incidents").length;
  const owner = (props.owner ?? {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = {
    ...props,
    owner: { ...owner, ownerType: owner.ownerType ?? (owner.objectId || owner.userPrincipalName ? "User" : "Unknown") },
    providerName: prior.providerName ?? "Azure Sentinel",
    providerIncidentId: prior.providerIncidentId ?? String(incidentNumber),
    incidentUrl:
      prior.incidentUrl ?? `https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/${id}`,
    incidentNumber,
    createdTimeUtc: prior.createdTimeUtc ?? now,
    lastModifiedTimeUtc: now,
    additionalData: prior.additionalData ?? {
      alertsCount: 0,
      bookmarksCount: 0,
      commentsCount: 0,
      alertProductNames: [],
      tactics: [],
    },
    relatedAnalyticRuleIds: prior.relatedAnalyticRuleIds ?? [],
  };
  if (merged.status !== "Closed") {
    delete merged.classification;
    delete merged.classificationReason;
    delete merged.classificationComment;
  }
  const etag = `"${randomUUID()}"`;
  store.put("incidents", id, { properties: merged }, etag);
  return { status: existing ? 200 : 201, body: incidentView(ids, store.get("incidents", id)!) };
}
