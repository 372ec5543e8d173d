import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import type { SecurityInsights } from "@azure/arm-securityinsight";
import type { LogsIngestionClient } from "@azure/monitor-ingestion";
import type { LogsQueryClient } from "@azure/monitor-query-logs";
import type {
  AlertRuleTemplateSummary,
  DataConnectorSummary,
  EntityDetail,
  EntityInsights,
  EntityTimeline,
  IndicatorQuery,
  IndicatorSummary,
  InsightsRequest,
  TimelineRequest,
} from "./discovery-types.js";

/** Identifies the Sentinel workspace the backend talks to. */
export interface WorkspaceIds {
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  workspaceId: string;
}

export interface IncidentSummary {
  id: string;
  number?: number;
  title: string;
  description?: string;
  severity: string;
  status: string;
  classification?: string;
  owner?: string;
  labels: string[];
  createdTime?: string;
  lastModifiedTime?: string;
  alertsCount?: number;
  etag?: string;
}

export interface AlertSummary {
  id: string;
  name: string;
  description?: string;
  severity?: string;
  status?: string;
  time?: string;
  tactics: string[];
  product?: string;
}

export interface QueryTable {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /**
   * What the engine actually read while executing (tables and stored functions). Only the embedded workspace reports
   * it (in the query API's statistics); Azure's engine does not, and the field is then absent.
   */
  reads?: QueryReads;
}

export interface QueryReads {
  tables: string[];
  storedFunctions: string[];
}

/** What a user can read about the local query workers (governance_whoami): see SentinelBackend.queryWorkers. */
export interface QueryWorkerActivity {
  running: number;
  queued: number;
  terminated: number;
}

export interface QueryOptions {
  /** Hard wall-clock limit: sent as the query API's server timeout (Prefer: wait=N) and enforced client-side. */
  serverTimeoutSeconds?: number;
  /** Aborts the request (cancellation). */
  abortSignal?: AbortSignal;
}

/** Fields a write may change on an incident; absent fields are left as they are. */
export interface IncidentPatch {
  status?: "New" | "Active" | "Closed";
  severity?: "High" | "Medium" | "Low" | "Informational";
  classification?: string;
  classificationReason?: string;
  classificationComment?: string;
  /** Owner UPN or object id; null clears the owner. */
  owner?: string | null;
  labels?: string[];
}

export interface CommentSummary {
  id: string;
  message: string;
  author?: string;
  createdTime?: string;
}

export interface EntitySummary {
  id: string;
  kind: string;
  name: string;
}

/** A scheduled analytics rule: the fields an agent may read or propose. */
export interface AnalyticsRule {
  id: string;
  displayName: string;
  description?: string;
  enabled: boolean;
  severity: string;
  query: string;
  queryFrequency: string;
  queryPeriod: string;
  triggerOperator: string;
  triggerThreshold: number;
  tactics: string[];
  etag?: string;
}

export interface AutomationRuleSummary {
  id: string;
  displayName: string;
  order: number;
  enabled: boolean;
  triggersOn?: string;
  triggersWhen?: string;
  actions: unknown[];
  etag?: string;
}

export interface WatchlistSummary {
  alias: string;
  displayName: string;
  provider?: string;
  itemsSearchKey?: string;
  description?: string;
}

export interface WatchlistItemSummary {
  id: string;
  values: Record<string, unknown>;
}

/** A Log Analytics saved search (hunting queries are the ones in the "Hunting Queries" category). */
export interface SavedSearchSummary {
  id: string;
  category: string;
  displayName: string;
  query: string;
  tags: { name: string; value: string }[];
  etag?: string;
}

/** A Sentinel hunting bookmark: a query result kept as evidence. */
export interface BookmarkSummary {
  id: string;
  displayName: string;
  query: string;
  notes?: string;
  labels: string[];
  queryResult?: string;
  eventTime?: string;
  queryStartTime?: string;
  queryEndTime?: string;
  created?: string;
  updated?: string;
  incidentId?: string;
  tactics: string[];
  techniques: string[];
  etag?: string;
}

/** What a caller may set on a bookmark; server-managed fields (created, updated, createdBy) are not here. */
export interface BookmarkInput {
  displayName: string;
  query: string;
  notes?: string;
  labels?: string[];
  queryResult?: string;
  eventTime?: string;
  queryStartTime?: string;
  queryEndTime?: string;
  tactics?: string[];
  techniques?: string[];
}

export interface ListIncidentsOptions {
  top: number;
  status?: string;
  severity?: string;
}

