import type { SecurityInsights } from "@azure/arm-securityinsight";
import type { LogsQueryClient } from "@azure/monitor-query-logs";

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
  /** Runs KQL with `timespan` (ISO 8601 duration) as the API's hard time bound. */
  queryLogs(query: string, timespan: string, serverTimeoutSeconds?: number): Promise<QueryTable>;
  close(): Promise<void>;
}

export interface SdkClients {
  securityInsights: SecurityInsights;
  logsQuery: LogsQueryClient;
}
