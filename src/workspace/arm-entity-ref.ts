import type { EntityKindName } from "./seed-entities.js";
import type { StoredResource } from "./store.js";

// An entity as timelines and insights read it: its kind, properties and linked alerts, and the value logs name it by.

export interface EntityRef {
  id: string;
  kind: EntityKindName;
  props: Record<string, unknown>;
  alertIds: string[];
}

export function entityRef(r: StoredResource): EntityRef {
  return {
    id: r.name,
    kind: r.body.kind as EntityKindName,
    props: r.body.properties as Record<string, unknown>,
    alertIds: (r.body.alertIds as string[] | undefined) ?? [],
  };
}

/** The value logs identify the entity by: a UPN, an IP address or a host name. */
export function entityValue(e: EntityRef): string {
  if (e.kind === "Account") return `${e.props.accountName}@${e.props.upnSuffix}`.toLowerCase();
  if (e.kind === "Ip") return String(e.props.address);
  return String(e.props.hostName);
}
