import type { SavedSearch } from "@azure/arm-operationalinsights";
import type { AttackTactic, Bookmark } from "@azure/arm-securityinsight";
import type { BookmarkInput, BookmarkSummary, SavedSearchSummary } from "./backend.js";

// Mapping between the SDK models of saved searches / bookmarks and the backend's summaries.

/** The saved-search category Sentinel's Hunting blade shows. */
export const HUNTING_CATEGORY = "Hunting Queries";

function iso(d: Date | string | undefined): string | undefined {
  return d instanceof Date ? d.toISOString() : d;
}

export function toSavedSearch(s: SavedSearch): SavedSearchSummary {
  return {
    id: s.name ?? "",
    category: s.category ?? "",
    displayName: s.displayName ?? "",
    query: s.query ?? "",
    tags: (s.tags ?? []).map((t) => ({ name: t.name, value: t.value })),
    ...(s.etag ? { etag: s.etag } : {}),
  };
}

export function toBookmark(b: Bookmark): BookmarkSummary {
  const opt = <K extends string>(k: K, v: string | undefined) => (v ? ({ [k]: v } as Record<K, string>) : {});
  return {
    id: b.name ?? "",
    displayName: b.displayName ?? "",
    query: b.query ?? "",
    ...opt("notes", b.notes),
    labels: b.labels ?? [],
    ...opt("queryResult", b.queryResult),
    ...opt("eventTime", iso(b.eventTime)),
    ...opt("queryStartTime", iso(b.queryStartTime)),
    ...opt("queryEndTime", iso(b.queryEndTime)),
    ...opt("created", iso(b.created)),
    ...opt("updated", iso(b.updated)),
    ...opt("incidentId", b.incidentInfo?.incidentId),
    tactics: (b.tactics ?? []) as string[],
    techniques: b.techniques ?? [],
    ...opt("etag", b.etag),
  };
}

export function toBookmarkBody(b: BookmarkInput): Bookmark {
  const date = (v?: string) => (v ? new Date(v) : undefined);
  const body: Bookmark = {
    displayName: b.displayName,
    query: b.query,
    ...(b.notes !== undefined ? { notes: b.notes } : {}),
    ...(b.labels ? { labels: b.labels } : {}),
    ...(b.queryResult !== undefined ? { queryResult: b.queryResult } : {}),
    ...(b.eventTime ? { eventTime: date(b.eventTime) } : {}),
    ...(b.queryStartTime ? { queryStartTime: date(b.queryStartTime) } : {}),
    ...(b.queryEndTime ? { queryEndTime: date(b.queryEndTime) } : {}),
    ...(b.tactics ? { tactics: b.tactics as AttackTactic[] } : {}),
    ...(b.techniques ? { techniques: b.techniques } : {}),
  };
  return body;
}
