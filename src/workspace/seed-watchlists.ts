import { seedGuid } from "./seed-determinism.js";
import type { SeedRun } from "./seed-run.js";

// The seeded workspace's watchlist: HighValueAssets, with its server items.

export function seedWatchlists(run: SeedRun): void {
  const { store, seed } = run;
  store.put(
    "watchlists",
    "HighValueAssets",
    {
      properties: {
        watchlistAlias: "HighValueAssets",
        displayName: "High value assets",
        provider: "Contoso SOC",
        source: "Local file",
        itemsSearchKey: "Hostname",
        description: "Servers whose compromise is critical.",
      },
    },
    `"${seedGuid(seed, "etag-watchlist")}"`,
  );
  for (const host of ["SRV-FILE01", "SRV-SQL02", "SRV-DC01"]) {
    store.put(
      "watchlistItems",
      seedGuid(seed, `wli-${host}`),
      { properties: { itemsKeyValue: { Hostname: host, Owner: "infra@contoso.com" } } },
      `"${seedGuid(seed, `etag-wli-${host}`)}"`,
      "HighValueAssets",
    );
  }
}
