// Query latency through the real SDK client against the embedded workspace (HTTPS on loopback).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalClients, initWorkspace, startWorkspace } from "../src/workspace/index.js";
import type { BenchResult } from "./types.js";

const AREA = "workspace";

export async function bench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "gsmcp-wsbench-"));
  await initWorkspace(dir, { seed: 1, size: "small" });
  const ws = await startWorkspace(dir, { port: 0 });
  const { logsQuery } = createLocalClients(ws);
  const out: BenchResult[] = [];
  try {
    for (const [name, q] of [
      ["KQL count through LogsQueryClient", "SigninLogs | count"],
      [
        "KQL summarize by bin through LogsQueryClient",
        "SigninLogs | where ResultType != '0' | summarize count() by bin(TimeGenerated, 1h)",
      ],
    ] as const) {
      for (let i = 0; i < 20; i++) await logsQuery.queryWorkspace(ws.ids.workspaceId, q, { duration: "P7D" });
      const lat: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        await logsQuery.queryWorkspace(ws.ids.workspaceId, q, { duration: "P7D" });
        lat.push(performance.now() - s);
      }
      lat.sort((a, b) => a - b);
      out.push({
        area: AREA,
        name,
        value: 1000 / lat[100]!,
        unit: "queries/s",
        p50Ms: lat[100],
        p99Ms: lat[197],
        notes: "seed size small (~2,400 SigninLogs rows)",
      });
    }
  } finally {
    await ws.close();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
