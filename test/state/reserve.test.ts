// Call budgets under concurrency (issue 18): reserveCall takes a slot atomically across store instances (separate
// connections, as separate processes and replicas have), so no interleaving overshoots max_calls or calls_per_minute.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StateStore } from "../../src/state/contract.js";
import { openPgStore } from "../../src/state/pg-store.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import { dropFreshPgDatabases, freshPgDatabase } from "../helpers/pg-fresh.js";
import { describePg, withPgDatabase } from "../helpers/postgres.js";

const pgdb = await withPgDatabase();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await dropFreshPgDatabases();
});

const AT = "2026-03-01T10:00:00.000Z";

function reservations(open: () => Promise<StateStore>): void {
  it("N instances racing for a max_calls budget: exactly max succeed, the count is exact", async () => {
    const stores = await Promise.all([0, 1, 2, 3].map(() => open()));
    try {
      await stores[0]!.jobs.touch("job-b", "agent", "sha256:p", AT);
      for (const max of [1, 7, 25]) {
        const job = `job-${max}`;
        await stores[0]!.jobs.touch(job, "agent", "sha256:p", AT);
        const tries = await Promise.all(
          stores.flatMap((s) => Array.from({ length: 10 }, () => s.jobs.reserveCall(job, AT, { maxCalls: max }))),
        );
        expect(tries.filter((t) => t.ok)).toHaveLength(max);
        expect(tries.filter((t) => !t.ok).every((t) => !t.ok && t.limit === "max_calls")).toBe(true);
        expect((await stores[1]!.jobs.get(job))?.calls).toBe(max);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("calls_per_minute: exactly the limit within a minute, counted for every instance; a new minute frees slots", async () => {
    const stores = await Promise.all([0, 1, 2].map(() => open()));
    try {
      await stores[0]!.jobs.touch("job-rate", "agent", "sha256:p", AT);
      const tries = await Promise.all(
        stores.flatMap((s) => Array.from({ length: 8 }, () => s.jobs.reserveCall("job-rate", AT, { perMinute: 5 }))),
      );
      expect(tries.filter((t) => t.ok)).toHaveLength(5);
      expect(await stores[2]!.jobs.callsLastMinute("job-rate", Date.parse(AT))).toBe(5);
      const later = new Date(Date.parse(AT) + 61_000).toISOString();
      expect((await stores[1]!.jobs.reserveCall("job-rate", later, { perMinute: 5 })).ok).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
}

describe("reserveCall: SQLite (one file, several connections)", () => {
  const dir = mkdtempSync(join(tmpdir(), "gsmcp-reserve-"));
  dirs.push(dir);
  reservations(async () => openSqliteStore(join(dir, "state.db")));
});

describePg("reserveCall: PostgreSQL (several pools)", pgdb, (db) => {
  // One database for every instance (created once: concurrent opens must not each make their own).
  let url: Promise<string> | undefined;
  reservations(async () => {
    url ??= freshPgDatabase(db);
    return openPgStore({ url: await url, migrate: true });
  });
});
