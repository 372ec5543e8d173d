import { stableGuid } from "./seed-determinism.js";
import { DOMAIN } from "./seed-tenant.js";
import type { WorkspaceStore } from "./store.js";

// Entities of the seeded workspace: one per account, host and IP address the stored alerts name, linked to those
// alerts, with properties shaped like Sentinel's entity kinds.

/** Entity values an alert refers to: its compromised entity plus the IPs, UPNs and host names its text names. */
export function alertEntityValues(compromised: string, description: string): string[] {
  const found = new Set<string>();
  const add = (v: string) => {
    if (v) found.add(v);
  };
  add(compromised);
  for (const m of description.matchAll(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g)) add(m[0]);
  for (const m of description.matchAll(/\b[a-z][a-z0-9._-]*@[a-z0-9.-]+\.[a-z]{2,}\b/gi)) add(m[0].toLowerCase());
  for (const m of description.matchAll(/\b(?:WS|SRV)-[A-Z0-9]+\b/g)) add(m[0]);
  return [...found];
}

export type EntityKindName = "Account" | "Host" | "Ip";

export function entityKindOf(value: string): EntityKindName {
  if (value.includes("@")) return "Account";
  if (/^(?:\d{1,3}\.){3}\d{1,3}$/.test(value)) return "Ip";
  return "Host";
}

/** The stable entity id for a (kind, value) pair in a workspace seeded with `seed`. */
export function entityId(seed: number, kind: EntityKindName, value: string): string {
  return stableGuid(`${seed}:entity:${kind}:${value.toLowerCase()}`);
}

function titleCase(user: string): string {
  return user
    .split(/[._-]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join(" ");
}

function entityProperties(
  seed: number,
  kind: EntityKindName,
  value: string,
  store: WorkspaceStore,
): Record<string, unknown> {
  if (kind === "Account") {
    const [name, suffix] = value.split("@") as [string, string];
    return {
      friendlyName: name,
      accountName: name,
      upnSuffix: suffix,
      displayName: titleCase(name),
      aadTenantId: stableGuid(`${seed}:tenant`),
      aadUserId: stableGuid(`${seed}:aad-user:${value}`),
      isDomainJoined: true,
      ntDomain: suffix.split(".")[0]!.toUpperCase(),
      additionalData: {},
    };
  }
  if (kind === "Host") {
    return {
      friendlyName: value,
      hostName: value,
      netBiosName: value,
      dnsDomain: DOMAIN,
      ntDomain: "CONTOSO",
      isDomainJoined: true,
      osFamily: "Windows",
      osVersion: value.startsWith("SRV-") ? "Windows Server 2022" : "Windows 11 23H2",
      omsAgentID: stableGuid(`${seed}:oms:${value}`),
      additionalData: {},
    };
  }
  // The IP's country is what its sign-ins were located at (the log data, not a canned value).
  const signins = store.logTable("SigninLogs");
  const ipCol = signins?.columns.findIndex((c) => c.name === "IPAddress") ?? -1;
  const locCol = signins?.columns.findIndex((c) => c.name === "Location") ?? -1;
  const countryCode = signins?.rows.find((r) => r[ipCol] === value)?.[locCol];
  return {
    friendlyName: value,
    address: value,
    ...(typeof countryCode === "string" ? { location: { countryCode } } : {}),
    additionalData: {},
  };
}

/** Entities from the stored alerts: one per distinct (kind, value), linked to every alert that names it. */
export function seedEntities(store: WorkspaceStore, seed: number): number {
  const byId = new Map<string, { kind: EntityKindName; value: string; alertIds: string[] }>();
  for (const inc of store.list("incidents")) {
    for (const alert of store.list("alerts", inc.name)) {
      const p = alert.body.properties as { compromisedEntity?: string; description?: string };
      for (const value of alertEntityValues(String(p.compromisedEntity ?? ""), String(p.description ?? ""))) {
        const kind = entityKindOf(value);
        const id = entityId(seed, kind, value);
        const e = byId.get(id) ?? { kind, value, alertIds: [] };
        e.alertIds.push(alert.name);
        byId.set(id, e);
      }
    }
  }
  for (const [id, e] of byId) {
    store.put(
      "entities",
      id,
      { kind: e.kind, properties: entityProperties(seed, e.kind, e.value, store), alertIds: e.alertIds },
      `"${stableGuid(`${seed}:etag-entity:${id}`)}"`,
    );
  }
  return byId.size;
}
