import type {
  AutomationRule,
  Incident,
  IncidentComment,
  ScheduledAlertRule,
  SecurityAlert,
  Watchlist,
  WatchlistItem,
} from "@azure/arm-securityinsight";
import type {
  AlertSummary,
  AnalyticsRule,
  AutomationRuleSummary,
  CommentSummary,
  IncidentSummary,
  WatchlistItemSummary,
  WatchlistSummary,
} from "./backend.js";

// SDK models → the backend's summaries (what tools return). Pure functions of one SDK object each.

export function iso(d: Date | string | undefined): string | undefined {
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

export function toAlertSummary(a: SecurityAlert): AlertSummary {
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

export function toComment(c: IncidentComment): CommentSummary {
  return {
    id: c.name ?? "",
    message: c.message ?? "",
    ...(c.author?.name || c.author?.email ? { author: c.author.name ?? c.author.email } : {}),
    ...(c.createdTimeUtc ? { createdTime: iso(c.createdTimeUtc) } : {}),
  };
}

export function toRule(r: ScheduledAlertRule): AnalyticsRule {
  return {
    id: r.name ?? "",
    displayName: r.displayName ?? "",
    ...(r.description ? { description: r.description } : {}),
    enabled: r.enabled ?? false,
    severity: r.severity ?? "Medium",
    query: r.query ?? "",
    queryFrequency: r.queryFrequency ?? "",
    queryPeriod: r.queryPeriod ?? "",
    triggerOperator: r.triggerOperator ?? "GreaterThan",
    triggerThreshold: r.triggerThreshold ?? 0,
    tactics: (r.tactics ?? []) as string[],
    ...(r.etag ? { etag: r.etag } : {}),
  };
}

export function toAutomation(r: AutomationRule): AutomationRuleSummary {
  return {
    id: r.name ?? "",
    displayName: r.displayName,
    order: r.order,
    enabled: r.triggeringLogic?.isEnabled ?? false,
    ...(r.triggeringLogic?.triggersOn ? { triggersOn: r.triggeringLogic.triggersOn } : {}),
    ...(r.triggeringLogic?.triggersWhen ? { triggersWhen: r.triggeringLogic.triggersWhen } : {}),
    actions: r.actions ?? [],
    ...(r.etag ? { etag: r.etag } : {}),
  };
}

export function toWatchlist(w: Watchlist): WatchlistSummary {
  return {
    alias: w.watchlistAlias ?? w.name ?? "",
    displayName: w.displayName ?? "",
    ...(w.provider ? { provider: w.provider } : {}),
    ...(w.itemsSearchKey ? { itemsSearchKey: w.itemsSearchKey } : {}),
    ...(w.description ? { description: w.description } : {}),
  };
}

export function toItem(i: WatchlistItem): WatchlistItemSummary {
  return { id: i.name ?? "", values: (i.itemsKeyValue ?? {}) as Record<string, unknown> };
}
