import type { KqlValue } from "../kql/types.js";
import { mulberry32 } from "./seed-determinism.js";
import type { WorkspaceStore } from "./store.js";

// One seeding run: the store it fills, its seed, PRNG and reference time, and the log rows gathered per table. Every
// part of the seed draws from the one PRNG, in a fixed order, so the same seed and `now` give the same workspace.

export interface SeedRun {
  store: WorkspaceStore;
  seed: number;
  /** Reference time (epoch ms): timestamps are relative to it, so ago() queries find data. */
  now: number;
  rand: () => number;
  /** One element of xs, drawn with rand. */
  pick: <T>(xs: T[]) => T;
  /** Log rows per table, appended to the store (sorted by time) once every part has run. */
  logs: Record<string, KqlValue[][]>;
}

export function newSeedRun(store: WorkspaceStore, seed: number, now: number): SeedRun {
  const rand = mulberry32(seed);
  return {
    store,
    seed,
    now,
    rand,
    pick: <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!,
    logs: {
      SecurityIncident: [],
      SecurityAlert: [],
      SigninLogs: [],
      AuditLogs: [],
      DeviceProcessEvents: [],
    },
  };
}

export const iso = (ms: number) => new Date(ms).toISOString();
