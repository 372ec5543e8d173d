// What the discovery reads return: entities with their timelines and insights, threat-intelligence indicators,
// alert rule templates and data connectors, as the backend's summaries of the SDK models.

/** An entity (Account, Host, Ip…) with its kind-specific properties. */
export interface EntityDetail {
  id: string;
  kind: string;
  /** The entity's friendly name. */
  name: string;
  properties: Record<string, unknown>;
}

export interface TimelineRequest {
  /** ISO 8601 date-times. */
  startTime: string;
  endTime: string;
  kinds?: ("Activity" | "SecurityAlert" | "Bookmark" | "Anomaly")[];
  buckets?: number;
}

/** One timeline entry: a security alert, or a bucket of activity from one activity query. */
export interface TimelineItem {
  kind: string;
  /** When it happened (alert generated time, or the bucket's last activity). */
  time: string;
  title: string;
  description?: string;
  severity?: string;
  product?: string;
  alertId?: string;
  queryId?: string;
  bucketStart?: string;
  bucketEnd?: string;
  firstActivity?: string;
  lastActivity?: string;
}

export interface EntityTimeline {
  items: TimelineItem[];
  totalCount: number;
  aggregations: { kind: string; count: number }[];
  errors: string[];
}

export interface InsightsRequest {
  startTime: string;
  endTime: string;
  insightIds?: string[];
  extendTimeRange?: boolean;
}

export interface EntityInsight {
  queryId: string;
  title?: string;
  description?: string;
  startTime?: string;
  endTime?: string;
  columns: { name: string; type: string }[];
  rows: string[][];
}

export interface EntityInsights {
  insights: EntityInsight[];
  errors: string[];
}

export interface IndicatorSummary {
  id: string;
  displayName: string;
  description?: string;
  pattern: string;
  patternType: string;
  /** The observable values parsed from the pattern (IP, domain, URL, hash…). */
  values: string[];
  source?: string;
  confidence?: number;
  threatTypes: string[];
  tags: string[];
  killChainPhases: string[];
  validFrom?: string;
  validUntil?: string;
  revoked: boolean;
  lastUpdated?: string;
}

export interface IndicatorQuery {
  keywords?: string[];
  patternTypes?: string[];
  threatTypes?: string[];
  sources?: string[];
  minConfidence?: number;
  maxConfidence?: number;
  minValidUntil?: string;
  maxValidUntil?: string;
  includeDisabled?: boolean;
  sortBy?: { itemKey: string; sortOrder: "ascending" | "descending" }[];
}

export interface AlertRuleTemplateSummary {
  id: string;
  kind: string;
  displayName: string;
  description?: string;
  severity?: string;
  query?: string;
  queryFrequency?: string;
  queryPeriod?: string;
  triggerOperator?: string;
  triggerThreshold?: number;
  tactics: string[];
  techniques: string[];
  requiredDataConnectors: { connectorId: string; dataTypes: string[] }[];
  status?: string;
  version?: string;
}

export interface DataConnectorSummary {
  id: string;
  kind: string;
  tenantId?: string;
  dataTypes: { name: string; state: string }[];
}
