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
  /**
   * Progress for a bar (`workspace seed`): phase "generating", log generators run of all; phase "storing", log rows
   * written to the store of all (reported per table); phase "entities", 0 of 1 while entities, hunting queries and
   * bookmarks are derived from the stored data, 1 of 1 when done. The data do not depend on it.
   */
  onProgress?: (p: { phase: "generating" | "storing" | "entities"; done: number; total: number }) => void;
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
  const progress = opts.onProgress;
  seedLogs(
    run,
    typeof opts.size === "number" ? opts.size : SIZE_ROWS[opts.size],
    progress && ((done, total) => progress({ phase: "generating", done, total })),
  );

  const allRows = Object.values(run.logs).reduce((n, rows) => n + rows.length, 0);
  let logRows = 0;
  progress?.({ phase: "storing", done: 0, total: allRows });
  for (const [table, rows] of Object.entries(run.logs)) {
    rows.sort((a, b) => (a[0] as number) - (b[0] as number));
    store.appendLogs(table, rows);
    logRows += rows.length;
    progress?.({ phase: "storing", done: logRows, total: allRows });
  }
  // After the logs: entities are derived from the stored alerts and located from the sign-in logs.
  progress?.({ phase: "entities", done: 0, total: 1 });
  seedDiscovery(store, { seed: opts.seed, now });
  // The planted attack is the first incident spec; one bookmark links to it.
  seedHunting(store, { now, attackIncidentId: seedGuid(opts.seed, "incident-0") });
  store.setMeta("seed", JSON.stringify({ seed: opts.seed, size: opts.size, now }));
  progress?.({ phase: "entities", done: 1, total: 1 });
  return { incidents: specs.length, logRows };
}
