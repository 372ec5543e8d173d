// KQL engine throughput (rows scanned per second) and policy-analyzer latency.
import { analyzeKqlSync, executeKql, preloadKqlAnalyzer } from "../src/kql/index.js";
import type { KqlTable } from "../src/kql/types.js";
import { SENTINEL_TABLE_SCHEMAS } from "../src/sentinel/table-schemas.js";
import type { BenchResult } from "./types.js";

const AREA = "kql";

function table(n: number): KqlTable {
  const now = Date.now();
  const users = Array.from({ length: 500 }, (_, i) => `user${i}@contoso.com`);
  const rows = new Array(n);
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let i = 0; i < n; i++)
    rows[i] = [
      now - Math.floor(rand() * 7 * 86_400_000),
      users[i % 500],
      rand() < 0.1 ? "50126" : "0",
      `10.0.${i % 256}.${(i >> 8) % 256}`,
    ];
  return {
    name: "SigninLogs",
    columns: [
      { name: "TimeGenerated", type: "datetime" },
      { name: "UserPrincipalName", type: "string" },
      { name: "ResultType", type: "string" },
      { name: "IPAddress", type: "string" },
    ],
    rows,
  };
}

export async function bench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const n = 1_000_000;
  const t = table(n);
  const src = { table: (name: string) => (name === "SigninLogs" ? t : undefined), tableNames: () => ["SigninLogs"] };
  const q = "SigninLogs | where ResultType == '50126' | summarize count() by bin(TimeGenerated, 1h)";
  executeKql(q, src); // warm up
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    executeKql(q, src);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const best = times[0]!;
  out.push({
    area: AREA,
    name: "where + summarize count() by bin() over 1M rows",
    value: (n / best) * 1000,
    unit: "rows/s",
    p50Ms: times[2],
    target: "≥ 1,000,000 rows/s",
    holds: (n / best) * 1000 >= 1_000_000,
  });

  const q2 =
    "SigninLogs | summarize Failures = countif(ResultType != '0'), Users = dcount(UserPrincipalName) by IPAddress | where Failures > 3";
  const s2 = performance.now();
  executeKql(q2, src);
  const d2 = performance.now() - s2;
  out.push({
    area: AREA,
    name: "countif + dcount by IPAddress over 1M rows",
    value: (n / d2) * 1000,
    unit: "rows/s",
    p50Ms: d2,
  });

  const l0 = performance.now();
  preloadKqlAnalyzer();
  out.push({ area: AREA, name: "Kusto language service load (once)", value: performance.now() - l0, unit: "ms" });
  const lat: number[] = [];
  const queries = [
    "SecurityAlert | where TimeGenerated > ago(1d) | summarize count() by AlertSeverity",
    "let T = SigninLogs | where ResultType != '0'; T | join kind=inner (SecurityAlert) on $left.UserPrincipalName == $right.CompromisedEntity | take 10",
  ];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    analyzeKqlSync(queries[i % 2]!, SENTINEL_TABLE_SCHEMAS);
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  out.push({
    area: AREA,
    name: "policy analysis (parse + bind + walk)",
    value: 1000 / lat[100]!,
    unit: "queries/s",
    p50Ms: lat[100],
    p99Ms: lat[197],
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
