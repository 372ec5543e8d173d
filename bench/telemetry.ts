// Telemetry: JSONL sink events/s with memory, and the Logs Ingestion sink's per-emit cost (batching overhead).
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IngestionSink } from "../src/telemetry/ingestion-sink.js";
import { JsonlSink } from "../src/telemetry/jsonl-sink.js";
import type { AgentSecurityEvent } from "../src/types/agent-security-event.js";
import type { BenchResult } from "./types.js";

const AREA = "telemetry";
const event = (): AgentSecurityEvent => ({
  TimeGenerated: new Date().toISOString(),
  EventId: randomUUID(),
  AgentId: "agent-1",
  TenantId: "t",
  EventType: "ToolInvocation",
  Action: "incidents.get",
  PolicyDecision: "ALLOW",
  ToolName: "sentinel_incidents_get",
  ToolParameters: { incidentId: "x" },
  ToolResult: "ok",
  ErrorCode: 0,
  Severity: 1,
  SourceSystem: "bench",
  JobId: "job",
  PolicyHash: "sha256:x",
  ReceiptId: randomUUID(),
  Workspace: "w",
  LatencyMs: 0.4,
});

export async function bench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const N = 200_000;
  const events = Array.from({ length: 1000 }, event);
  const jsonl = new JsonlSink({ dir: mkdtempSync(join(tmpdir(), "gsmcp-tb-")) });
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) jsonl.emit(events[i % 1000]!);
  const ms = performance.now() - t0;
  await jsonl.close();
  const rate = (N / ms) * 1000;
  out.push({
    area: AREA,
    name: "JSONL sink (write(2) per event, durable on return)",
    value: rate,
    unit: "events/s",
    target: "≥ 50,000 events/s",
    holds: rate >= 50_000,
    notes: `heap growth ${((process.memoryUsage().heapUsed - heap0) / 1e6).toFixed(1)} MB over ${N.toLocaleString("en-US")} events`,
  });

  let uploaded = 0;
  const sink = new IngestionSink({
    upload: async (b) => {
      uploaded += b.length;
    },
    spillDir: mkdtempSync(join(tmpdir(), "gsmcp-tb-")),
    batchSize: 500,
    flushIntervalMs: 60_000,
  });
  const t1 = performance.now();
  for (let i = 0; i < N; i++) sink.emit(events[i % 1000]!);
  const perEmitUs = ((performance.now() - t1) / N) * 1000;
  await sink.close();
  out.push({
    area: AREA,
    name: "Logs Ingestion sink batching overhead per emit",
    value: perEmitUs,
    unit: "µs",
    target: "< 50 µs",
    holds: perEmitUs < 50,
    notes: `${uploaded.toLocaleString("en-US")} events uploaded in batches of 500 (no network: measures the sink, not the API)`,
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
