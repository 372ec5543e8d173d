import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { executeKql } from "../kql/index.js";
import { stampIngestionTime } from "../kql/ingestion.js";
import { slideRule, type TriggerOperator } from "../kql/slide.js";
import type { KqlDataSource, KqlResult, KqlTable } from "../kql/types.js";
import type { AgentSecurityEvent } from "../types/agent-security-event.js";
import { LOG_TABLES, STORED_FUNCTIONS } from "../workspace/schemas.js";
import { watchlistItemRow } from "../workspace/seed-watchlists.js";
import { eventsTable } from "./events-table.js";

/** An analytic rule in the Azure-Sentinel repository's YAML format (the fields we use). */
export interface DetectionRule {
  id: string;
  name: string;
  description: string;
  severity: "Informational" | "Low" | "Medium" | "High";
  requiredDataConnectors: unknown[];
  queryFrequency: string;
  queryPeriod: string;
  triggerOperator: "gt" | "lt" | "eq" | "ne";
  triggerThreshold: number;
  tactics: string[];
  relevantTechniques: string[];
  query: string;
  entityMappings: { entityType: string; fieldMappings: { identifier: string; columnName: string }[] }[];
  /** Alert custom details: name → result column. */
  customDetails?: Record<string, string>;
  alertDetailsOverride?: {
    alertDisplayNameFormat?: string;
    alertDescriptionFormat?: string;
    alertSeverityColumnName?: string;
    alertTacticsColumnName?: string;
  };
  eventGroupingSettings?: { aggregationKind: "SingleAlert" | "AlertPerResult" };
  incidentConfiguration?: {
    createIncident: boolean;
    groupingConfiguration?: {
      enabled: boolean;
      reopenClosedIncident: boolean;
      lookbackDuration: string;
      matchingMethod: "AllEntities" | "AnyAlert" | "Selected";
      groupByEntities?: string[];
      groupByAlertDetails?: string[];
      groupByCustomDetails?: string[];
    };
  };
  version: string;
  kind: "Scheduled";
  file: string;
}

export function loadDetections(dir: string): DetectionRule[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => ({ ...(parseYaml(readFileSync(join(dir, f), "utf8")) as Omit<DetectionRule, "file">), file: f }));
}

const SPAN: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Sentinel's entity types (there are no custom ones). */
export const BUILT_IN_ENTITY_TYPES: readonly string[] = [
  "Account",
  "Host",
  "IP",
  "Malware",
  "File",
  "Process",
  "CloudApplication",
  "DNS",
  "AzureResource",
  "FileHash",
  "RegistryKey",
  "RegistryValue",
  "SecurityGroup",
  "URL",
  "Mailbox",
  "MailCluster",
  "MailMessage",
  "SubmissionMail",
];

/** Tables a rule's query period does not bound: Sentinel analytics look watchlists up whatever the period. */
export const UNBOUNDED_TABLES: readonly string[] = ["Watchlist"];

