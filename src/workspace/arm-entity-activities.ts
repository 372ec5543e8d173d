import type { KqlValue } from "../kql/types.js";
import { isEncodedPowerShell, rowsIn } from "./arm-entity-logs.js";
import { type EntityRef, entityValue } from "./arm-entity-ref.js";
import { lower } from "./arm-resources.js";
import { stableGuid } from "./seed-determinism.js";
import type { EntityKindName } from "./seed-entities.js";
import type { WorkspaceStore } from "./store.js";

// The activities an entity timeline reports, per entity kind: each reads one log table for the entity's events.

export interface LogEvent {
  time: number;
  facet: string;
}

/** The entity's activity in one log source. */
export interface ActivityDef {
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

export const ACTIVITIES: ActivityDef[] = [
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
