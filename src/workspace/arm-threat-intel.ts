import { randomUUID } from "node:crypto";
import { ArmError, type ArmRequest, compileFilter, compileOrder } from "./arm-core.js";
import { assertSpecBody, lower, providerPrefix, requireMethod, resourceView } from "./arm-resources.js";
import type { WorkspaceIds } from "./ids.js";
import type { StoredResource, WorkspaceStore } from "./store.js";

// Threat-intelligence indicators of the local workspace (list with OData paging, queryIndicators with its filter
// body), shaped like Microsoft.SecurityInsights 2022-09-01-preview.

type Result = { status: number; body?: unknown };

const TI_TYPE = "Microsoft.SecurityInsights/ThreatIntelligence";
const TI_PAGE = 100;

function indicatorView(ids: WorkspaceIds, r: StoredResource): Record<string, unknown> {
  return resourceView(`${providerPrefix(ids)}/ThreatIntelligence`, TI_TYPE, r);
}

function indicatorProps(r: StoredResource): Record<string, unknown> {
  return r.body.properties as Record<string, unknown>;
}

/** Active (not revoked) indicators whose parsed pattern value is `value`, valid at some point in [start, end]. */
export function matchingIndicators(store: WorkspaceStore, value: string, start: number, end: number) {
  return store
    .list("tiIndicators")
    .map(indicatorProps)
    .filter((p) => {
      const parsed = (p.parsedPattern as { patternTypeValues?: { value?: string }[] }[] | undefined) ?? [];
      if (!parsed.some((pp) => (pp.patternTypeValues ?? []).some((v) => v.value === value))) return false;
      if (p.revoked === true) return false;
      const from = Date.parse(String(p.validFrom ?? ""));
      const until = p.validUntil ? Date.parse(String(p.validUntil)) : Number.POSITIVE_INFINITY;
      return !(from > end) && until >= start;
    });
}

function pageOf<T>(all: T[], offset: number, size: number): { page: T[]; more: boolean } {
  return { page: all.slice(offset, offset + size), more: offset + size < all.length };
}

export function listIndicators(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest): Result {
  requireMethod(req, "GET", "threatIntelligence/main/indicators");
  const filter = compileFilter(req.query.get("$filter"));
  const order = compileOrder(req.query.get("$orderby"));
  const topParam = req.query.get("$top");
  const top = topParam === null ? undefined : Number(topParam);
  if (top !== undefined && (!Number.isInteger(top) || top < 1))
    throw new ArmError(400, "BadRequest", "$top must be a positive integer");
  const skip = Number(req.query.get("$skipToken") ?? 0);
  if (!Number.isInteger(skip) || skip < 0) throw new ArmError(400, "BadRequest", "$skipToken is not valid");
  const all = store
    .list("tiIndicators")
    .filter((r) => filter(indicatorProps(r)))
    .sort((a, b) => order(indicatorProps(a), indicatorProps(b)));
  const limited = top !== undefined ? all.slice(0, top) : all;
  const { page, more } = pageOf(limited, skip, TI_PAGE);
  const body: { value: unknown[]; nextLink?: string } = { value: page.map((r) => indicatorView(ids, r)) };
  if (more) {
    const next = new URLSearchParams(req.query);
    next.set("$skipToken", String(skip + TI_PAGE));
    body.nextLink = `${req.baseUrl}${providerPrefix(ids)}/threatIntelligence/main/indicators?${next.toString()}`;
  }
  return { status: 200, body };
}

/** Properties queryIndicators may sort by (sortBy[].itemKey). */
export const TI_SORT_KEYS = [
  "confidence",
  "created",
  "displayName",
  "lastUpdatedTimeUtc",
  "source",
  "validFrom",
  "validUntil",
] as const;

interface Criteria {
  pageSize: number;
  minConfidence?: number;
  maxConfidence?: number;
  minValidUntil?: number;
  maxValidUntil?: number;
  includeDisabled: boolean;
  sortBy: { itemKey: string; sortOrder: string }[];
  sources?: string[];
  patternTypes?: string[];
  threatTypes?: string[];
  ids?: string[];
  keywords?: string[];
}

