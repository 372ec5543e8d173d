import { ArmError, type ArmRequest } from "./arm-core.js";
import { insightQueries, insights } from "./arm-entity-insights.js";
import { entityRef } from "./arm-entity-ref.js";
import { timeline } from "./arm-entity-timeline.js";
import { providerPrefix, requireMethod, resourceView } from "./arm-resources.js";
import { matchingIndicators } from "./arm-threat-intel.js";
import type { WorkspaceIds } from "./ids.js";
import type { StoredResource, WorkspaceStore } from "./store.js";

// Entities of the local workspace (get, getTimeline, getInsights, queries), shaped like Microsoft.SecurityInsights
// 2022-09-01-preview. Timelines and insights are computed from the workspace's log tables, not canned: see
// arm-entity-timeline (with the activities of arm-entity-activities) and arm-entity-insights (with the queries of
// arm-entity-insight-queries).

type Result = { status: number; body?: unknown };

const ENTITY_TYPE = "Microsoft.SecurityInsights/Entities";

function entityView(store: WorkspaceStore, ids: WorkspaceIds, r: StoredResource): Record<string, unknown> {
  const view = resourceView(`${providerPrefix(ids)}/entities`, ENTITY_TYPE, r, { etag: false });
  const e = entityRef(r);
  if (e.kind !== "Ip") return view;
  // An IP entity carries the TI context of indicators that match it, as the real entity page does.
  const ti = matchingIndicators(store, e.props.address as string, Date.now(), Date.now()).map((p) => ({
    confidence: p.confidence,
    providerName: p.source,
    threatDescription: p.description,
    threatName: p.displayName,
    threatType: ((p.threatTypes as string[] | undefined) ?? []).join(", "),
  }));
  return { ...view, properties: { ...(view.properties as Record<string, unknown>), threatIntelligence: ti } };
}

/** Entities of an incident: those linked to any of its alerts, first-seen order. */
export function incidentEntitiesBody(store: WorkspaceStore, ids: WorkspaceIds, incidentId: string): unknown {
  const alertIds = new Set(store.list("alerts", incidentId).map((a) => a.name));
  const related = store
    .list("entities")
    .filter((r) => ((r.body.alertIds as string[] | undefined) ?? []).some((a) => alertIds.has(a)));
  const counts = new Map<string, number>();
  for (const r of related) counts.set(String(r.body.kind), (counts.get(String(r.body.kind)) ?? 0) + 1);
  return {
    entities: related.map((r) => entityView(store, ids, r)),
    metaData: [...counts].map(([entityKind, count]) => ({ count, entityKind })),
  };
}

export function entities(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest): Result {
  const [, id, sub] = req.segments;
  if (!id) {
    requireMethod(req, "GET", "the entities collection");
    return { status: 200, body: { value: store.list("entities").map((r) => entityView(store, ids, r)) } };
  }
  const r = store.get("entities", id);
  if (!r) throw new ArmError(404, "NotFound", `entity ${id} not found`);
  const e = entityRef(r);
  switch (sub) {
    case undefined:
      requireMethod(req, "GET", "an entity");
      return { status: 200, body: entityView(store, ids, r) };
    case "getTimeline":
      requireMethod(req, "POST", "getTimeline");
      return { status: 200, body: timeline(store, ids, e, req.body) };
    case "getInsights":
      requireMethod(req, "POST", "getInsights");
      return { status: 200, body: insights(store, e, req.body) };
    case "queries": {
      requireMethod(req, "GET", "queries");
      const kind = req.query.get("kind");
      if (kind !== "Insight")
        throw new ArmError(400, "BadRequest", `query parameter kind must be "Insight" (got "${kind ?? ""}")`);
      return { status: 200, body: { value: insightQueries(ids, e) } };
    }
    default:
      throw new ArmError(404, "NotFound", `no operation "${sub}" on entities`);
  }
}
