import type { KqlTable, KqlValue } from "../kql/types.js";
import { ArmError, type ArmRequest } from "./arm-core.js";
import { lower, providerPrefix, requireMethod, resourceView } from "./arm-resources.js";
import { matchingIndicators } from "./arm-threat-intel.js";
import type { WorkspaceIds } from "./ids.js";
import { type EntityKindName, stableGuid } from "./seed-discovery.js";
import type { StoredResource, WorkspaceStore } from "./store.js";

// Entities of the local workspace (get, getTimeline, getInsights, queries), shaped like Microsoft.SecurityInsights
// 2022-09-01-preview. Timelines and insights are computed from the workspace's log tables, not canned.

type Result = { status: number; body?: unknown };

const ENTITY_TYPE = "Microsoft.SecurityInsights/Entities";

interface EntityRef {
  id: string;
  kind: EntityKindName;
  props: Record<string, unknown>;
  alertIds: string[];
}

function entityRef(r: StoredResource): EntityRef {
  return {
    id: r.name,
    kind: r.body.kind as EntityKindName,
    props: r.body.properties as Record<string, unknown>,
    alertIds: (r.body.alertIds as string[] | undefined) ?? [],
  };
}

/** The value logs identify the entity by: a UPN, an IP address or a host name. */
function entityValue(e: EntityRef): string {
  if (e.kind === "Account") return `${e.props.accountName}@${e.props.upnSuffix}`.toLowerCase();
  if (e.kind === "Ip") return String(e.props.address);
  return String(e.props.hostName);
}

function entityView(store: WorkspaceStore, ids: WorkspaceIds, r: StoredResource): Record<string, unknown> {
  const view = resourceView(`${providerPrefix(ids)}/entities`, ENTITY_TYPE, r);
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

function parseTime(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t))
    throw new ArmError(400, "BadRequest", `${field} is required: an ISO 8601 date-time such as 2024-05-01T00:00:00Z`);
  return t;
}

function timeRange(raw: unknown): { body: Record<string, unknown>; start: number; end: number } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new ArmError(400, "BadRequest", "request body must be a JSON object with startTime and endTime");
  const body = raw as Record<string, unknown>;
  const start = parseTime(body, "startTime");
  const end = parseTime(body, "endTime");
  if (end <= start) throw new ArmError(400, "BadRequest", "endTime must be after startTime");
  return { body, start, end };
}

/** Log rows of a table between start and end (TimeGenerated, inclusive), with a by-name column getter. */
function rowsIn(
  store: WorkspaceStore,
  table: string,
  start: number,
  end: number,
): { rows: KqlValue[][]; get: (r: KqlValue[], col: string) => KqlValue } {
  const t: KqlTable | undefined = store.logTable(table);
  if (!t) return { rows: [], get: () => null };
  const index = new Map(t.columns.map((c, i) => [c.name, i]));
  const tg = index.get("TimeGenerated")!;
  const rows = t.rows.filter((r) => {
    const time = r[tg] as number;
    return time >= start && time <= end;
  });
  return { rows, get: (r, col) => r[index.get(col)!] ?? null };
}

interface LogEvent {
  time: number;
  facet: string;
}

/** The entity's activity in one log source. */
interface ActivityDef {
  id: string;
  kind: EntityKindName;
  title: string;
  table: string;
  events(store: WorkspaceStore, e: EntityRef, start: number, end: number): LogEvent[];
  content(count: number, facets: string): string;
}

function signinEvents(match: (upn: string, ip: string, e: EntityRef) => boolean, failed: boolean, facetCol: string) {
  return (store: WorkspaceStore, e: EntityRef, start: number, end: number): LogEvent[] => {
    const { rows, get } = rowsIn(store, "SigninLogs", start, end);
    return rows
      .filter((r) => match(lower(get(r, "UserPrincipalName")), String(get(r, "IPAddress")), e))
      .filter((r) => (String(get(r, "ResultType")) !== "0") === failed)
      .map((r) => ({ time: get(r, "TimeGenerated") as number, facet: String(get(r, facetCol)) }));
  };
}

