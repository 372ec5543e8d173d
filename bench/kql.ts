// KQL bench: engine scan rate for `where + summarize by bin()` over a synthetic 1M-row table, and policy-analyzer
// (Kusto language service) parse+analyze latency. Run alone with `npx tsx bench/kql.ts`.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { analyzeKql, executeKql, preloadKqlAnalyzer } from "../src/kql/index.js";
import type { KqlDataSource, KqlTable, KqlValue } from "../src/kql/types.js";
import type { BenchResult } from "./types.js";

const ROWS = 1_000_000;
const T0 = Date.parse("2026-03-01T00:00:00Z");

function syntheticTable(): KqlTable {
  const kinds = ["a", "b", "c", "d"];
  const rows: KqlValue[][] = new Array(ROWS);
  for (let i = 0; i < ROWS; i++) rows[i] = [T0 + i * 600, kinds[i % 4]!, `user${i % 1000}@contoso.com`, i % 97];
  return {
    name: "Events",
    columns: [
      { name: "TimeGenerated", type: "datetime" },
      { name: "X", type: "string" },
      { name: "User", type: "string" },
      { name: "Score", type: "long" },
    ],
    rows,
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function bench(): Promise<BenchResult[]> {
  const table = syntheticTable();
  const source: KqlDataSource = { table: (n) => (n === "Events" ? table : undefined), tableNames: () => ["Events"] };
  const results: BenchResult[] = [];
  const engineCase = (name: string, query: string, target?: number) => {
    executeKql(query, source); // warm-up: JIT the closures
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      executeKql(query, source);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const p50 = quantile(times, 0.5);
    const rate = ROWS / (p50 / 1000);
    results.push({
      area: "kql",
      name,
      value: rate,
      unit: "rows/s",
      p50Ms: p50,
      p99Ms: times[times.length - 1]!,
      ...(target ? { target: `>= ${target.toLocaleString("en-US")} rows/s`, holds: rate >= target } : {}),
      notes: query,
    });
  };
  engineCase(
    "where + summarize count() by bin(1h), 1M rows",
    'Events | where X == "a" | summarize count() by bin(TimeGenerated, 1h)',
    1_000_000,
  );
  engineCase(
    "where has + dcount by key, 1M rows",
    'Events | where User has "user7@contoso.com" or Score > 90 | summarize dcount(User) by X',
  );
  engineCase("extend + sort + take, 1M rows", "Events | extend s = Score * 2 | top 10 by s desc");

  const schema = { tables: [{ name: table.name, columns: table.columns }] };
  const loadStart = performance.now();
  preloadKqlAnalyzer();
  const loadMs = performance.now() - loadStart;
  results.push({ area: "kql", name: "analyzer load (once per process)", value: loadMs, unit: "ms" });
  const queries = [
    'Events | where X == "a" | summarize count() by bin(TimeGenerated, 1h)',
    "let T = Events | where Score > 3; T | join kind=inner (Events | take 10) on User | project User, Score",
    "union Events, (Events | where X has 'b') | summarize make_set(User) by X | order by X asc",
  ];
  for (const q of queries) await analyzeKql(q, schema);
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await analyzeKql(queries[i % queries.length]!, schema);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  results.push({
    area: "kql",
    name: "analyzer parse+analyze (warm)",
    value: quantile(times, 0.5),
    unit: "ms",
    p50Ms: quantile(times, 0.5),
    p99Ms: quantile(times, 0.99),
    notes: "300 analyses over 3 typical queries",
  });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await bench())
    console.log(
      `${r.name}: ${r.unit === "rows/s" ? Math.round(r.value).toLocaleString("en-US") : r.value.toFixed(2)} ${r.unit}` +
        `${r.p50Ms !== undefined ? ` (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms?.toFixed(2)} ms)` : ""}` +
        `${r.holds === undefined ? "" : r.holds ? " [target holds]" : " [TARGET MISSED]"}`,
    );
}
