import type { KqlValue } from "../kql/types.js";
import { LOG_TABLES } from "./schemas.js";
import { seedGuid } from "./seed-determinism.js";
import type { SeedRun } from "./seed-run.js";
import type { WorkspaceStore } from "./store.js";

// The seeded workspace's watchlists: HighValueAssets (servers) and AgentAllowlist (the AI-agent detections' tuning,
// examples/watchlists/AgentAllowlist.csv), as ARM resources and, as Sentinel keeps them, as rows of the Watchlist log
// table, which _GetWatchlist('Alias') reads.

export interface WatchlistItemRow {
  alias: string;
  /** The watchlist item id (_DTItemId). */
  id: string;
  /** The item's fields (WatchlistItem), keyed by column name. */
  item: Record<string, string>;
  searchKey: string;
  /** When the item was last written (epoch ms): TimeGenerated, _DTTimestamp and LastUpdatedTimeUTC. */
  updated: number;
  /** "Create" | "Update" | "Delete". */
  status?: string;
}

/** One Watchlist log row for a watchlist item, aligned with LOG_TABLES.Watchlist. */
export function watchlistItemRow(w: WatchlistItemRow): KqlValue[] {
  const v: Record<string, KqlValue> = {
    TimeGenerated: w.updated,
    _DTItemId: w.id,
    _DTItemStatus: w.status ?? "Create",
    _DTItemType: "watchlist-item",
    _DTTimestamp: w.updated,
    CreatedTimeUTC: w.updated,
    LastUpdatedTimeUTC: w.updated,
    SearchKey: w.searchKey,
    WatchlistAlias: w.alias,
    WatchlistName: w.alias,
    WatchlistId: w.alias,
    WatchlistItem: w.item,
    WatchlistItemId: w.id,
    Type: "Watchlist",
  };
  return LOG_TABLES.Watchlist!.map((c) => v[c.name] ?? null);
}

/**
 * After a watchlist item was written through the ARM API (PUT or DELETE answered with success): the Watchlist log row
 * Sentinel writes for it, so _GetWatchlist sees the change. Call after the store holds the new state.
 */
/**
 * The last change time recorded per store and item: _GetWatchlist keeps the newest row of an item (arg_max by
 * _DTTimestamp), so two changes of one item in the same millisecond (a PUT then a DELETE) get increasing times.
 */
const lastChange = new WeakMap<WorkspaceStore, Map<string, number>>();

export function recordWatchlistItemChange(
  store: WorkspaceStore,
  alias: string,
  id: string,
  method: string,
  now = Date.now(),
): void {
  if (method !== "PUT" && method !== "DELETE") return;
  const list = store.get("watchlists", alias)?.body.properties as { itemsSearchKey?: string } | undefined;
  const stored = store.get("watchlistItems", id, alias)?.body.properties as
    | { itemsKeyValue?: Record<string, string> }
    | undefined;
  if (method === "PUT" && !stored) return;
  const item = stored?.itemsKeyValue ?? {};
  const searchKey = String(item[list?.itemsSearchKey ?? ""] ?? "");
  const status = method === "DELETE" ? "Delete" : "Update";
  const seen = lastChange.get(store) ?? new Map<string, number>();
  lastChange.set(store, seen);
  const key = `${alias}\u0000${id}`;
  const at = Math.max(now, (seen.get(key) ?? Number.NEGATIVE_INFINITY) + 1);
  seen.set(key, at);
  store.appendLogs("Watchlist", [watchlistItemRow({ alias, id, item, searchKey, updated: at, status })], at);
}

/** The seeded allowlist: one current entry, one entry for a batch job pattern, one that has expired. */
export function agentAllowlistItems(now: number): Record<string, string>[] {
  const day = 86_400_000;
  return [
    {
      Agent: "soc-enrichment-bot",
      Tool: "sentinel_kql_query",
      JobPattern: "*",
      Expiry: new Date(now + 90 * day).toISOString(),
      Reason: "Enrichment runs many bounded queries by design",
    },
    {
      Agent: "nightly-hunter",
      Tool: "*",
      JobPattern: "hunt-nightly-*",
      Expiry: new Date(now + 30 * day).toISOString(),
      Reason: "Nightly hunting sweep",
    },
    {
      Agent: "legacy-triage-bot",
      Tool: "*",
      JobPattern: "*",
      Expiry: new Date(now - day).toISOString(),
      Reason: "Migration window (expired)",
    },
  ];
}

export function seedWatchlists(run: SeedRun): void {
  const { store, seed, now } = run;
  const rows: KqlValue[][] = [];
  const watchlist = (alias: string, displayName: string, searchKey: string, description: string) =>
    store.put(
      "watchlists",
      alias,
      {
        properties: {
          watchlistAlias: alias,
          displayName,
          provider: "Contoso SOC",
          source: "Local file",
          itemsSearchKey: searchKey,
          description,
        },
      },
      `"${seedGuid(seed, alias === "HighValueAssets" ? "etag-watchlist" : `etag-watchlist-${alias}`)}"`,
    );
  const item = (alias: string, label: string, searchKey: string, fields: Record<string, string>) => {
    const id = seedGuid(seed, label);
    store.put(
      "watchlistItems",
      id,
      { properties: { itemsKeyValue: fields } },
      `"${seedGuid(seed, `etag-${label}`)}"`,
      alias,
    );
    rows.push(watchlistItemRow({ alias, id, item: fields, searchKey: fields[searchKey] ?? "", updated: now - 60_000 }));
  };

  watchlist("HighValueAssets", "High value assets", "Hostname", "Servers whose compromise is critical.");
  for (const host of ["SRV-FILE01", "SRV-SQL02", "SRV-DC01"])
    item("HighValueAssets", `wli-${host}`, "Hostname", { Hostname: host, Owner: "infra@contoso.com" });

  watchlist(
    "AgentAllowlist",
    "AI agent allowlist",
    "Agent",
    "Agent activity the AI-agent detections ignore until Expiry: Agent, Tool (* for any), JobPattern (* or a prefix*).",
  );
  for (const fields of agentAllowlistItems(now)) item("AgentAllowlist", `wli-agent-${fields.Agent}`, "Agent", fields);

  run.logs.Watchlist = [...(run.logs.Watchlist ?? []), ...rows];
}
