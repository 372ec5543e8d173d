import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seedStore } from "../../src/workspace/seed.js";
import { WorkspaceStore } from "../../src/workspace/store.js";

function digest(seed: number, size: "demo" | number, now: number): { hash: string; incidents: number; rows: number } {
  const store = new WorkspaceStore(join(mkdtempSync(join(tmpdir(), "gsmcp-seed-")), "w.db"));
  try {
    const r = seedStore(store, { seed, size, now });
    const h = createHash("sha256");
    for (const row of store.db
      .prepare("SELECT kind, parent, name, body FROM resources ORDER BY kind, parent, name")
      .all())
      h.update(JSON.stringify(row));
    for (const row of store.db.prepare("SELECT tbl, row FROM logs ORDER BY id").all()) h.update(JSON.stringify(row));
    return { hash: h.digest("hex"), incidents: r.incidents, rows: r.logRows };
  } finally {
    store.close();
  }
}

describe("seeded workspace data", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  it("is deterministic by seed (and reference time), and different seeds differ", () => {
    expect(digest(7, "demo", now)).toEqual(digest(7, "demo", now));
    expect(digest(7, "demo", now).hash).not.toBe(digest(8, "demo", now).hash);
  });

  it("scales with the requested size", () => {
    const small = digest(1, "demo", now);
    const big = digest(1, 20_000, now);
    expect(big.rows).toBeGreaterThan(small.rows * 10);
    expect(big.incidents).toBe(small.incidents);
  });
});
