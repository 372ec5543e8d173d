import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { openRuntime } from "../../src/server/runtime.js";
import { readEventsFile } from "../../src/telemetry/events-table.js";
import { IngestionSink } from "../../src/telemetry/ingestion-sink.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { createLocalClients, startWorkspace } from "../../src/workspace/index.js";
import { makeHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";

const ev = (i: number): AgentSecurityEvent => ({
  TimeGenerated: new Date().toISOString(),
  EventId: randomUUID(),
  AgentId: `agent-${i % 3}`,
  TenantId: "t",
  EventType: "ToolInvocation",
  Action: "incidents.list",
  PolicyDecision: "ALLOW",
  ToolName: "sentinel_incidents_list",
  Severity: 1,
  SourceSystem: "test",
});

describe("Logs Ingestion sink", () => {
  it("batches, spills to disk while the endpoint is down, replays after it recovers: nothing lost", async () => {
    let down = true;
    const received: AgentSecurityEvent[] = [];
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-spill-"));
    const sink = new IngestionSink({
      upload: async (events) => {
        if (down) throw new Error("503");
        received.push(...events);
      },
      spillDir: dir,
      batchSize: 100,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 250; i++) sink.emit(ev(i));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ sent: 0, spilled: 250, dropped: 0, buffered: 0 });
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    down = false;
    for (let i = 250; i < 300; i++) sink.emit(ev(i));
    await sink.close();
    expect(sink.stats()).toMatchObject({ sent: 50, replayed: 250, spilled: 0, dropped: 0 });
    expect(new Set(received.map((e) => e.EventId)).size).toBe(300);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("replays a previous run's spill on restart, and beyond the spill budget drops or, fail-closed, refuses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-spill-"));
    const first = new IngestionSink({
      upload: async () => Promise.reject(new Error("down")),
      spillDir: dir,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 10; i++) first.emit(ev(i));
    await first.close();
    const got: AgentSecurityEvent[] = [];
    const second = new IngestionSink({
      upload: async (e) => void got.push(...e),
      spillDir: dir,
      flushIntervalMs: 60_000,
    });
    await second.close();
    expect(got).toHaveLength(10);

    const tight = new IngestionSink({
      upload: async () => Promise.reject(new Error("down")),
      spillDir: mkdtempSync(join(tmpdir(), "gsmcp-spill-")),
      maxBuffered: 5,
      maxSpillBytes: 2000,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 40; i++) tight.emit(ev(i));
    expect(tight.stats().dropped).toBeGreaterThan(0);
    await tight.close();
    const strict = new IngestionSink({
      upload: async () => Promise.reject(new Error("down")),
      spillDir: mkdtempSync(join(tmpdir(), "gsmcp-spill-")),
      maxBuffered: 5,
      maxSpillBytes: 2000,
      failClosed: true,
      flushIntervalMs: 60_000,
    });
    expect(() => {
      for (let i = 0; i < 40; i++) strict.emit(ev(i));
    }).toThrow(/spill budget/);
  });

  it("with telemetry.sink 'local', a governed session's events land in the embedded workspace's AgentSecurityEvent_CL", async () => {
    const h = await makeHome();
    const wpc = examplePolicy("triage-readonly");
    const policy = signTestPolicy(h, { ...wpc, policy_name: "triage-local-telemetry", telemetry: { sink: "local" } });
    const { token } = await issueCst(h.home, { policy, job: "job-ingest", agent: "ingest-agent" });
    const rt = await openRuntime({ home: h.home, tokenRef: token, policyRef: policy });
    for (let i = 0; i < 5; i++) await rt.governor.call("sentinel_incidents_list", { top: 1 });
    await rt.governor.call("sentinel_incidents_close", {
      incidentId: "x",
      classification: "FalsePositive",
      comment: "c",
    });
    await rt.close(); // flushes the sink
    const ws = await startWorkspace(h.paths.workspace, { port: 0 });
    try {
      const r = await createLocalClients(ws).logsQuery.queryWorkspace(
        ws.ids.workspaceId,
        "AgentSecurityEvent | where JobId == 'job-ingest' | summarize count() by EventType, PolicyDecision | sort by EventType asc, PolicyDecision asc",
        { duration: "PT1H" },
      );
      if (r.status !== "Success") throw new Error("query failed");
      // Exactly what the local JSONL file recorded for the job reached the workspace: nothing lost, nothing doubled.
      const local = readEventsFile(join(h.paths.telemetry, "events.jsonl")).filter((e) => e.JobId === "job-ingest");
      const counts = new Map<string, number>();
      for (const e of local)
        counts.set(`${e.EventType}|${e.PolicyDecision}`, (counts.get(`${e.EventType}|${e.PolicyDecision}`) ?? 0) + 1);
      const expected = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => [...k.split("|"), n]);
      expect(local.length).toBe(12);
      expect(r.tables[0]!.rows).toEqual(expected);
    } finally {
      await ws.close();
    }
  });
});
