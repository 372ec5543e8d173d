import { LOG_TABLES } from "./schemas.js";
import { seedGuid } from "./seed-determinism.js";
import { completeRows, userObjectId, workspaceTenantId } from "./seed-logs-rows.js";
import type { SeedRun } from "./seed-run.js";

// The SecurityAlert and SecurityIncident columns beyond the ones the incidents' rows are built with (see
// seed-incidents.ts): filled from the same incidents as stored (ARM resources), so the table and the API agree, with
// the values Microsoft Sentinel writes (ExtendedProperties of a scheduled-rule alert, ProviderIncidentId, ...).

interface IncidentProps {
  incidentNumber?: number;
  classification?: string;
  classificationComment?: string;
  relatedAnalyticRuleIds?: string[];
  additionalData?: Record<string, unknown>;
  owner?: { userPrincipalName?: string };
  status?: string;
  createdTimeUtc?: string;
  lastModifiedTimeUtc?: string;
}

/** Entities as Sentinel writes them into SecurityAlert.Entities: a JSON array of typed entities with $id. */
function realEntities(seed: number, entities: string): string {
  let list: unknown;
  try {
    list = JSON.parse(entities);
  } catch {
    return entities;
  }
  if (!Array.isArray(list)) return entities;
  return JSON.stringify(
    list.map((e: Record<string, unknown>, i) => {
      const name = String(e.Name ?? "");
      const extra: Record<string, unknown> =
        e.Type === "account"
          ? {
              UPNSuffix: name.split("@")[1] ?? "",
              AadUserId: userObjectId(seed, name),
              DisplayName: name.split("@")[0],
            }
          : e.Type === "ip"
            ? { Address: name }
            : e.Type === "host"
              ? { HostName: name, OSFamily: "Windows" }
              : {};
      return { $id: String(i + 2), ...e, ...extra };
    }),
  );
}

/** Completes the rows of SecurityAlert and SecurityIncident gathered so far (incidents' and background alerts'). */
export function completeAlertsAndIncidents(run: SeedRun): void {
  const { seed, store } = run;
  const tenant = workspaceTenantId(seed);
  const incidents = new Map<string, IncidentProps>(
    store.list("incidents").map((r) => [r.name, (r.body.properties ?? {}) as IncidentProps]),
  );
  const ruleOfAlert = new Map<string, string>();
  for (const row of run.logs.SecurityIncident ?? []) {
    const props = incidents.get(String(row[1]));
    const rule = props?.relatedAnalyticRuleIds?.[0];
    if (rule && Array.isArray(row[10])) for (const a of row[10]) ruleOfAlert.set(String(a), rule);
  }

  completeRows("SecurityIncident", run.logs.SecurityIncident ?? [], (get) => {
    const p = incidents.get(String(get("IncidentName"))) ?? {};
    const closed = get("Status") === "Closed";
    return {
      TenantId: tenant,
      ClassificationComment: p.classificationComment ?? "",
      ClassificationReason: closed
        ? get("Classification") === "TruePositive"
          ? "SuspiciousActivity"
          : get("Classification") === "FalsePositive"
            ? "IncorrectAlertLogic"
            : "SuspiciousButExpected"
        : "",
      ProviderIncidentId: String(get("IncidentNumber") ?? ""),
      FirstModifiedTime: get("CreatedTime"),
      ClosedTime: closed ? get("LastModifiedTime") : null,
      RelatedAnalyticRuleIds: p.relatedAnalyticRuleIds ?? [],
      BookmarkIds: [],
      Comments: [],
      Tasks: [],
      AdditionalData: p.additionalData ?? {},
      ModifiedBy: p.owner?.userPrincipalName ?? "Incident created from alert",
      SourceSystem: "Azure",
      Type: "SecurityIncident",
    };
  });

  completeRows("SecurityAlert", run.logs.SecurityAlert ?? [], (get) => {
    const id = String(get("SystemAlertId"));
    const scheduled = get("ProviderName") === "ASI Scheduled Alerts";
    const rule = ruleOfAlert.get(id) ?? seedGuid(seed, `rule-of-${get("AlertName")}`);
    const start = get("StartTime") as number;
    const end = get("EndTime") as number;
    return {
      TenantId: tenant,
      AlertLink: "",
      AlertType: scheduled ? `${tenant}_${rule}` : String(get("AlertName")).replace(/\W+/g, ""),
      ConfidenceLevel: "Unknown",
      ConfidenceScore: null,
      ExtendedLinks: "",
      ExtendedProperties: JSON.stringify(
        scheduled
          ? {
              "Alert generation status": "Full alert created",
              "Analytic Rule Ids": JSON.stringify([rule]),
              "Analytic Rule Name": get("AlertName"),
              "Correlation Id": seedGuid(seed, `alert-corr-${id}`),
              "Data Sources": JSON.stringify(["Azure Active Directory"]),
              "Event Grouping": "SingleAlert",
              "Query Period": "01:00:00",
              "Query Start Time UTC": new Date(start).toISOString(),
              "Query End Time UTC": new Date(end).toISOString(),
              "Search Query Results Overall Count": "1",
              "Trigger Operator": "GreaterThan",
              "Trigger Threshold": "0",
              ProcessedBySentinel: "True",
            }
          : { "Detail Id": seedGuid(seed, `alert-detail-${id}`), ProcessedBySentinel: "True" },
      ),
      IsIncident: false,
      ProcessingEndTime: end + 120_000,
      ProductComponentName: scheduled ? "Scheduled Alerts" : "",
      RemediationSteps: JSON.stringify(["Review the entities of the alert and the activity around them."]),
      ResourceId: "",
      SourceComputerId: "",
      SubTechniques: "",
      VendorOriginalId: scheduled ? id : seedGuid(seed, `vendor-${id}`),
      WorkspaceResourceGroup: "",
      WorkspaceSubscriptionId: "",
      SourceSystem: "Detection",
      Type: "SecurityAlert",
    };
  });
  // Entities in their real shape (typed, with $id and the type's own keys); Type and Name stay as they were.
  const entitiesAt = LOG_TABLES.SecurityAlert!.findIndex((c) => c.name === "Entities");
  for (const row of run.logs.SecurityAlert ?? [])
    if (typeof row[entitiesAt] === "string") row[entitiesAt] = realEntities(seed, row[entitiesAt] as string);
}
