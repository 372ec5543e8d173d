import type {
  ActivityTimelineItem,
  AlertRuleTemplateUnion,
  AnomalyTimelineItem,
  BookmarkTimelineItem,
  DataConnectorUnion,
  EntityGetInsightsResponse,
  EntityQueryItemUnion,
  EntityTimelineItemUnion,
  EntityTimelineResponse,
  EntityUnion,
  InsightQueryItem,
  ScheduledAlertRuleTemplate,
  SecurityAlertTimelineItem,
  ThreatIntelligenceFilteringCriteria,
  ThreatIntelligenceIndicatorModel,
  ThreatIntelligenceInformationUnion,
} from "@azure/arm-securityinsight";
import type {
  AlertRuleTemplateSummary,
  DataConnectorSummary,
  EntityDetail,
  EntityInsights,
  EntityTimeline,
  IndicatorQuery,
  IndicatorSummary,
  TimelineItem,
} from "./discovery-types.js";

// Mapping between the SDK models of entities, timelines, insights, TI indicators, alert rule templates and data
// connectors and the backend's summaries.

function iso(d: Date | string | undefined): string | undefined {
  return d instanceof Date ? d.toISOString() : d;
}

/** Present fields only, so optional output fields are absent rather than undefined. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as T;
}

const RESOURCE_FIELDS = new Set(["id", "name", "type", "kind", "systemData", "etag"]);

export function toEntityDetail(e: EntityUnion): EntityDetail {
  // The SDK flattens `properties.*` onto the model; what is left after the resource fields is the entity's data.
  const properties = Object.fromEntries(
    Object.entries(e as unknown as Record<string, unknown>).filter(
      ([k, v]) => !RESOURCE_FIELDS.has(k) && v !== undefined,
    ),
  );
  const friendly = (e as { friendlyName?: string }).friendlyName;
  return { id: e.name ?? "", kind: String(e.kind), name: friendly ?? e.name ?? "", properties };
}

function toTimelineItem(item: EntityTimelineItemUnion): TimelineItem {
  // The union includes the base type, so each kind is narrowed by its discriminator explicitly.
  switch (item.kind) {
    case "Activity": {
      const i = item as ActivityTimelineItem;
      return defined({
        kind: "Activity",
        time: iso(i.lastActivityTimeUTC) ?? "",
        title: i.title,
        description: i.content,
        queryId: i.queryId,
        bucketStart: iso(i.bucketStartTimeUTC),
        bucketEnd: iso(i.bucketEndTimeUTC),
        firstActivity: iso(i.firstActivityTimeUTC),
        lastActivity: iso(i.lastActivityTimeUTC),
      });
    }
    case "SecurityAlert": {
      const i = item as SecurityAlertTimelineItem;
      return defined({
        kind: "SecurityAlert",
        time: iso(i.timeGenerated) ?? "",
        title: i.displayName,
        description: i.description,
        severity: i.severity,
        product: i.productName,
        alertId: i.azureResourceId.split("/").at(-1),
      });
    }
    case "Anomaly": {
      const i = item as AnomalyTimelineItem;
      return defined({
        kind: "Anomaly",
        time: iso(i.timeGenerated) ?? "",
        title: i.displayName,
        description: i.description,
        product: i.productName,
      });
    }
    case "Bookmark": {
      const i = item as BookmarkTimelineItem;
      return defined({
        kind: "Bookmark",
        time: iso(i.eventTime) ?? iso(i.startTimeUtc) ?? "",
        title: i.displayName ?? "",
        description: i.notes,
      });
    }
    default:
      return { kind: String((item as { kind?: string }).kind), time: "", title: "" };
  }
}

export function toTimeline(r: EntityTimelineResponse): EntityTimeline {
  return {
    items: (r.value ?? []).map(toTimelineItem),
    totalCount: r.metaData?.totalCount ?? r.value?.length ?? 0,
    aggregations: (r.metaData?.aggregations ?? []).map((a) => ({ kind: String(a.kind), count: a.count })),
    errors: (r.metaData?.errors ?? []).map((e) => `${e.kind}${e.queryId ? ` ${e.queryId}` : ""}: ${e.errorMessage}`),
  };
}

/** Insight results joined with the insight query definitions (for their titles). */
export function toInsights(r: EntityGetInsightsResponse, queries: EntityQueryItemUnion[]): EntityInsights {
  const defs = new Map(
    queries.filter((q): q is InsightQueryItem => q.kind === "Insight").map((q) => [q.name ?? "", q.properties]),
  );
  return {
    insights: (r.value ?? []).map((v) => {
      const def = defs.get(v.queryId ?? "");
      return defined({
        queryId: v.queryId ?? "",
        title: def?.displayName,
        description: def?.description,
        startTime: iso(v.queryTimeInterval?.startTime),
        endTime: iso(v.queryTimeInterval?.endTime),
        columns: (v.tableQueryResults?.columns ?? []).map((c) => ({ name: c.name ?? "", type: c.type ?? "string" })),
        rows: v.tableQueryResults?.rows ?? [],
      });
    }),
    errors: (r.metaData?.errors ?? []).map((e) => `${e.queryId ?? e.kind}: ${e.errorMessage}`),
  };
}

