import type { Incident, SecurityAlert } from "@azure/arm-securityinsight";
import { GovernanceError } from "../governance/errors.js";
import type {
  AlertSummary,
  IncidentPatch,
  IncidentSummary,
  ListIncidentsOptions,
  QueryTable,
  SdkClients,
  SentinelBackend,
  WorkspaceIds,
} from "./backend.js";

/** The backend over @azure/arm-securityinsight and @azure/monitor-query-logs, for Azure and the local workspace alike. */
export class SdkBackend implements SentinelBackend {
  constructor(
    readonly ids: WorkspaceIds,
    private readonly clients: SdkClients,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async listIncidents(opts: ListIncidentsOptions): Promise<IncidentSummary[]> {
    const filters: string[] = [];
    if (opts.status) filters.push(`properties/status eq '${opts.status}'`);
    if (opts.severity) filters.push(`properties/severity eq '${opts.severity}'`);
    const out: IncidentSummary[] = [];
    const iter = this.clients.securityInsights.incidents.list(this.ids.resourceGroup, this.ids.workspaceName, {
      top: opts.top,
      orderby: "properties/createdTimeUtc desc",
      ...(filters.length ? { filter: filters.join(" and ") } : {}),
    });
    for await (const inc of iter) {
      out.push(toIncidentSummary(inc));
      if (out.length >= opts.top) break;
    }
    return out;
  }

  async getIncident(id: string): Promise<IncidentSummary> {
    return toIncidentSummary(
      await wrap(() => this.clients.securityInsights.incidents.get(this.ids.resourceGroup, this.ids.workspaceName, id)),
    );
  }

  async updateIncident(id: string, patch: IncidentPatch, expectedEtag?: string): Promise<IncidentSummary> {
    const { resourceGroup: rg, workspaceName: ws } = this.ids;
    const current = await wrap(() => this.clients.securityInsights.incidents.get(rg, ws, id));
    if (expectedEtag && current.etag && current.etag !== expectedEtag) {
      throw new GovernanceError(
        "backend_error",
        `incident ${id} changed since its state was captured (etag ${current.etag}, expected ${expectedEtag})`,
        "read it again and re-request approval",
      );
    }
    const next: Incident = {
      ...current,
      ...(patch.status ? { status: patch.status } : {}),
      ...(patch.severity ? { severity: patch.severity } : {}),
      ...(patch.classification !== undefined ? { classification: patch.classification } : {}),
      ...(patch.classificationReason !== undefined ? { classificationReason: patch.classificationReason } : {}),
      ...(patch.classificationComment !== undefined ? { classificationComment: patch.classificationComment } : {}),
      ...(patch.owner !== undefined ? { owner: patch.owner === null ? {} : { userPrincipalName: patch.owner } } : {}),
      ...(patch.labels ? { labels: patch.labels.map((labelName) => ({ labelName })) } : {}),
    };
    const updated = await wrap(() => this.clients.securityInsights.incidents.createOrUpdate(rg, ws, id, next, {}));
    return toIncidentSummary(updated);
  }

  async incidentAlerts(id: string): Promise<AlertSummary[]> {
    const res = await wrap(() =>
      this.clients.securityInsights.incidents.listAlerts(this.ids.resourceGroup, this.ids.workspaceName, id),
    );
    return (res.value ?? []).map(toAlertSummary);
  }

  async queryLogs(query: string, timespan: string, serverTimeoutSeconds = 60): Promise<QueryTable> {
    const res = await wrap(() =>
      this.clients.logsQuery.queryWorkspace(
        this.ids.workspaceId,
        query,
        { duration: timespan },
        { serverTimeoutInSeconds: serverTimeoutSeconds },
      ),
    );
    if (res.status !== "Success") {
      const err = (res as { partialError?: { message?: string } }).partialError;
      throw new GovernanceError("backend_error", `query returned partial results: ${err?.message ?? "unknown error"}`);
    }
    const table = res.tables[0];
    if (!table) return { columns: [], rows: [] };
    return {
      columns: table.columnDescriptors.map((c) => ({ name: c.name ?? "", type: c.type ?? "string" })),
      rows: table.rows.map((r) => r.map((v) => (v instanceof Date ? v.toISOString() : v))),
    };
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e as { statusCode?: number; code?: string; message?: string };
    const status = err.statusCode ? ` (HTTP ${err.statusCode}${err.code ? ` ${err.code}` : ""})` : "";
    throw new GovernanceError(
      "backend_error",
      `Sentinel call failed${status}: ${err.message ?? String(e)}`,
      undefined,
      {
        ...(err.statusCode ? { status: err.statusCode } : {}),
      },
    );
  }
}

function iso(d: Date | string | undefined): string | undefined {
  return d instanceof Date ? d.toISOString() : d;
}

export function toIncidentSummary(inc: Incident): IncidentSummary {
  return {
    id: inc.name ?? "",
    ...(inc.incidentNumber !== undefined ? { number: inc.incidentNumber } : {}),
    title: inc.title ?? "",
    ...(inc.description ? { description: inc.description } : {}),
    severity: inc.severity ?? "Informational",
    status: inc.status ?? "New",
    ...(inc.classification ? { classification: inc.classification } : {}),
    ...(inc.owner?.userPrincipalName || inc.owner?.assignedTo
      ? { owner: inc.owner.userPrincipalName ?? inc.owner.assignedTo }
      : {}),
    labels: (inc.labels ?? []).map((l) => l.labelName),
    ...(inc.createdTimeUtc ? { createdTime: iso(inc.createdTimeUtc) } : {}),
    ...(inc.lastModifiedTimeUtc ? { lastModifiedTime: iso(inc.lastModifiedTimeUtc) } : {}),
    ...(inc.additionalData?.alertsCount !== undefined ? { alertsCount: inc.additionalData.alertsCount } : {}),
    ...(inc.etag ? { etag: inc.etag } : {}),
  };
}

function toAlertSummary(a: SecurityAlert): AlertSummary {
  return {
    id: a.name ?? "",
    name: a.alertDisplayName ?? "",
    ...(a.description ? { description: a.description } : {}),
    ...(a.severity ? { severity: a.severity } : {}),
    ...(a.status ? { status: a.status } : {}),
    ...(a.timeGenerated ? { time: iso(a.timeGenerated) } : {}),
    tactics: a.tactics ?? [],
    ...(a.productName ? { product: a.productName } : {}),
  };
}