function parseCriteria(raw: unknown): { criteria: Criteria; offset: number; wire: Record<string, unknown> } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new ArmError(400, "BadRequest", "request body must be a ThreatIntelligenceFilteringCriteria JSON object");
  const b = raw as Record<string, unknown>;
  const bad = (msg: string): never => {
    throw new ArmError(400, "BadRequest", msg);
  };
  const num = (f: string, lo: number, hi: number, int = false): number | undefined => {
    const v = b[f];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || v < lo || v > hi || (int && !Number.isInteger(v)))
      bad(`${f} must be ${int ? "an integer" : "a number"} from ${lo} to ${hi}`);
    return v as number;
  };
  const strs = (f: string): string[] | undefined => {
    const v = b[f];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) bad(`${f} must be an array of strings`);
    return v as string[];
  };
  const time = (f: string): number | undefined => {
    const v = b[f];
    if (v === undefined) return undefined;
    const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(t)) bad(`${f} must be an ISO 8601 date-time`);
    return t;
  };
  const sortBy = b.sortBy ?? [];
  if (!Array.isArray(sortBy)) bad("sortBy must be an array of { itemKey, sortOrder }");
  for (const s of sortBy as { itemKey?: unknown; sortOrder?: unknown }[]) {
    if (!TI_SORT_KEYS.includes(s?.itemKey as (typeof TI_SORT_KEYS)[number]))
      bad(`sortBy.itemKey must be one of ${TI_SORT_KEYS.join(", ")}`);
    if (!["ascending", "descending", "unsorted"].includes(String(s.sortOrder ?? "unsorted")))
      bad("sortBy.sortOrder must be ascending, descending or unsorted");
  }
  if (b.includeDisabled !== undefined && typeof b.includeDisabled !== "boolean")
    bad("includeDisabled must be a boolean");
  const skip = b.skipToken === undefined ? 0 : Number(b.skipToken);
  if (!Number.isInteger(skip) || skip < 0) bad("skipToken is not valid: pass the value from a previous response");
  const criteria: Criteria = {
    pageSize: num("pageSize", 1, 1000, true) ?? TI_PAGE,
    includeDisabled: (b.includeDisabled as boolean | undefined) ?? false,
    sortBy: (sortBy as { itemKey: string; sortOrder?: string }[]).map((s) => ({
      itemKey: s.itemKey,
      sortOrder: s.sortOrder ?? "unsorted",
    })),
  };
  const optional: [keyof Criteria, unknown][] = [
    ["minConfidence", num("minConfidence", 0, 100)],
    ["maxConfidence", num("maxConfidence", 0, 100)],
    ["minValidUntil", time("minValidUntil")],
    ["maxValidUntil", time("maxValidUntil")],
    ["sources", strs("sources")],
    ["patternTypes", strs("patternTypes")],
    ["threatTypes", strs("threatTypes")],
    ["ids", strs("ids")],
    ["keywords", strs("keywords")],
  ];
  for (const [k, v] of optional) if (v !== undefined) Object.assign(criteria, { [k]: v });
  const { skipToken: _s, ...wire } = b;
  return { criteria, offset: skip, wire };
}

function matches(c: Criteria, r: StoredResource): boolean {
  const p = indicatorProps(r);
  const conf = Number(p.confidence ?? 0);
  const until = p.validUntil ? Date.parse(String(p.validUntil)) : undefined;
  const ci = (xs: string[] | undefined, v: unknown) => !xs || xs.some((x) => x.toLowerCase() === lower(v as string));
  const anyOf = (xs: string[] | undefined, vs: unknown) =>
    !xs || ((vs as string[] | undefined) ?? []).some((v) => xs.some((x) => x.toLowerCase() === v.toLowerCase()));
  if (!c.includeDisabled && p.revoked === true) return false;
  if (c.minConfidence !== undefined && conf < c.minConfidence) return false;
  if (c.maxConfidence !== undefined && conf > c.maxConfidence) return false;
  if (c.minValidUntil !== undefined && (until === undefined || until < c.minValidUntil)) return false;
  if (c.maxValidUntil !== undefined && (until === undefined || until > c.maxValidUntil)) return false;
  if (!ci(c.sources, p.source) || !ci(c.patternTypes, p.patternType)) return false;
  if (!anyOf(c.threatTypes, p.threatTypes)) return false;
  if (c.ids && !c.ids.includes(r.name)) return false;
  if (c.keywords) {
    // Every keyword must occur (case-insensitive) in the name, description, pattern or tags.
    const text = [p.displayName, p.description, p.pattern, ...((p.threatIntelligenceTags as string[]) ?? [])]
      .map((x) => lower(x as string))
      .join("\n");
    if (!c.keywords.every((k) => text.includes(k.toLowerCase()))) return false;
  }
  return true;
}

function compareBy(sortBy: Criteria["sortBy"]) {
  return (a: StoredResource, b: StoredResource): number => {
    for (const s of sortBy) {
      if (s.sortOrder === "unsorted") continue;
      const x = indicatorProps(a)[s.itemKey] as string | number | undefined;
      const y = indicatorProps(b)[s.itemKey] as string | number | undefined;
      if (x === y) continue;
      // Missing values sort last in either direction.
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x < y ? -1 : 1) * (s.sortOrder === "descending" ? -1 : 1);
    }
    return 0;
  };
}

/**
 * POST queryIndicators with the criteria; the SDK fetches further pages with GET on the nextLink, so the link
 * carries the criteria and offset in $skipToken.
 */