/** Everything the tools may do in Sentinel. One implementation, over the Azure SDK clients. */
export interface SentinelBackend {
  readonly ids: WorkspaceIds;
  listIncidents(opts: ListIncidentsOptions): Promise<IncidentSummary[]>;
  getIncident(id: string): Promise<IncidentSummary>;
  incidentAlerts(id: string): Promise<AlertSummary[]>;
  /** Read-modify-write with the incident's etag, so a concurrent change is never silently overwritten. */
  updateIncident(id: string, patch: IncidentPatch, expectedEtag?: string): Promise<IncidentSummary>;
  incidentEntities(id: string): Promise<EntitySummary[]>;
  listComments(incidentId: string): Promise<CommentSummary[]>;
  addComment(incidentId: string, commentId: string, message: string): Promise<CommentSummary>;
  listAnalyticsRules(): Promise<AnalyticsRule[]>;
  getAnalyticsRule(id: string): Promise<AnalyticsRule>;
  /** Creates or replaces a scheduled rule; with `expectedEtag`, fails if it changed since it was read. */
  putAnalyticsRule(rule: AnalyticsRule, expectedEtag?: string): Promise<AnalyticsRule>;
  deleteAnalyticsRule(id: string): Promise<void>;
  listAutomationRules(): Promise<AutomationRuleSummary[]>;
  getAutomationRule(id: string): Promise<AutomationRuleSummary>;
  putAutomationRule(rule: AutomationRuleSummary, expectedEtag?: string): Promise<AutomationRuleSummary>;
  listWatchlists(): Promise<WatchlistSummary[]>;
  listWatchlistItems(alias: string): Promise<WatchlistItemSummary[]>;
  putWatchlistItem(alias: string, id: string, values: Record<string, unknown>): Promise<WatchlistItemSummary>;
  deleteWatchlistItem(alias: string, id: string): Promise<void>;
  listSavedSearches(): Promise<SavedSearchSummary[]>;
  getSavedSearch(id: string): Promise<SavedSearchSummary>;
  listBookmarks(): Promise<BookmarkSummary[]>;
  getBookmark(id: string): Promise<BookmarkSummary>;
  putBookmark(id: string, bookmark: BookmarkInput): Promise<BookmarkSummary>;
  deleteBookmark(id: string): Promise<void>;
  getEntity(id: string): Promise<EntityDetail>;
  /** `opts.abortSignal` aborts the request (the call was cancelled). */
  entityTimeline(id: string, req: TimelineRequest, opts?: { abortSignal?: AbortSignal }): Promise<EntityTimeline>;
  entityInsights(id: string, req: InsightsRequest): Promise<EntityInsights>;
  /** At most `top` indicators. */
  listIndicators(top: number): Promise<IndicatorSummary[]>;
  queryIndicators(query: IndicatorQuery, top: number): Promise<IndicatorSummary[]>;
  listAlertRuleTemplates(): Promise<AlertRuleTemplateSummary[]>;
  getAlertRuleTemplate(id: string): Promise<AlertRuleTemplateSummary>;
  listDataConnectors(): Promise<DataConnectorSummary[]>;
  /** Runs KQL with `timespan` (ISO 8601 duration) as the API's hard time bound. */
  queryLogs(query: string, timespan: string, opts?: QueryOptions): Promise<QueryTable>;
  /**
   * The embedded workspace's query workers (absent for Azure, whose queries run in Azure): queries running and waiting
   * now, and workers terminated so far because a query passed its timeout or was cancelled.
   */
  queryWorkers?(): QueryWorkerActivity;
  /** Sends AgentSecurityEvents to the workspace's Logs Ingestion endpoint (when configured). */
  ingestEvents?(events: Record<string, unknown>[]): Promise<void>;
  /**
   * What this backend's own identity may do on the workspace (Microsoft.Authorization/permissions at workspace scope,
   * one entry per role assignment): the permission check (src/rbac/check.ts) compares it with the policy.
   */
  permissions?(): Promise<WorkspacePermission[]>;
  close(): Promise<void>;
}

/** One entry of the permissions API's answer (Azure's field names). */
export interface WorkspacePermission {
  actions?: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

export interface SdkClients {
  securityInsights: SecurityInsights;
  /** Microsoft.OperationalInsights management (saved searches). */
  operationalInsights: OperationalInsightsManagementClient;
  /** Microsoft.Authorization (the identity's permissions on the workspace). */
  authorization?: AuthorizationManagementClient;
  logsQuery: LogsQueryClient;
  /** Logs Ingestion client with the DCR immutable id and stream it sends to. */
  ingestion?: { client: LogsIngestionClient; dcrImmutableId: string; stream: string };
}
