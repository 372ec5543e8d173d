import type { KqlTable, KqlValue } from "../kql/types.js";
import { ArmError } from "./arm-core.js";
import { type EntityRef, entityValue } from "./arm-entity-ref.js";
import { lower } from "./arm-resources.js";
import type { WorkspaceStore } from "./store.js";

// What entity timelines and insights read: the request's time range, a log table's rows within it, the alerts about
// an entity, and the encoded-PowerShell test both of them apply to process events.

function parseTime(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t))
    throw new ArmError(400, "BadRequest", `${field} is required: an ISO 8601 date-time such as 2024-05-01T00:00:00Z`);
  return t;
}

export function timeRange(raw: unknown): { body: Record<string, unknown>; start: number; end: number } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new ArmError(400, "BadRequest", "request body must be a JSON object with startTime and endTime");
  const body = raw as Record<string, unknown>;
  const start = parseTime(body, "startTime");
  const end = parseTime(body, "endTime");
  if (end <= start) throw new ArmError(400, "BadRequest", "endTime must be after startTime");
  return { body, start, end };
}

/** Log rows of a table between start and end (TimeGenerated, inclusive), with a by-name column getter. */
export function rowsIn(
  store: WorkspaceStore,
  table: string,
  start: number,
  end: number,
): { rows: KqlValue[][]; get: (r: KqlValue[], col: string) => KqlValue } {
  const t: KqlTable | undefined = store.logTable(table);
  if (!t) return { rows: [], get: () => null };
  const index = new Map(t.columns.map((c, i) => [c.name, i]));
  const tg = index.get("TimeGenerated")!;
  const rows = t.rows.filter((r) => {
    const time = r[tg] as number;
    return time >= start && time <= end;
  });
  return { rows, get: (r, col) => r[index.get(col)!] ?? null };
}

export const isEncodedPowerShell = (get: (c: string) => KqlValue) =>
  lower(get("FileName")) === "powershell.exe" && /\s-e(nc|ncodedcommand)?\s/i.test(`${get("ProcessCommandLine")} `);

/** SecurityAlert log rows about the entity: alerts linked to it, or naming it as the compromised entity. */
export function entityAlerts(store: WorkspaceStore, e: EntityRef, start: number, end: number) {
  const { rows, get } = rowsIn(store, "SecurityAlert", start, end);
  const linked = new Set(e.alertIds);
  const v = lower(entityValue(e));
  return rows
    .filter((r) => linked.has(String(get(r, "SystemAlertId"))) || lower(get(r, "CompromisedEntity")) === v)
    .map((r) => ({
      id: String(get(r, "SystemAlertId")),
      name: String(get(r, "AlertName")),
      displayName: String(get(r, "DisplayName")),
      severity: String(get(r, "AlertSeverity")),
      description: String(get(r, "Description")),
      product: String(get(r, "ProductName")),
      time: get(r, "TimeGenerated") as number,
      start: (get(r, "StartTime") as number | null) ?? (get(r, "TimeGenerated") as number),
      end: (get(r, "EndTime") as number | null) ?? (get(r, "TimeGenerated") as number),
    }));
}