export function toIndicator(i: ThreatIntelligenceInformationUnion): IndicatorSummary {
  const t = i as ThreatIntelligenceIndicatorModel;
  return defined({
    id: t.name ?? "",
    displayName: t.displayName ?? "",
    description: t.description,
    pattern: t.pattern ?? "",
    patternType: t.patternType ?? "",
    values: (t.parsedPattern ?? []).flatMap((p) => (p.patternTypeValues ?? []).map((v) => v.value ?? "")),
    source: t.source,
    confidence: t.confidence,
    threatTypes: t.threatTypes ?? [],
    tags: t.threatIntelligenceTags ?? [],
    killChainPhases: (t.killChainPhases ?? []).map((k) => k.phaseName ?? "").filter(Boolean),
    validFrom: t.validFrom,
    validUntil: t.validUntil,
    revoked: t.revoked ?? false,
    lastUpdated: t.lastUpdatedTimeUtc,
  });
}

export function toFilteringCriteria(q: IndicatorQuery, pageSize: number): ThreatIntelligenceFilteringCriteria {
  return defined({ ...q, pageSize }) as ThreatIntelligenceFilteringCriteria;
}

export function toAlertRuleTemplate(t: AlertRuleTemplateUnion): AlertRuleTemplateSummary {
  // Scheduled and NRT templates share these fields; other kinds leave the query fields absent.
  const s = t as ScheduledAlertRuleTemplate;
  return defined({
    id: s.name ?? "",
    kind: String(s.kind),
    displayName: s.displayName ?? "",
    description: s.description,
    severity: s.severity,
    query: s.query,
    queryFrequency: s.queryFrequency,
    queryPeriod: s.queryPeriod,
    triggerOperator: s.triggerOperator,
    triggerThreshold: s.triggerThreshold,
    tactics: (s.tactics ?? []) as string[],
    techniques: s.techniques ?? [],
    requiredDataConnectors: (s.requiredDataConnectors ?? []).map((c) => ({
      connectorId: c.connectorId ?? "",
      dataTypes: c.dataTypes ?? [],
    })),
    status: s.status,
    version: s.version,
  });
}

export function toDataConnector(c: DataConnectorUnion): DataConnectorSummary {
  const withData = c as { tenantId?: string; dataTypes?: Record<string, { state?: string } | undefined> };
  return defined({
    id: c.name ?? "",
    kind: String(c.kind),
    tenantId: withData.tenantId,
    dataTypes: Object.entries(withData.dataTypes ?? {})
      .filter(([, v]) => v && typeof v === "object")
      .map(([name, v]) => ({ name, state: String(v?.state ?? "Unknown") })),
  });
}
