import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { executeKql } from "../../src/kql/index.js";
import { dataSource, ingest } from "../../src/workspace/logs.js";
import { answer, TableCache } from "../../src/workspace/query-worker-impl.js";
import { seedStore } from "../../src/workspace/seed.js";
import { WorkspaceStore } from "../../src/workspace/store.js";

// The embedded workspace stamps every ingested row with its own receive time (ingestion_time()), whatever
// TimeGenerated the sender set; seeded rows get a plausible ingestion a few seconds after their TimeGenerated.

const store = () => new WorkspaceStore(join(mkdtempSync(join(tmpdir(), "gsmcp-ingest-")), "w.db"));
const body = (rows: Record<string, unknown>[]) => Buffer.from(JSON.stringify(rows));
const Q =
  'AgentSecurityEvent_CL | where EventType == "Checkpoint" | extend Ingested = ingestion_time() | order by Ingested asc | project EventId, TimeGenerated, Ingested';

describe("ingestion time in the embedded workspace", () => {
  it("is the receive time, in the main thread's tables and in a query worker's (stored with the row)", () => {
    const s = store();
    try {
      const sent = Date.parse("2026-06-01T12:00:00Z");
      // The second request is received first but dated later by its sender.
      ingest(
        s,
        body([{ EventId: "late", EventType: "Checkpoint", TimeGenerated: new Date(sent + 60_000).toISOString() }]),
        undefined,
        "Custom-AgentSecurityEvent_CL",
        sent + 1000,
      );
      ingest(
        s,
        body([{ EventId: "early", EventType: "Checkpoint", TimeGenerated: new Date(sent).toISOString() }]),
        undefined,
        "Custom-AgentSecurityEvent_CL",
        sent + 2000,
      );
      const main = executeKql(Q, dataSource(s)).rows.map((r) => [...r]);
      expect(main).toEqual([
        ["late", sent + 60_000, sent + 1000],
        ["early", sent, sent + 2000],
      ]);
      expect(executeKql("AgentSecurityEvent_CL | take 1", dataSource(s)).columns.map((c) => c.name)).not.toContain(
        "Ingested",
      );
      const cache = new TableCache(s.db.name);
      try {
        const reply = answer(cache, { id: 1, query: Q, now: Date.now(), maxResultRows: 1000, statistics: false });
        expect(reply.ok).toBe(true);
        const rows = JSON.parse((reply as { body: string }).body).tables[0].rows;
        expect(rows).toEqual([
          ["late", new Date(sent + 60_000).toISOString(), new Date(sent + 1000).toISOString()],
          ["early", new Date(sent).toISOString(), new Date(sent + 2000).toISOString()],
        ]);
        // Rows ingested after the worker loaded the table are picked up with their ingestion time too.
        ingest(
          s,
          body([{ EventId: "third", EventType: "Checkpoint" }]),
          undefined,
          "Custom-AgentSecurityEvent_CL",
          sent + 3000,
        );
        const again = answer(cache, { id: 2, query: Q, now: Date.now(), maxResultRows: 1000, statistics: false });
        const rows2 = JSON.parse((again as { body: string }).body).tables[0].rows;
        expect(rows2.map((r: unknown[]) => [r[0], r[2]])).toEqual([
          ["late", new Date(sent + 1000).toISOString()],
          ["early", new Date(sent + 2000).toISOString()],
          ["third", new Date(sent + 3000).toISOString()],
        ]);
        // The stored row's columns are unchanged: the time is not a column.
        const star = answer(cache, {
          id: 3,
          query: "AgentSecurityEvent_CL | take 1",
          now: Date.now(),
          maxResultRows: 10,
          statistics: false,
        });
        const t = JSON.parse((star as { body: string }).body).tables[0];
        expect(t.rows[0]).toHaveLength(t.columns.length);
      } finally {
        cache.close();
      }
    } finally {
      s.close();
    }
  });

  it("seeded rows were ingested a few seconds after their TimeGenerated", () => {
    const s = store();
    try {
      seedStore(s, { seed: 7, size: "demo", now: Date.parse("2026-06-01T12:00:00Z") });
      const r = executeKql(
        "SigninLogs | extend lag = ingestion_time() - TimeGenerated | summarize n = count(), lo = min(lag), hi = max(lag), nulls = countif(isnull(ingestion_time()))",
        dataSource(s),
      ).rows[0]!;
      expect(r[0]).toBeGreaterThan(10);
      expect(r[1]).toBeGreaterThanOrEqual(2000);
      expect(r[2]).toBeLessThan(7000);
      expect(r[3]).toBe(0);
    } finally {
      s.close();
    }
  });
});
