import type { KqlValue } from "../kql/types.js";
import { entityAlerts, isEncodedPowerShell, rowsIn } from "./arm-entity-logs.js";
import { type EntityRef, entityValue } from "./arm-entity-ref.js";
import { lower } from "./arm-resources.js";
import { matchingIndicators } from "./arm-threat-intel.js";
import { stableGuid } from "./seed-determinism.js";
import type { EntityKindName } from "./seed-entities.js";
import type { WorkspaceStore } from "./store.js";

// The insight queries per entity kind: each has the KQL a real workspace would run, its result columns, and the
// rows computed from the local log tables.

export interface InsightColumn {
  name: string;
  type: "string" | "long" | "datetime";
}

export interface InsightDef {
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

export const INSIGHTS: InsightDef[] = [
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
