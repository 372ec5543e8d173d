import { createHash } from "node:crypto";

// The deterministic sources a seeded workspace draws on: a seeded PRNG, and GUIDs hashed from labels. The same seed
// and labels give the same workspace, and the same fuzz run.

/** Deterministic PRNG (mulberry32): the same seed gives the same workspace, and the same fuzz run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic GUID from a label. */
export function stableGuid(label: string): string {
  const h = createHash("sha256").update(label).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Deterministic GUID from a label within a seed (so ids are stable per seed). */
export function seedGuid(seed: number, label: string): string {
  return stableGuid(`${seed}:${label}`);
}
