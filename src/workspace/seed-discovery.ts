import { seedConnectors } from "./seed-connectors.js";
import { seedEntities } from "./seed-entities.js";
import { seedIndicators } from "./seed-indicators.js";
import { seedTemplates } from "./seed-templates.js";
import type { WorkspaceStore } from "./store.js";

// Discovery data for the local workspace: entities tied to the seeded alerts, threat-intelligence indicators, alert
// rule templates and data connectors. Deterministic by seed and reference time; it consumes no randomness, so the
// rest of the seed is unchanged by it.

export { stableGuid } from "./seed-determinism.js";
export { alertEntityValues, type EntityKindName, entityId, entityKindOf } from "./seed-entities.js";
export { ATTACKER_IP } from "./seed-tenant.js";

/** Seeds entities (from the stored alerts), TI indicators, alert rule templates and data connectors. */
export function seedDiscovery(
  store: WorkspaceStore,
  opts: { seed: number; now: number },
): { entities: number; indicators: number; templates: number; connectors: number } {
  return {
    entities: seedEntities(store, opts.seed),
    indicators: seedIndicators(store, opts.seed, opts.now),
    templates: seedTemplates(store, opts.now),
    connectors: seedConnectors(store, opts.seed, opts.now),
  };
}
