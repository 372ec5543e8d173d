import { ArmError } from "./arm-core.js";
import { ACTIVITIES, type LogEvent } from "./arm-entity-activities.js";
import { entityAlerts, timeRange } from "./arm-entity-logs.js";
import type { EntityRef } from "./arm-entity-ref.js";
import { providerPrefix } from "./arm-resources.js";
import type { WorkspaceIds } from "./ids.js";
import type { WorkspaceStore } from "./store.js";

// An entity's timeline (POST getTimeline): activity buckets and security alerts in the requested range, newest first.

/** "a (3), b (1), +2 more": the most frequent facets of a bucket. */
function facetSummary(events: LogEvent[]): string {
  const counts = new Map<string, number>();
  for (const ev of events) counts.set(ev.facet, (counts.get(ev.facet) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, 5).map(([f, n]) => `${f} (${n})`);
  return sorted.length > 5 ? `${shown.join(", ")}, +${sorted.length - 5} more` : shown.join(", ");
}

const TIMELINE_KINDS = ["Activity", "Bookmark", "SecurityAlert", "Anomaly"];
const DEFAULT_BUCKETS = 24;

export function timeline(store: WorkspaceStore, ids: WorkspaceIds, e: EntityRef, raw: unknown) {
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