/** "5m" / "1h" / "14d" → ms, as the YAML format writes durations. */
export function shortDurationMs(s: string): number {
  const m = /^(\d+)([mhd])$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a duration like 5m, 1h or 1d`);
  return Number(m[1]) * SPAN[m[2]!]!;
}

/** A duration as the YAML writes it: "5m" / "1h" / "14d", or ISO 8601 "PT5H" / "P1D" (grouping lookbackDuration). */
export function durationMs(s: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(s);
  if (!m || s === "P" || s.endsWith("T")) return shortDurationMs(s);
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000;
}

/** Sentinel's CI checks on a rule's fields (period ≥ frequency, 5 minutes to 14 days, 1–5 entity mappings). */
export function ruleProblems(r: DetectionRule): string[] {
  const p: string[] = [];
  const f = shortDurationMs(r.queryFrequency);
  const q = shortDurationMs(r.queryPeriod);
  if (q < f) p.push("queryPeriod must be ≥ queryFrequency");
  for (const [k, v] of [
    ["queryFrequency", f],
    ["queryPeriod", q],
  ] as const)
    if (v < 5 * SPAN.m! || v > 14 * SPAN.d!) p.push(`${k} must be between 5m and 14d`);
  if (r.entityMappings.length < 1 || r.entityMappings.length > 5) p.push("1 to 5 entity mappings");
  for (const m of r.entityMappings) {
    if (!BUILT_IN_ENTITY_TYPES.includes(m.entityType)) p.push(`entity type ${m.entityType} is not a built-in type`);
    if (m.fieldMappings.length < 1 || m.fieldMappings.length > 3) p.push(`${m.entityType}: 1 to 3 identifiers`);
  }
  const details = Object.keys(r.customDetails ?? {});
  if (details.length > 20) p.push("at most 20 custom details");
  for (const k of details) if (!/^[A-Za-z][A-Za-z0-9_]{0,19}$/.test(k)) p.push(`custom detail key "${k}"`);
  const o = r.alertDetailsOverride;
  for (const [k, max] of [
    ["alertDisplayNameFormat", 256],
    ["alertDescriptionFormat", 5000],
  ] as const) {
    const v = o?.[k];
    if (v === undefined) continue;
    if (v.length > max) p.push(`${k} longer than ${max}`);
    if ((v.match(/\{\{[^}]+\}\}/g) ?? []).length > 3) p.push(`${k}: at most 3 parameters`);
  }
  const g = r.incidentConfiguration?.groupingConfiguration;
  if (g) {
    const look = durationMs(g.lookbackDuration);
    if (look < 5 * SPAN.m! || look > 7 * SPAN.d!) p.push("grouping lookbackDuration must be between 5m and 7d");
    if (g.matchingMethod !== "Selected" && (g.groupByCustomDetails?.length || g.groupByEntities?.length))
      p.push("grouping by entities or custom details needs matchingMethod Selected");
    for (const d of g.groupByCustomDetails ?? [])
      if (!details.includes(d)) p.push(`groupByCustomDetails names ${d}, not a custom detail`);
    for (const e of g.groupByEntities ?? [])
      if (!r.entityMappings.some((m) => m.entityType === e)) p.push(`groupByEntities names ${e}, not a mapped entity`);
  }
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(r.id)) p.push("id must be a GUID");
  if (r.kind !== "Scheduled") p.push("kind must be Scheduled");
  if (r.query.length > 10_000) p.push("query longer than 10,000 characters");
  return p;
}

export interface DetectionRun {
  rule: DetectionRule;
  result: KqlResult;
  fired: boolean;
  /** Alerts the run raises: one per result row (AlertPerResult), else one when it fires. */
  alerts: number;
  entities: string[];
}

/** Runs a rule's query as Sentinel would at `now`, and applies its trigger. */
export function runDetection(rule: DetectionRule, source: KqlDataSource, now = Date.now()): DetectionRun {
  const result = executeKql(rule.query, withWatchlist(source), {
    now,
    timespan: { start: now - shortDurationMs(rule.queryPeriod), end: now + 1 },
    unboundedTables: UNBOUNDED_TABLES,
    ingestedBy: now,
  });
  const n = result.rows.length;
  const t = rule.triggerThreshold;
  const fired =
    rule.triggerOperator === "gt"
      ? n > t
      : rule.triggerOperator === "lt"
        ? n < t
        : rule.triggerOperator === "eq"
          ? n === t
          : n !== t;
  const cols = rule.entityMappings.flatMap((m) => m.fieldMappings.map((f) => f.columnName));
  const idx = cols.map((c) => result.columns.findIndex((x) => x.name === c)).filter((i) => i >= 0);
  const entities = [...new Set(result.rows.flatMap((r) => idx.map((i) => String(r[i]))))];
  const alerts = !fired ? 0 : rule.eventGroupingSettings?.aggregationKind === "AlertPerResult" ? n : 1;
  return { rule, result, fired, alerts, entities };
}

/** The expected ingestion delay every rule allows for (the `Delay` let of its query). */
export const EXPECTED_DELAY_MS = 5 * 60_000;

const TRIGGER: Record<DetectionRule["triggerOperator"], TriggerOperator> = {
  gt: "GreaterThan",
  lt: "LessThan",
  eq: "Equal",
  ne: "NotEqual",
};

export interface DetectionReplay {
  rule: DetectionRule;
  /** Scheduled runs replayed. */
  runs: number;
  /** Alerts raised over all runs. */
  alerts: number;
  fired: boolean;
  /** Entities of every alerting run. */
  entities: string[];
}

/**
 * The rule as Sentinel would have run it over events in [from, to]: every scheduled run (multiples of its frequency)
 * from before `from` until the last event has arrived and been judged, each seeing only what had been ingested by then.
 */
export function replayDetection(
  rule: DetectionRule,
  source: KqlDataSource,
  window: { from: number; to: number },
): DetectionReplay {
  const f = shortDurationMs(rule.queryFrequency);
  const end = Math.ceil((window.to + EXPECTED_DELAY_MS + 2 * f) / f) * f;
  const start = window.from - f;
  const src = withWatchlist(source);
  const slide = slideRule(rule.query, src, {
    end,
    lookbackMs: end - start,
    frequencyMs: f,
    periodMs: shortDurationMs(rule.queryPeriod),
    operator: TRIGGER[rule.triggerOperator],
    threshold: rule.triggerThreshold,
    sampleSize: 0,
    asIngested: true,
    unboundedTables: UNBOUNDED_TABLES,
    maxFirings: 10_000,
  });
  const perResult = rule.eventGroupingSettings?.aggregationKind === "AlertPerResult";
  const entities = new Set<string>();
  for (const firing of slide.firings) for (const e of runDetection(rule, src, firing.runTime).entities) entities.add(e);
  return {
    rule,
    runs: slide.runs,
    alerts: perResult ? slide.firings.reduce((n, x) => n + x.count, 0) : slide.fired,
    fired: slide.fired > 0,
    entities: [...entities].sort(),
  };
}

/** The source with an empty Watchlist table when it has none (the rules read the AgentAllowlist watchlist). */
function withWatchlist(source: KqlDataSource): KqlDataSource {
  if (source.table("Watchlist")) return source;
  const empty: KqlTable = { name: "Watchlist", columns: LOG_TABLES.Watchlist!, rows: [] };
  return {
    table: (name) => (name === "Watchlist" ? empty : source.table(name)),
    tableNames: () => [...new Set([...source.tableNames(), "Watchlist"])],
    storedFunction: (name) => source.storedFunction?.(name) ?? STORED_FUNCTIONS[name],
  };
}

/** An AgentAllowlist watchlist entry (examples/watchlists/AgentAllowlist.csv). */
export interface AllowlistEntry {
  Agent: string;
  Tool: string;
  JobPattern: string;
  /** ISO 8601; the entry suppresses events before it. */
  Expiry: string;
  Reason?: string;
}

/**
 * A data source as the rules see a workspace: the events (each visible from its ingestion time, when given: ms after
 * its TimeGenerated, per event) in AgentSecurityEvent_CL, the allowlist as Watchlist rows, and the stored functions.
 */
export function detectionSource(
  events: AgentSecurityEvent[],
  opts: { allowlist?: AllowlistEntry[]; ingestionDelayMs?: (e: AgentSecurityEvent, i: number) => number } = {},
): KqlDataSource {
  const t = eventsTable(events);
  const delay = opts.ingestionDelayMs;
  if (delay) t.rows.forEach((r, i) => void stampIngestionTime(r, (r[0] as number) + delay(events[i]!, i)));
  const watchlist: KqlTable = {
    name: "Watchlist",
    columns: LOG_TABLES.Watchlist!,
    rows: (opts.allowlist ?? []).map((e, i) =>
      watchlistItemRow({
        alias: "AgentAllowlist",
        id: `allow-${i}`,
        item: { ...e } as unknown as Record<string, string>,
        searchKey: e.Agent,
        updated: 0,
      }),
    ),
  };
  return {
    table: (name) => (name === t.name ? t : name === "Watchlist" ? watchlist : undefined),
    tableNames: () => [t.name, "Watchlist"],
    storedFunction: (name) => STORED_FUNCTIONS[name],
  };
}