export function queryIndicators(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest): Result {
  let raw: unknown;
  if (req.method === "POST") raw = req.body;
  else if (req.method === "GET") {
    const token = req.query.get("$skipToken");
    if (!token) throw new ArmError(405, "MethodNotAllowed", "use POST with filtering criteria to query indicators");
    try {
      raw = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    } catch {
      throw new ArmError(400, "BadRequest", "$skipToken is not valid: pass the nextLink from a previous response");
    }
  } else throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on queryIndicators; use POST`);
  const { criteria, offset, wire } = parseCriteria(raw);
  const all = store
    .list("tiIndicators")
    .filter((r) => matches(criteria, r))
    .sort(compareBy(criteria.sortBy));
  const { page, more } = pageOf(all, offset, criteria.pageSize);
  const body: { value: unknown[]; nextLink?: string } = { value: page.map((r) => indicatorView(ids, r)) };
  if (more) {
    const token = Buffer.from(JSON.stringify({ ...wire, skipToken: String(offset + criteria.pageSize) })).toString(
      "base64url",
    );
    const q = new URLSearchParams({ "api-version": req.query.get("api-version") ?? "", $skipToken: token });
    body.nextLink = `${req.baseUrl}${providerPrefix(ids)}/threatIntelligence/main/queryIndicators?${q.toString()}`;
  }
  return { status: 200, body };
}

/** Fields of an indicator the service sets: the client's copies are ignored. */
function stampIndicator(
  props: Record<string, unknown>,
  prior: Record<string, unknown> | undefined,
  name: string,
  now: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...props, lastUpdatedTimeUtc: now, modified: now };
  out.created = prior?.created ?? props.created ?? now;
  out.validFrom = props.validFrom ?? prior?.validFrom ?? now;
  out.friendlyName = props.displayName ?? prior?.friendlyName ?? name;
  out.threatIntelligenceTags = props.threatIntelligenceTags ?? prior?.threatIntelligenceTags ?? [];
  // The stored indicator keeps the parsed value of a simple STIX pattern ([type:value = 'x']), so lookups by IP or
  // domain find it as they find the seeded ones.
  const m = /^\[\s*([\w-]+:[\w.'-]+)\s*=\s*'([^']*)'\s*\]$/.exec(String(props.pattern ?? ""));
  if (m) out.parsedPattern = [{ patternTypeKey: m[1], patternTypeValues: [{ valueType: "0", value: m[2] }] }];
  return out;
}

function putIndicator(store: WorkspaceStore, ids: WorkspaceIds, name: string, body: unknown, created: boolean): Result {
  assertSpecBody("ThreatIntelligenceIndicatorModel", body);
  const b = body as { kind?: string; properties?: Record<string, unknown> };
  if (b.kind !== "indicator") throw new ArmError(400, "BadRequest", `kind must be "indicator"`);
  const prior = store.get("tiIndicators", name);
  const props = stampIndicator(
    b.properties ?? {},
    prior?.body.properties as Record<string, unknown> | undefined,
    name,
    new Date().toISOString(),
  );
  store.put("tiIndicators", name, { kind: "indicator", properties: props }, `"${randomUUID()}"`);
  return { status: created && !prior ? 201 : 200, body: indicatorView(ids, store.get("tiIndicators", name)!) };
}

/** POST threatIntelligence/main/createIndicator: a new indicator with a service-chosen name. */
export function createIndicator(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest): Result {
  requireMethod(req, "POST", "createIndicator");
  return putIndicator(store, ids, randomUUID(), req.body, true);
}

/** One indicator: GET / PUT / DELETE threatIntelligence/main/indicators/{name}, and its appendTags / replaceTags. */
export function indicator(store: WorkspaceStore, ids: WorkspaceIds, req: ArmRequest): Result {
  const name = req.segments[3]!;
  const op = req.segments[4];
  const existing = store.get("tiIndicators", name);
  const missing = () => new ArmError(404, "NotFound", `threat intelligence indicator ${name} not found`);
  if (op === "appendTags" || op === "replaceTags") {
    requireMethod(req, "POST", op);
    if (!existing) throw missing();
    assertSpecBody(op === "appendTags" ? "ThreatIntelligenceAppendTags" : "ThreatIntelligenceIndicatorModel", req.body);
    const b = req.body as { threatIntelligenceTags?: string[]; properties?: { threatIntelligenceTags?: string[] } };
    const props = { ...(existing.body.properties as Record<string, unknown>) };
    const current = (props.threatIntelligenceTags as string[] | undefined) ?? [];
    props.threatIntelligenceTags =
      op === "appendTags"
        ? [...new Set([...current, ...(b.threatIntelligenceTags ?? [])])]
        : (b.properties?.threatIntelligenceTags ?? []);
    props.lastUpdatedTimeUtc = new Date().toISOString();
    store.put("tiIndicators", name, { ...existing.body, properties: props }, `"${randomUUID()}"`);
    // appendTags answers 200 with no body; replaceTags with the indicator.
    return op === "appendTags"
      ? { status: 200 }
      : { status: 200, body: indicatorView(ids, store.get("tiIndicators", name)!) };
  }
  if (op !== undefined) throw new ArmError(404, "NotFound", `no operation "${op}" on a threat intelligence indicator`);
  switch (req.method) {
    case "GET":
      if (!existing) throw missing();
      return { status: 200, body: indicatorView(ids, existing) };
    case "PUT":
      return putIndicator(store, ids, name, req.body, true);
    case "DELETE":
      if (!existing) return { status: 204 };
      store.delete("tiIndicators", name);
      return { status: 200 };
    default:
      throw new ArmError(405, "MethodNotAllowed", `${req.method} is not allowed on a threat intelligence indicator`);
  }
}
