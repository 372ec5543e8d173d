import { ArmError } from "./arm-core.js";
import { INSIGHTS } from "./arm-entity-insight-queries.js";
import { timeRange } from "./arm-entity-logs.js";
import type { EntityRef } from "./arm-entity-ref.js";
import { providerPrefix } from "./arm-resources.js";
import type { WorkspaceIds } from "./ids.js";
import type { EntityKindName } from "./seed-entities.js";
import type { WorkspaceStore } from "./store.js";

// An entity's insights (POST getInsights: the insight queries' results in a range) and the list of insight queries
// that apply to it (GET queries?kind=Insight).

/** Extends the range back by a day when the caller asks for the insights' default extended range. */
const EXTENDED_RANGE_MS = 86_400_000;

export function insights(store: WorkspaceStore, e: EntityRef, raw: unknown) {
  const { body, start, end } = timeRange(raw);
  const ext = body.addDefaultExtendedTimeRange;
  if (ext !== undefined && typeof ext !== "boolean")
    throw new ArmError(400, "BadRequest", "addDefaultExtendedTimeRange must be a boolean");
  const requested = body.insightQueryIds;
  if (requested !== undefined && (!Array.isArray(requested) || requested.some((q) => typeof q !== "string")))
    throw new ArmError(400, "BadRequest", "insightQueryIds must be an array of insight query ids (GUIDs)");
  const defs = INSIGHTS.filter((d) => d.kind === e.kind);
  const wanted = requested?.length ? (requested as string[]) : defs.map((d) => d.id);
  const from = ext ? start - EXTENDED_RANGE_MS : start;
  const value: unknown[] = [];
  const errors: unknown[] = [];
  for (const qid of wanted) {
    const def = defs.find((d) => d.id === qid.toLowerCase());
    if (!def) {
      errors.push({ kind: "Insight", queryId: qid, errorMessage: `no insight query ${qid} for ${e.kind} entities` });
      continue;
    }
    value.push({
      queryId: def.id,
      queryTimeInterval: { startTime: new Date(from).toISOString(), endTime: new Date(end).toISOString() },
      tableQueryResults: { columns: def.columns, rows: def.rows(store, e, from, end) },
    });
  }
  return { metaData: { totalCount: value.length, ...(errors.length ? { errors } : {}) }, value };
}

const OUTPUT_TYPE = { string: "String", long: "Number", datetime: "Date" } as const;
const ENTITY_TYPE_NAME: Record<EntityKindName, string> = { Account: "Account", Host: "Host", Ip: "IP" };

export function insightQueries(ids: WorkspaceIds, e: EntityRef) {
  return INSIGHTS.filter((d) => d.kind === e.kind).map((d) => ({
    kind: "Insight",
    id: `${providerPrefix(ids)}/entities/${e.id}/queries/${d.id}`,
    name: d.id,
    type: "Microsoft.SecurityInsights/entities/queries",
    properties: {
      displayName: d.displayName,
      description: d.description,
      baseQuery: d.baseQuery,
      inputEntityType: ENTITY_TYPE_NAME[e.kind],
      dataTypes: [{ dataType: d.table }],
      tableQuery: {
        columnsDefinitions: d.columns.map((c) => ({ header: c.name, outputType: OUTPUT_TYPE[c.type] })),
      },
    },
  }));
}
