import type { AutomationRule, Incident, ScheduledAlertRule } from "@azure/arm-securityinsight";
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
  QueryTable,
  SavedSearchSummary,
  SdkClients,
  SentinelBackend,
  WatchlistItemSummary,
  WatchlistSummary,
  WorkspaceIds,
  WorkspacePermission,
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
import { wrap } from "./sdk-errors.js";
import { toBookmark, toBookmarkBody, toSavedSearch } from "./sdk-hunting.js";
import {
  toAlertSummary,
  toAutomation,
  toComment,
  toIncidentSummary,
  toItem,
  toRule,
  toWatchlist,
} from "./sdk-mappers.js";
import { runLogsQuery } from "./sdk-query.js";

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
    // PUT replaces the whole rule: an update starts from the rule as Sentinel holds it, so what our fields do not
    // cover (suppression, entity mappings, incident configuration, grouping, custom details, techniques) survives.
    const existing = await wrap(() => this.clients.securityInsights.alertRules.get(...this.rg, rule.id)).then(
      (r) => (r.kind === "Scheduled" ? (r as ScheduledAlertRule) : undefined),
      (e: unknown) => {
        if (e instanceof BackendError && e.failure === "not_found") return undefined;
        throw e;
      },
    );
    const {
      id: _id,
      name: _name,
      type: _type,
      systemData: _sys,
      lastModifiedUtc: _mod,
      etag: _etag,
      ...kept
    } = (existing ?? {}) as ScheduledAlertRule;
    const body: ScheduledAlertRule = {
      suppressionDuration: "PT5H",
      suppressionEnabled: false,
      ...kept,
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

  async entityTimeline(
    id: string,
    req: TimelineRequest,
    opts: { abortSignal?: AbortSignal } = {},
  ): Promise<EntityTimeline> {
    const res = await wrap(() =>
      this.clients.securityInsights.entitiesGetTimeline.list(
        ...this.rg,
        id,
        {
          startTime: new Date(req.startTime),
          endTime: new Date(req.endTime),
          ...(req.kinds ? { kinds: req.kinds } : {}),
          ...(req.buckets ? { numberOfBucket: req.buckets } : {}),
        },
        opts.abortSignal ? { abortSignal: opts.abortSignal } : undefined,
      ),
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
    return runLogsQuery(this.clients.logsQuery, this.ids.workspaceId, query, timespan, opts);
  }

  /** GET …/workspaces/{name}/providers/Microsoft.Authorization/permissions, under this backend's own credential. */
  async permissions(): Promise<WorkspacePermission[]> {
    const auth = this.clients.authorization;
    if (!auth)
      throw new BackendError("failed", "this backend has no Microsoft.Authorization client", {
        fix: "open it with openAzureBackend or the embedded workspace's clients",
      });
    const out: WorkspacePermission[] = [];
    await wrap(async () => {
      // No parent resource: the workspace is a top-level resource of Microsoft.OperationalInsights.
      for await (const p of auth.permissions.listForResource(
        this.ids.resourceGroup,
        "Microsoft.OperationalInsights",
        "",
        "workspaces",
        this.ids.workspaceName,
      ))
        out.push(p);
    });
    return out;
  }

  close(): Promise<void> {
    return this.onClose();
  }
}
