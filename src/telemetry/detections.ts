import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { executeKql } from "../kql/index.js";
import type { KqlDataSource, KqlResult } from "../kql/types.js";

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

/** "5m" / "1h" / "14d" → ms, as the YAML format writes durations. */
export function shortDurationMs(s: string): number {
  const m = /^(\d+)([mhd])$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a duration like 5m, 1h or 1d`);
  return Number(m[1]) * SPAN[m[2]!]!;
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
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(r.id)) p.push("id must be a GUID");
  if (r.kind !== "Scheduled") p.push("kind must be Scheduled");
  return p;
}

export interface DetectionRun {
  rule: DetectionRule;
  result: KqlResult;
  fired: boolean;
  entities: string[];
}

/** Runs a rule's query as Sentinel would at `now`, and applies its trigger. */
export function runDetection(rule: DetectionRule, source: KqlDataSource, now = Date.now()): DetectionRun {
  const result = executeKql(rule.query, source, {
    now,
    timespan: { start: now - shortDurationMs(rule.queryPeriod), end: now + 1 },
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
  return { rule, result, fired, entities };
}
