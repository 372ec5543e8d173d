import { seedGuid } from "./seed-determinism.js";
import { seedDiscovery } from "./seed-discovery.js";
import { seedHunting } from "./seed-hunting.js";
import { incidentSpecs } from "./seed-incident-specs.js";
import { seedIncidents, seedInjectedComment } from "./seed-incidents.js";
import { seedLogs } from "./seed-logs.js";
import { seedAnalyticsRules, seedAutomationRules } from "./seed-rules.js";
import { newSeedRun } from "./seed-run.js";
import { seedWatchlists } from "./seed-watchlists.js";
import type { WorkspaceStore } from "./store.js";

// Deterministic demo data: the same seed and `now` give the same workspace. Timestamps are relative to `now` so
// ago() queries find data. A planted multi-stage attack and incidents carrying prompt-injection text are included.

export type SeedSize = "demo" | "small" | "medium" | "large" | number;

const SIZE_ROWS: Record<Exclude<SeedSize, number>, number> = {
  demo: 400,
  small: 4_000,
  medium: 100_000,
  large: 1_000_000,
};

export { mulberry32 } from "./seed-determinism.js";

export interface SeedOptions {
  seed: number;
  size: SeedSize;
  /** Reference time (epoch ms); default Date.now(). */
  now?: number;
}

/** Replaces all workspace data with a deterministic data set. */
export function seedStore(store: WorkspaceStore, opts: SeedOptions): { incidents: number; logRows: number } {
  const now = opts.now ?? Date.now();
  store.clearAll();
  // The parts run in a fixed order: each draws from the one PRNG where the one before it stopped.
  const run = newSeedRun(store, opts.seed, now);
  const specs = incidentSpecs(run);
  seedIncidents(run, specs);
  // Analytics rules, automation rules, a watchlist, and a comment carrying injected instructions.
  seedAnalyticsRules(run);
  seedAutomationRules(run);
  seedWatchlists(run);
  seedInjectedComment(run);
  seedLogs(run, typeof opts.size === "number" ? opts.size : SIZE_ROWS[opts.size]);

  let logRows = 0;
  for (const [table, rows] of Object.entries(run.logs)) {
    rows.sort((a, b) => (a[0] as number) - (b[0] as number));
    store.appendLogs(table, rows);
    logRows += rows.length;
  }
  // After the logs: entities are derived from the stored alerts and located from the sign-in logs.
  seedDiscovery(store, { seed: opts.seed, now });
  // The planted attack is the first incident spec; one bookmark links to it.
  seedHunting(store, { now, attackIncidentId: seedGuid(opts.seed, "incident-0") });
  store.setMeta("seed", JSON.stringify({ seed: opts.seed, size: opts.size, now }));
  return { incidents: specs.length, logRows };
}