function processEvents(filter: (get: (c: string) => KqlValue, e: EntityRef) => boolean, facet: string[]) {
  return (store: WorkspaceStore, e: EntityRef, start: number, end: number): LogEvent[] => {
    const { rows, get } = rowsIn(store, "DeviceProcessEvents", start, end);
    return rows
      .filter((r) => filter((c) => get(r, c), e))
      .map((r) => ({
        time: get(r, "TimeGenerated") as number,
        facet: facet.map((c) => String(get(r, c))).join(" on "),
      }));
  };
}

const isEncodedPowerShell = (get: (c: string) => KqlValue) =>
  lower(get("FileName")) === "powershell.exe" && /\s-e(nc|ncodedcommand)?\s/i.test(`${get("ProcessCommandLine")} `);

const ACTIVITIES: ActivityDef[] = [
  {
    id: stableGuid("activity:account-failed-signins"),
    kind: "Account",
    title: "Failed sign-ins",
    table: "SigninLogs",
    events: signinEvents((upn, _ip, e) => upn === entityValue(e), true, "IPAddress"),
    content: (n, f) => `The account failed to sign in ${n} time(s) from: ${f}`,
  },
  {
    id: stableGuid("activity:account-successful-signins"),
    kind: "Account",
    title: "Successful sign-ins",
    table: "SigninLogs",
    events: signinEvents((upn, _ip, e) => upn === entityValue(e), false, "IPAddress"),
    content: (n, f) => `The account signed in ${n} time(s) from: ${f}`,
  },
  {
    id: stableGuid("activity:account-directory-operations"),
    kind: "Account",
    title: "Directory operations initiated by the account",
    table: "AuditLogs",
    events: (store, e, start, end) => {
      const { rows, get } = rowsIn(store, "AuditLogs", start, end);
      return rows
        .filter((r) => {
          const by = get(r, "InitiatedBy") as { user?: { userPrincipalName?: string } } | null;
          return lower(by?.user?.userPrincipalName ?? "") === entityValue(e);
        })
        .map((r) => ({ time: get(r, "TimeGenerated") as number, facet: String(get(r, "OperationName")) }));
    },
    content: (n, f) => `The account performed ${n} directory operation(s): ${f}`,
  },
  {
    id: stableGuid("activity:account-processes"),
    kind: "Account",
    title: "Processes started by the account",
    table: "DeviceProcessEvents",
    events: processEvents(
      (get, e) => lower(get("AccountName")) === lower(e.props.accountName as string),
      ["FileName", "DeviceName"],
    ),
    content: (n, f) => `The account started ${n} process(es): ${f}`,
  },
  {
    id: stableGuid("activity:ip-failed-signins"),
    kind: "Ip",
    title: "Failed sign-ins from the IP address",
    table: "SigninLogs",
    events: signinEvents((_upn, ip, e) => ip === entityValue(e), true, "UserPrincipalName"),
    content: (n, f) => `${n} failed sign-in(s) from this IP address against: ${f}`,
  },
  {
    id: stableGuid("activity:ip-successful-signins"),
    kind: "Ip",
    title: "Successful sign-ins from the IP address",
    table: "SigninLogs",
    events: signinEvents((_upn, ip, e) => ip === entityValue(e), false, "UserPrincipalName"),
    content: (n, f) => `${n} successful sign-in(s) from this IP address by: ${f}`,
  },
  {
    id: stableGuid("activity:host-processes"),
    kind: "Host",
    title: "Processes created on the host",
    table: "DeviceProcessEvents",
    events: processEvents((get, e) => lower(get("DeviceName")) === lower(entityValue(e)), ["FileName"]),
    content: (n, f) => `${n} process(es) created: ${f}`,
  },
  {
    id: stableGuid("activity:host-encoded-powershell"),
    kind: "Host",
    title: "Encoded PowerShell command lines",
    table: "DeviceProcessEvents",
    events: processEvents(
      (get, e) => lower(get("DeviceName")) === lower(entityValue(e)) && isEncodedPowerShell(get),
      ["AccountName"],
    ),
    content: (n, f) => `${n} encoded PowerShell launch(es) by: ${f}`,
  },
];

