import { AsyncLocalStorage } from "node:async_hooks";
import type {
  AutomationRule,
  Incident,
  IncidentComment,
  ScheduledAlertRule,
  SecurityAlert,
  Watchlist,
  WatchlistItem,
} from "@azure/arm-securityinsight";
import type { LogsQueryClient } from "@azure/monitor-query-logs";
import { DEFAULT_MAX_QUERY_SECONDS } from "../governance/decide.js";
import { GovernanceError } from "../governance/errors.js";
import type {
  AlertSummary,
  AnalyticsRule,
  AutomationRuleSummary,
  BookmarkInput,
  BookmarkSummary,
  CommentSummary,
  EntitySummary,
  IncidentPatch,
  IncidentSummary,
  ListIncidentsOptions,
  QueryOptions,
  QueryReads,
  QueryTable,
  SavedSearchSummary,
  SdkClients,
  SentinelBackend,
  WatchlistItemSummary,
  WatchlistSummary,
  WorkspaceIds,
} from "./backend.js";
import type {
  AlertRuleTemplateSummary,
  DataConnectorSummary,
  EntityDetail,
  EntityInsights,
  EntityTimeline,
  IndicatorQuery,
  IndicatorSummary,
  InsightsRequest,
  TimelineRequest,
} from "./discovery-types.js";
import { BackendError } from "./errors.js";
import {
  toAlertRuleTemplate,
  toDataConnector,
  toEntityDetail,
  toFilteringCriteria,
  toIndicator,
  toInsights,
  toTimeline,
} from "./sdk-discovery-mappers.js";
import { toBookmark, toBookmarkBody, toSavedSearch } from "./sdk-hunting.js";

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
    // Through wrap like every other call: a failed page is a backend_error, not a raw SDK error.
    return wrap(async () => {
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
    });
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
      throw new BackendError(
        "failed",
        `incident ${id} changed since its state was captured (etag ${current.etag}, expected ${expectedEtag})`,
        { status: 412, fix: "read it again and re-request approval" },
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

  private get rg(): [string, string] {
    return [this.ids.resourceGroup, this.ids.workspaceName];
  }

  async incidentEntities(id: string): Promise<EntitySummary[]> {
    const res = await wrap(() => this.clients.securityInsights.incidents.listEntities(...this.rg, id));
    return (res.entities ?? []).map((e) => ({
      id: e.name ?? "",
      kind: String(e.kind),
      name: String(
        (e as { friendlyName?: string }).friendlyName ??
          (e as { properties?: { friendlyName?: string } }).properties?.friendlyName ??
          e.name ??
          "",
      ),
    }));
  }

  async listComments(incidentId: string): Promise<CommentSummary[]> {
    const out: CommentSummary[] = [];
    await wrap(async () => {
      for await (const c of this.clients.securityInsights.incidentComments.list(...this.rg, incidentId))
        out.push(toComment(c));
    });
    return out;
  }

  async addComment(incidentId: string, commentId: string, message: string): Promise<CommentSummary> {
    return toComment(
      await wrap(() =>
        this.clients.securityInsights.incidentComments.createOrUpdate(...this.rg, incidentId, commentId, { message }),
      ),
    );
  }

  async listAnalyticsRules(): Promise<AnalyticsRule[]> {
    const out: AnalyticsRule[] = [];
    await wrap(async () => {
      for await (const r of this.clients.securityInsights.alertRules.list(...this.rg))
        if (r.kind === "Scheduled") out.push(toRule(r as ScheduledAlertRule));
    });
    return out;
  }

  async getAnalyticsRule(id: string): Promise<AnalyticsRule> {
    const r = await wrap(() => this.clients.securityInsights.alertRules.get(...this.rg, id));
    if (r.kind !== "Scheduled")
      throw new BackendError("failed", `rule ${id} is a ${r.kind} rule; only Scheduled rules are supported`);
    return toRule(r as ScheduledAlertRule);
  }

  async putAnalyticsRule(rule: AnalyticsRule, expectedEtag?: string): Promise<AnalyticsRule> {
    const body: ScheduledAlertRule = {
      kind: "Scheduled",
      ...(expectedEtag ? { etag: expectedEtag } : {}),
      displayName: rule.displayName,
      ...(rule.description ? { description: rule.description } : {}),
      enabled: rule.enabled,
      severity: rule.severity,
      query: rule.query,
      queryFrequency: rule.queryFrequency,
      queryPeriod: rule.queryPeriod,
      triggerOperator: rule.triggerOperator,
      triggerThreshold: rule.triggerThreshold,
      suppressionDuration: "PT5H",
      suppressionEnabled: false,
      tactics: rule.tactics,
    } as ScheduledAlertRule;
    const r = await wrap(() => this.clients.securityInsights.alertRules.createOrUpdate(...this.rg, rule.id, body));
    return toRule(r as ScheduledAlertRule);
  }

  async deleteAnalyticsRule(id: string): Promise<void> {
    await wrap(() => this.clients.securityInsights.alertRules.delete(...this.rg, id));
  }

  async listAutomationRules(): Promise<AutomationRuleSummary[]> {
    const out: AutomationRuleSummary[] = [];
    await wrap(async () => {
      for await (const r of this.clients.securityInsights.automationRules.list(...this.rg)) out.push(toAutomation(r));
    });
    return out;
  }

  async getAutomationRule(id: string): Promise<AutomationRuleSummary> {
    return toAutomation(await wrap(() => this.clients.securityInsights.automationRules.get(...this.rg, id)));
  }

  async putAutomationRule(rule: AutomationRuleSummary, expectedEtag?: string): Promise<AutomationRuleSummary> {
    const current = await wrap(() => this.clients.securityInsights.automationRules.get(...this.rg, rule.id));
    if (expectedEtag && current.etag && current.etag !== expectedEtag) {
      throw new BackendError("failed", `automation rule ${rule.id} changed since it was read`, {
        status: 412,
        fix: "read it again and re-request approval",
      });
    }
    const next: AutomationRule = {
      ...current,
      displayName: rule.displayName,
      order: rule.order,
      triggeringLogic: { ...current.triggeringLogic, isEnabled: rule.enabled },
      actions: rule.actions as AutomationRule["actions"],
    };
    return toAutomation(
      await wrap(() =>
        this.clients.securityInsights.automationRules.createOrUpdate(...this.rg, rule.id, {
          automationRuleToUpsert: next,
        }),
      ),
    );
  }

  async listWatchlists(): Promise<WatchlistSummary[]> {
    const out: WatchlistSummary[] = [];
    await wrap(async () => {
      for await (const w of this.clients.securityInsights.watchlists.list(...this.rg)) out.push(toWatchlist(w));
    });
    return out;
  }

  async listWatchlistItems(alias: string): Promise<WatchlistItemSummary[]> {
    const out: WatchlistItemSummary[] = [];
    await wrap(async () => {
      for await (const i of this.clients.securityInsights.watchlistItems.list(...this.rg, alias)) out.push(toItem(i));
    });
    return out;
  }

  async putWatchlistItem(alias: string, id: string, values: Record<string, unknown>): Promise<WatchlistItemSummary> {
    return toItem(
      await wrap(() =>
        this.clients.securityInsights.watchlistItems.createOrUpdate(...this.rg, alias, id, { itemsKeyValue: values }),
      ),
    );
  }

  async deleteWatchlistItem(alias: string, id: string): Promise<void> {
    await wrap(() => this.clients.securityInsights.watchlistItems.delete(...this.rg, alias, id));
  }

  async listSavedSearches(): Promise<SavedSearchSummary[]> {
    const res = await wrap(() => this.clients.operationalInsights.savedSearches.listByWorkspace(...this.rg));
    return (res.value ?? []).map(toSavedSearch);
  }

  async getSavedSearch(id: string): Promise<SavedSearchSummary> {
    return toSavedSearch(await wrap(() => this.clients.operationalInsights.savedSearches.get(...this.rg, id)));
  }

  async listBookmarks(): Promise<BookmarkSummary[]> {
    const out: BookmarkSummary[] = [];
    await wrap(async () => {
      for await (const b of this.clients.securityInsights.bookmarks.list(...this.rg)) out.push(toBookmark(b));
    });
    return out;
  }

  async getBookmark(id: string): Promise<BookmarkSummary> {
    return toBookmark(await wrap(() => this.clients.securityInsights.bookmarks.get(...this.rg, id)));
  }

  async putBookmark(id: string, bookmark: BookmarkInput): Promise<BookmarkSummary> {
    return toBookmark(
      await wrap(() =>
        this.clients.securityInsights.bookmarks.createOrUpdate(...this.rg, id, toBookmarkBody(bookmark)),
      ),
    );
  }

  async deleteBookmark(id: string): Promise<void> {
    await wrap(() => this.clients.securityInsights.bookmarks.delete(...this.rg, id));
  }

  async getEntity(id: string): Promise<EntityDetail> {
    return toEntityDetail(await wrap(() => this.clients.securityInsights.entities.get(...this.rg, id)));
  }

  async entityTimeline(id: string, req: TimelineRequest): Promise<EntityTimeline> {
    const res = await wrap(() =>
      this.clients.securityInsights.entitiesGetTimeline.list(...this.rg, id, {
        startTime: new Date(req.startTime),
        endTime: new Date(req.endTime),
        ...(req.kinds ? { kinds: req.kinds } : {}),
        ...(req.buckets ? { numberOfBucket: req.buckets } : {}),
      }),
    );
    return toTimeline(res);
  }

  async entityInsights(id: string, req: InsightsRequest): Promise<EntityInsights> {
    const si = this.clients.securityInsights;
    // The insight definitions (titles, descriptions) come from the entity's Insight queries.
    const [res, queries] = await Promise.all([
      wrap(() =>
        si.entities.getInsights(...this.rg, id, {
          startTime: new Date(req.startTime),
          endTime: new Date(req.endTime),
          ...(req.extendTimeRange !== undefined ? { addDefaultExtendedTimeRange: req.extendTimeRange } : {}),
          ...(req.insightIds ? { insightQueryIds: req.insightIds } : {}),
        }),
      ),
      wrap(() => si.entities.queries(...this.rg, id, "Insight")),
    ]);
    return toInsights(res, queries.value ?? []);
  }

  async listIndicators(top: number): Promise<IndicatorSummary[]> {
    const out: IndicatorSummary[] = [];
    await wrap(async () => {
      for await (const i of this.clients.securityInsights.threatIntelligenceIndicators.list(...this.rg, { top })) {
        out.push(toIndicator(i));
        if (out.length >= top) break;
      }
    });
    return out;
  }

  async queryIndicators(query: IndicatorQuery, top: number): Promise<IndicatorSummary[]> {
    const out: IndicatorSummary[] = [];
    const criteria = toFilteringCriteria(query, Math.min(top, 100));
    await wrap(async () => {
      for await (const i of this.clients.securityInsights.threatIntelligenceIndicator.listQueryIndicators(
        ...this.rg,
        criteria,
      )) {
        out.push(toIndicator(i));
        if (out.length >= top) break;
      }
    });
    return out;
  }

  async listAlertRuleTemplates(): Promise<AlertRuleTemplateSummary[]> {
    const out: AlertRuleTemplateSummary[] = [];
    await wrap(async () => {
      for await (const t of this.clients.securityInsights.alertRuleTemplates.list(...this.rg))
        out.push(toAlertRuleTemplate(t));
    });
    return out;
  }

  async getAlertRuleTemplate(id: string): Promise<AlertRuleTemplateSummary> {
    return toAlertRuleTemplate(await wrap(() => this.clients.securityInsights.alertRuleTemplates.get(...this.rg, id)));
  }

  async listDataConnectors(): Promise<DataConnectorSummary[]> {
    const out: DataConnectorSummary[] = [];
    await wrap(async () => {
      for await (const c of this.clients.securityInsights.dataConnectors.list(...this.rg)) out.push(toDataConnector(c));
    });
    return out;
  }

  async ingestEvents(events: Record<string, unknown>[]): Promise<void> {
    const ing = this.clients.ingestion;
    if (!ing)
      throw new GovernanceError(
        "telemetry_failed",
        "no Logs Ingestion endpoint is configured",
        "set GSMCP_DCE_ENDPOINT and GSMCP_DCR_ID, or use the jsonl sink",
      );
    await ing.client.upload(ing.dcrImmutableId, ing.stream, events);
  }

  /**
   * Runs KQL through the Log Analytics query API with a hard wall-clock bound: `serverTimeoutSeconds` goes out as
   * the server timeout (Prefer: wait=N) and the call is abandoned client-side QUERY_GRACE_MS later (or when
   * `abortSignal` fires). Asks for statistics: the embedded workspace reports there what the engine read.
   */
  async queryLogs(query: string, timespan: string, opts: QueryOptions = {}): Promise<QueryTable> {
    const seconds = opts.serverTimeoutSeconds ?? DEFAULT_MAX_QUERY_SECONDS;
    const deadline = AbortSignal.timeout(seconds * 1000 + QUERY_GRACE_MS);
    const signal = opts.abortSignal ? AbortSignal.any([deadline, opts.abortSignal]) : deadline;
    const client = this.clients.logsQuery;
    installQueryPolicies(client.pipeline);
    let res: Awaited<ReturnType<typeof client.queryWorkspace>>;
    try {
      res = await untilAborted(
        signal,
        queryCall.run(signal, () =>
          client.queryWorkspace(
            this.ids.workspaceId,
            query,
            { duration: timespan },
            { serverTimeoutInSeconds: seconds, includeQueryStatistics: true, abortSignal: signal },
          ),
        ),
      );
    } catch (e) {
      throw queryError(e, seconds, deadline, opts.abortSignal);
    }
    if (res.status !== "Success") {
      const err = (res as { partialError?: { message?: string } }).partialError;
      throw new BackendError("failed", `query returned partial results: ${err?.message ?? "unknown error"}`);
    }
    const table = res.tables[0];
    const reads = readsFrom(res.statistics);
    if (!table) return { columns: [], rows: [], ...(reads ? { reads } : {}) };
    return {
      columns: table.columnDescriptors.map((c) => ({ name: c.name ?? "", type: c.type ?? "string" })),
      rows: table.rows.map((r) => r.map((v) => (v instanceof Date ? v.toISOString() : v))),
      ...(reads ? { reads } : {}),
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
    throw backendError(e);
  }
}

/** An SDK failure as a BackendError with the HTTP status, the SDK's error kept as cause. */
function backendError(e: unknown): BackendError {
  if (e instanceof BackendError) return e;
  const err = e as { statusCode?: number; code?: string; message?: string };
  const status = err.statusCode ? ` (HTTP ${err.statusCode}${err.code ? ` ${err.code}` : ""})` : "";
  return new BackendError(
    err.statusCode === 404 ? "not_found" : "failed",
    `Sentinel call failed${status}: ${err.message ?? String(e)}`,
    {
      ...(err.statusCode ? { status: err.statusCode } : {}),
      cause: e,
    },
  );
}

/** How long past the server timeout the client waits for an answer (network, result transfer) before abandoning. */
export const QUERY_GRACE_MS = 2_000;
const QUERY_FIX =
  "narrow the timespan, filter early (where before join, summarize or extend), avoid cross joins and per-row " +
  "regex/string work over large tables, or raise the policy's max_query_seconds if the query is meant to be slow";

/** The abort signal of the queryLogs call in progress, for the pipeline policy below (the SDK drops abortSignal). */
const queryCall = new AsyncLocalStorage<AbortSignal>();
type QueryPipeline = LogsQueryClient["pipeline"];
const withQueryPolicies = new WeakSet<QueryPipeline>();

/** The query API answered 504: the query passed its server timeout. Not a RestError, so the SDK does not retry it. */
class QueryServerTimeout extends Error {
  constructor(readonly serverMessage: string) {
    super(serverMessage);
  }
}

/**
 * LogsQueryClient.queryWorkspace passes only `requestOptions` and the Prefer header down its pipeline: its
 * `abortSignal` option never reaches the request. Two policies, active only inside queryLogs, make the bound hold:
 * one puts the call's signal on the request (covering retries and their back-off), one turns a 504 into an error the
 * retry policy does not retry (the same query would time out again, and each retry would hold a server worker).
 */
function installQueryPolicies(pipeline: QueryPipeline): void {
  if (withQueryPolicies.has(pipeline)) return;
  withQueryPolicies.add(pipeline);
  pipeline.addPolicy({
    name: "gsmcpQueryAbortSignal",
    sendRequest(request, next) {
      const signal = queryCall.getStore();
      if (signal)
        request.abortSignal = request.abortSignal
          ? AbortSignal.any([request.abortSignal as AbortSignal, signal])
          : signal;
      return next(request);
    },
  });
  pipeline.addPolicy(
    {
      name: "gsmcpQueryTimeoutNoRetry",
      async sendRequest(request, next) {
        const res = await next(request);
        if (res.status !== 504 || !queryCall.getStore()) return res;
        let message = res.bodyAsText ?? "";
        try {
          message = (JSON.parse(message) as { error?: { message?: string } }).error?.message ?? message;
        } catch {
          // not JSON: keep the text
        }
        throw new QueryServerTimeout(message || "gateway timeout");
      },
    },
    { afterPhase: "Retry" },
  );
}

/** Settles with `p`, or rejects as soon as `signal` fires (whatever the SDK is still doing). */
function untilAborted<T>(signal: AbortSignal, p: Promise<T>): Promise<T> {
  p.catch(() => {}); // an abandoned call's late failure is not unhandled
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

function queryError(e: unknown, seconds: number, deadline: AbortSignal, caller: AbortSignal | undefined): BackendError {
  if (e instanceof QueryServerTimeout)
    return new BackendError("timeout", `Sentinel query timed out (HTTP 504): ${e.serverMessage}`, {
      status: 504,
      fix: QUERY_FIX,
      details: { reason: "timeout", timeoutSeconds: seconds },
      cause: e,
    });
  if (caller?.aborted && !deadline.aborted)
    return new BackendError("cancelled", "Sentinel query cancelled by the caller", {
      details: { reason: "cancelled" },
      cause: e,
    });
  if (deadline.aborted)
    return new BackendError(
      "timeout",
      `Sentinel query exceeded the server timeout of ${seconds}s (no answer within ${seconds + QUERY_GRACE_MS / 1000}s)`,
      { fix: QUERY_FIX, details: { reason: "timeout", timeoutSeconds: seconds }, cause: e },
    );
  if ((e as { code?: string }).code === "QueryResourceLimitError")
    return new BackendError("limit", `Sentinel query hit a resource limit: ${(e as Error).message}`, {
      status: 400,
      fix: QUERY_FIX,
      details: { reason: "limit" },
      cause: e,
    });
  return backendError(e);
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/** What the engine read, from the embedded workspace's statistics (query.tablesRead/storedFunctionsRead), if valid. */
function readsFrom(statistics: unknown): QueryReads | undefined {
  const q = (statistics as { query?: { tablesRead?: unknown; storedFunctionsRead?: unknown } } | undefined)?.query;
  if (!isStrings(q?.tablesRead) || !isStrings(q?.storedFunctionsRead)) return undefined;
  return { tables: [...q.tablesRead], storedFunctions: [...q.storedFunctionsRead] };
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

function toComment(c: IncidentComment): CommentSummary {
  return {
    id: c.name ?? "",
    message: c.message ?? "",
    ...(c.author?.name || c.author?.email ? { author: c.author.name ?? c.author.email } : {}),
    ...(c.createdTimeUtc ? { createdTime: iso(c.createdTimeUtc) } : {}),
  };
}

function toRule(r: ScheduledAlertRule): AnalyticsRule {
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

function toAutomation(r: AutomationRule): AutomationRuleSummary {
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

function toWatchlist(w: Watchlist): WatchlistSummary {
  return {
    alias: w.watchlistAlias ?? w.name ?? "",
    displayName: w.displayName ?? "",
    ...(w.provider ? { provider: w.provider } : {}),
    ...(w.itemsSearchKey ? { itemsSearchKey: w.itemsSearchKey } : {}),
    ...(w.description ? { description: w.description } : {}),
  };
}

function toItem(i: WatchlistItem): WatchlistItemSummary {
  return { id: i.name ?? "", values: (i.itemsKeyValue ?? {}) as Record<string, unknown> };
}
