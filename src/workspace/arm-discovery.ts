import { ArmError, type ArmRequest } from "./arm-core.js";
import { entities } from "./arm-entities.js";
import { providerPrefix, requireMethod, resourceView } from "./arm-resources.js";
import { createIndicator, indicator, listIndicators, queryIndicators } from "./arm-threat-intel.js";
import type { WorkspaceIds } from "./ids.js";
import type { WorkspaceStore } from "./store.js";

// Discovery routes of the local workspace, shaped like Microsoft.SecurityInsights 2022-09-01-preview:
// alertRuleTemplates and dataConnectors (read-only, here), entities (arm-entities.ts) and threatIntelligence
// (arm-threat-intel.ts).

type Result = { status: number; body?: unknown };

/** Routes a discovery request; undefined when the path is not a discovery resource. */
export function handleDiscovery(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest): Result | undefined {
  const [collection, id, sub] = req.segments;
  switch (collection) {
    case "alertRuleTemplates":
      // AlertRuleTemplate is a plain Resource in the spec: no etag.
      return readOnlyCollection(
        store,
        ids,
        req,
        "alertRuleTemplates",
        "Microsoft.SecurityInsights/AlertRuleTemplates",
        {
          etag: false,
        },
      );
    case "dataConnectors":
      return readOnlyCollection(store, ids, req, "dataConnectors", "Microsoft.SecurityInsights/dataConnectors", {});
    case "entities":
      return entities(store, ids, req);
    case "threatIntelligence":
      if (id !== "main") throw new ArmError(404, "NotFound", `threat intelligence container "${id}" not found`);
      if (sub === "indicators") return req.segments[3] ? indicator(store, ids, req) : listIndicators(store, ids, req);
      if (sub === "queryIndicators") return queryIndicators(store, ids, req);
      if (sub === "createIndicator") return createIndicator(store, ids, req);
      throw new ArmError(404, "NotFound", `no operation "${sub ?? ""}" on threatIntelligence/main`);
    default:
      return undefined;
  }
}

/** GET list / GET one of a collection the local workspace serves read-only. */
function readOnlyCollection(
  store: WorkspaceStore,
  ids: WorkspaceIds,
  req: ArmRequest,
  kind: string,
  armType: string,
  opts: { etag?: boolean },
): Result {
  const [, id, sub] = req.segments;
  if (sub) throw new ArmError(404, "NotFound", `no sub-resource "${sub}" on ${kind}`);
  requireMethod(req, "GET", kind);
  const prefix = `${providerPrefix(ids)}/${kind}`;
  if (!id) return { status: 200, body: { value: store.list(kind).map((r) => resourceView(prefix, armType, r, opts)) } };
  const r = store.get(kind, id);
  if (!r) throw new ArmError(404, "NotFound", `${kind} ${id} not found`);
  return { status: 200, body: resourceView(prefix, armType, r, opts) };
}