/** "a (3), b (1), +2 more": the most frequent facets of a bucket. */
function facetSummary(events: LogEvent[]): string {
  const counts = new Map<string, number>();
  for (const ev of events) counts.set(ev.facet, (counts.get(ev.facet) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, 5).map(([f, n]) => `${f} (${n})`);
  return sorted.length > 5 ? `${shown.join(", ")}, +${sorted.length - 5} more` : shown.join(", ");
}

/** SecurityAlert log rows about the entity: alerts linked to it, or naming it as the compromised entity. */
function entityAlerts(store: WorkspaceStore, e: EntityRef, start: number, end: number) {
  const { rows, get } = rowsIn(store, "SecurityAlert", start, end);
  const linked = new Set(e.alertIds);
  const v = lower(entityValue(e));
  return rows
    .filter((r) => linked.has(String(get(r, "SystemAlertId"))) || lower(get(r, "CompromisedEntity")) === v)
    .map((r) => ({
      id: String(get(r, "SystemAlertId")),
      name: String(get(r, "AlertName")),
      displayName: String(get(r, "DisplayName")),
      severity: String(get(r, "AlertSeverity")),
      description: String(get(r, "Description")),
      product: String(get(r, "ProductName")),
      time: get(r, "TimeGenerated") as number,
      start: (get(r, "StartTime") as number | null) ?? (get(r, "TimeGenerated") as number),
      end: (get(r, "EndTime") as number | null) ?? (get(r, "TimeGenerated") as number),
    }));
}

const TIMELINE_KINDS = ["Activity", "Bookmark", "SecurityAlert", "Anomaly"];
const DEFAULT_BUCKETS = 24;

function timeline(store: WorkspaceStore, ids: WorkspaceIds, e: EntityRef, raw: unknown) {
  const { body, start, end } = timeRange(raw);
  const kinds = body.kinds ?? TIMELINE_KINDS;
  if (!Array.isArray(kinds) || kinds.some((k) => !TIMELINE_KINDS.includes(String(k))))
    throw new ArmError(400, "BadRequest", `kinds must be an array of ${TIMELINE_KINDS.join(", ")}`);
  const buckets = body.numberOfBucket ?? DEFAULT_BUCKETS;
  if (typeof buckets !== "number" || !Number.isInteger(buckets) || buckets < 1 || buckets > 1000)
    throw new ArmError(400, "BadRequest", "numberOfBucket must be an integer from 1 to 1000");
  const iso = (t: number) => new Date(t).toISOString();
  const items: { sort: number; item: Record<string, unknown> }[] = [];
  const counts = new Map<string, number>(kinds.map((k) => [String(k), 0]));

  if (kinds.includes("Activity")) {
    const size = (end - start) / buckets;
    for (const def of ACTIVITIES.filter((a) => a.kind === e.kind)) {
      const byBucket = new Map<number, LogEvent[]>();
      for (const ev of def.events(store, e, start, end)) {
        const b = Math.min(Math.floor((ev.time - start) / size), buckets - 1);
        byBucket.set(b, [...(byBucket.get(b) ?? []), ev]);
      }
      for (const [b, evs] of byBucket) {
        const times = evs.map((x) => x.time);
        const last = Math.max(...times);
        items.push({
          sort: last,
          item: {
            kind: "Activity",
            queryId: def.id,
            bucketStartTimeUTC: iso(start + b * size),
            bucketEndTimeUTC: iso(start + (b + 1) * size),
            firstActivityTimeUTC: iso(Math.min(...times)),
            lastActivityTimeUTC: iso(last),
            title: def.title,
            content: def.content(evs.length, facetSummary(evs)),
          },
        });
        counts.set("Activity", (counts.get("Activity") ?? 0) + 1);
      }
    }
  }
  if (kinds.includes("SecurityAlert")) {
    for (const a of entityAlerts(store, e, start, end)) {
      items.push({
        sort: a.time,
        item: {
          kind: "SecurityAlert",
          azureResourceId: `${providerPrefix(ids)}/entities/${a.id}`,
          productName: a.product,
          description: a.description,
          displayName: a.displayName,
          severity: a.severity,
          startTimeUtc: iso(a.start),
          endTimeUtc: iso(a.end),
          timeGenerated: iso(a.time),
          alertType: a.name.replace(/\W+/g, ""),
        },
      });
      counts.set("SecurityAlert", (counts.get("SecurityAlert") ?? 0) + 1);
    }
  }
  // Bookmark and Anomaly: the local workspace has no anomaly or bookmark source linked to entities, so they count 0.
  items.sort((a, b) => b.sort - a.sort);
  return {
    value: items.map((i) => i.item),
    metaData: {
      totalCount: items.length,
      aggregations: [...counts].map(([kind, count]) => ({ kind, count })),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Insights

interface InsightColumn {
  name: string;
  type: "string" | "long" | "datetime";
}

interface InsightDef {
  id: string;
  kind: EntityKindName;
  displayName: string;
  description: string;
  table: string;
  baseQuery: string;
  columns: InsightColumn[];
  rows(store: WorkspaceStore, e: EntityRef, start: number, end: number): string[][];
}

/** Successes and failures grouped by a SigninLogs column, for the sign-ins an entity matches. */
function signinTable(match: (get: (c: string) => KqlValue) => boolean, by: string[]) {
  return (store: WorkspaceStore, _e: EntityRef, start: number, end: number): string[][] => {
    const { rows, get } = rowsIn(store, "SigninLogs", start, end);
    const groups = new Map<string, { key: string[]; ok: number; failed: number }>();
    for (const r of rows) {
      if (!match((c) => get(r, c))) continue;
      const key = by.map((c) => String(get(r, c)));
      const g = groups.get(key.join("\u0000")) ?? { key, ok: 0, failed: 0 };
      if (String(get(r, "ResultType")) === "0") g.ok++;
      else g.failed++;
      groups.set(key.join("\u0000"), g);
    }
    return [...groups.values()]
      .sort((a, b) => b.failed - a.failed || b.ok - a.ok || a.key.join().localeCompare(b.key.join()))
      .map((g) => [...g.key, String(g.ok), String(g.failed)]);
  };
}

function alertsTable(store: WorkspaceStore, e: EntityRef, start: number, end: number): string[][] {
  const groups = new Map<string, { name: string; severity: string; count: number; last: number }>();
  for (const a of entityAlerts(store, e, start, end)) {
    const key = `${a.name}\u0000${a.severity}`;
    const g = groups.get(key) ?? { name: a.name, severity: a.severity, count: 0, last: 0 };
    g.count++;
    g.last = Math.max(g.last, a.time);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => b.last - a.last)
    .map((g) => [g.name, g.severity, String(g.count), new Date(g.last).toISOString()]);
}

const ALERT_COLUMNS: InsightColumn[] = [
  { name: "AlertName", type: "string" },
  { name: "AlertSeverity", type: "string" },
  { name: "Count", type: "long" },
  { name: "LastSeen", type: "datetime" },
];

const INSIGHTS: InsightDef[] = [
  {
    id: stableGuid("insight:account-signins-by-ip"),
    kind: "Account",
    displayName: "Sign-ins by IP address",
    description: "Successful and failed sign-ins of the account, per source IP address and location.",
    table: "SigninLogs",
    baseQuery:
      "SigninLogs | where UserPrincipalName =~ '{{Account_UPN}}' | summarize Successes = countif(ResultType == '0'), Failures = countif(ResultType != '0') by IPAddress, Location",
    columns: [
      { name: "IPAddress", type: "string" },
      { name: "Location", type: "string" },
      { name: "Successes", type: "long" },
      { name: "Failures", type: "long" },
    ],
    rows: (s, e, a, b) =>
      signinTable((get) => lower(get("UserPrincipalName")) === entityValue(e), ["IPAddress", "Location"])(s, e, a, b),
  },
  {
    id: stableGuid("insight:account-alerts"),
    kind: "Account",
    displayName: "Alerts on the account",
    description: "Security alerts that involve the account.",
    table: "SecurityAlert",
    baseQuery:
      "SecurityAlert | where CompromisedEntity =~ '{{Account_UPN}}' | summarize Count = count(), LastSeen = max(TimeGenerated) by AlertName, AlertSeverity",
    columns: ALERT_COLUMNS,
    rows: alertsTable,
  },
  {
    id: stableGuid("insight:account-directory-operations"),
    kind: "Account",
    displayName: "Directory operations by the account",
    description: "Azure AD audit operations the account initiated, with their result.",
    table: "AuditLogs",
    baseQuery:
      "AuditLogs | where tostring(InitiatedBy.user.userPrincipalName) =~ '{{Account_UPN}}' | summarize Count = count() by OperationName, Result",
    columns: [
      { name: "OperationName", type: "string" },
      { name: "Result", type: "string" },
      { name: "Count", type: "long" },
    ],
    rows: (store, e, start, end) => {
      const { rows, get } = rowsIn(store, "AuditLogs", start, end);
      const counts = new Map<string, number>();
      for (const r of rows) {
        const by = get(r, "InitiatedBy") as { user?: { userPrincipalName?: string } } | null;
        if (lower(by?.user?.userPrincipalName ?? "") !== entityValue(e)) continue;
        const key = `${get(r, "OperationName")}\u0000${get(r, "Result")}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return [...counts]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, n]) => [...k.split("\u0000"), String(n)]);
    },
  },
  {
    id: stableGuid("insight:ip-accounts"),
    kind: "Ip",
    displayName: "Accounts signing in from the IP address",
    description: "Accounts with successful or failed sign-ins from the IP address.",
    table: "SigninLogs",
    baseQuery:
      "SigninLogs | where IPAddress == '{{IP_Address}}' | summarize Successes = countif(ResultType == '0'), Failures = countif(ResultType != '0') by UserPrincipalName",
    columns: [
      { name: "UserPrincipalName", type: "string" },
      { name: "Successes", type: "long" },
      { name: "Failures", type: "long" },
    ],
    rows: (s, e, a, b) =>
      signinTable((get) => String(get("IPAddress")) === entityValue(e), ["UserPrincipalName"])(s, e, a, b),
  },
  {
    id: stableGuid("insight:ip-threat-intelligence"),
    kind: "Ip",
    displayName: "Threat intelligence matches",
    description: "Active threat-intelligence indicators whose pattern is the IP address, valid during the range.",
    table: "ThreatIntelligenceIndicator",
    baseQuery:
      "ThreatIntelligenceIndicator | where NetworkIP == '{{IP_Address}}' and Active == true | project Description, ConfidenceScore, ThreatType, SourceSystem, ExpirationDateTime",
    columns: [
      { name: "Indicator", type: "string" },
      { name: "Confidence", type: "long" },
      { name: "ThreatTypes", type: "string" },
      { name: "Source", type: "string" },
      { name: "ValidUntil", type: "datetime" },
    ],
    rows: (store, e, start, end) =>
      matchingIndicators(store, entityValue(e), start, end).map((p) => [
        String(p.displayName),
        String(p.confidence),
        ((p.threatTypes as string[] | undefined) ?? []).join(", "),
        String(p.source),
        String(p.validUntil ?? ""),
      ]),
  },
  {
    id: stableGuid("insight:ip-alerts"),
    kind: "Ip",
    displayName: "Alerts involving the IP address",
    description: "Security alerts that involve the IP address.",
    table: "SecurityAlert",
    baseQuery:
      "SecurityAlert | where Entities has '{{IP_Address}}' | summarize Count = count(), LastSeen = max(TimeGenerated) by AlertName, AlertSeverity",
    columns: ALERT_COLUMNS,
    rows: alertsTable,
  },
  {
    id: stableGuid("insight:host-processes"),
    kind: "Host",
    displayName: "Processes created on the host",
    description: "Process creations on the host, per executable, with the accounts that ran them.",
    table: "DeviceProcessEvents",
    baseQuery:
      "DeviceProcessEvents | where DeviceName =~ '{{Host_HostName}}' | summarize Count = count(), Accounts = make_set(AccountName) by FileName",
    columns: [
      { name: "FileName", type: "string" },
      { name: "Count", type: "long" },
      { name: "Accounts", type: "string" },
    ],
    rows: (store, e, start, end) => {
      const { rows, get } = rowsIn(store, "DeviceProcessEvents", start, end);
      const groups = new Map<string, { count: number; accounts: Set<string> }>();
      for (const r of rows) {
        if (lower(get(r, "DeviceName")) !== lower(entityValue(e))) continue;
        const f = String(get(r, "FileName"));
        const g = groups.get(f) ?? { count: 0, accounts: new Set<string>() };
        g.count++;
        g.accounts.add(String(get(r, "AccountName")));
        groups.set(f, g);
      }
      return [...groups]
        .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
        .map(([f, g]) => [f, String(g.count), [...g.accounts].sort().join(", ")]);
    },
  },
  {
    id: stableGuid("insight:host-encoded-powershell"),
    kind: "Host",
    displayName: "Encoded PowerShell executions",
    description: "powershell.exe launches with an encoded command on the host.",
    table: "DeviceProcessEvents",
    baseQuery:
      "DeviceProcessEvents | where DeviceName =~ '{{Host_HostName}}' and FileName =~ 'powershell.exe' and ProcessCommandLine has '-enc' | project TimeGenerated, AccountName, ProcessCommandLine, InitiatingProcessFileName",
    columns: [
      { name: "TimeGenerated", type: "datetime" },
      { name: "AccountName", type: "string" },
      { name: "ProcessCommandLine", type: "string" },
      { name: "InitiatingProcessFileName", type: "string" },
    ],
    rows: (store, e, start, end) => {
      const { rows, get } = rowsIn(store, "DeviceProcessEvents", start, end);
      return rows
        .filter((r) => lower(get(r, "DeviceName")) === lower(entityValue(e)) && isEncodedPowerShell((c) => get(r, c)))
        .sort((a, b) => (get(b, "TimeGenerated") as number) - (get(a, "TimeGenerated") as number))
        .map((r) => [
          new Date(get(r, "TimeGenerated") as number).toISOString(),
          String(get(r, "AccountName")),
          String(get(r, "ProcessCommandLine")),
          String(get(r, "InitiatingProcessFileName")),
        ]);
    },
  },
  {
    id: stableGuid("insight:host-alerts"),
    kind: "Host",
    displayName: "Alerts on the host",
    description: "Security alerts that involve the host.",
    table: "SecurityAlert",
    baseQuery:
      "SecurityAlert | where CompromisedEntity =~ '{{Host_HostName}}' | summarize Count = count(), LastSeen = max(TimeGenerated) by AlertName, AlertSeverity",
    columns: ALERT_COLUMNS,
    rows: alertsTable,
  },
];

/** Extends the range back by a day when the caller asks for the insights' default extended range. */
const EXTENDED_RANGE_MS = 86_400_000;

function insights(store: WorkspaceStore, e: EntityRef, raw: unknown) {
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

function insightQueries(ids: WorkspaceIds, e: EntityRef) {
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
