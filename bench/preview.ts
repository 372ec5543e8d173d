// Rule impact preview bench: a scheduled rule replayed over 7 days by slideRule (parsed once, each run's window cut
// from a time index) against the same runs done as separate executeKql calls (a parse and a full-table time filter per
// run), over one synthetic 7-day table. Like for like: same query, same runs, same answers (checked).
// Run alone with `npx tsx bench/preview.ts`.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { executeKql } from "../src/kql/index.js";
import { slideRule } from "../src/kql/slide.js";
import type { KqlDataSource, KqlTable, KqlValue } from "../src/kql/types.js";
import type { BenchResult } from "./types.js";

const ROWS = 200_000;
const DAY = 86_400_000;
const END = Date.parse("2026-11-30T00:00:00Z");
const QUERY = `Events | where X == "a" | summarize n = count() by User | where n > 2`;

function table(): KqlTable {
  const rows: KqlValue[][] = new Array(ROWS);
  // Rows spread over 7 days in random order (ingestion is not sorted by TimeGenerated).
  for (let i = 0; i < ROWS; i++)
    rows[i] = [END - Math.floor(((i * 7919) % ROWS) * ((7 * DAY) / ROWS)), "abcd"[i % 4]!, `user${i % 500}`];
  return {
    name: "Events",
    columns: [
      { name: "TimeGenerated", type: "datetime" },
      { name: "X", type: "string" },
      { name: "User", type: "string" },
    ],
    rows,
  };
}

export async function bench(): Promise<BenchResult[]> {
  const t = table();
  const source: KqlDataSource = { table: (n) => (n === "Events" ? t : undefined), tableNames: () => ["Events"] };
  const results: BenchResult[] = [];
  // Warm-up both paths (JIT) on a one-day schedule, so neither pays for the other's first run.
  slideRule(QUERY, source, {
    end: END,
    lookbackMs: DAY,
    frequencyMs: 3_600_000,
    periodMs: 3_600_000,
    operator: "GreaterThan",
    threshold: 0,
    sampleSize: 1,
  });
  executeKql(QUERY, source, { now: END, timespan: { start: END - 3_600_000, end: END } });
  for (const [label, frequency, period] of [
    ["PT1H / PT1H", 3_600_000, 3_600_000],
    ["PT5M / PT1H", 300_000, 3_600_000],
  ] as const) {
    const opts = { end: END, lookbackMs: 7 * DAY, frequencyMs: frequency, periodMs: period };
    let started = performance.now();
    const slid = slideRule(QUERY, source, {
      ...opts,
      operator: "GreaterThan",
      threshold: 0,
      sampleSize: 5,
      maxFirings: 100_000,
    });
    const slideMs = performance.now() - started;
    // The same runs, one executeKql each (sampled for the 2,016-run schedule: every 12th run, scaled).
    const every = frequency < 3_600_000 ? 12 : 1;
    started = performance.now();
    let checked = 0;
    for (let k = 0; k < slid.runs; k += every) {
      const at = END - k * frequency;
      const r = executeKql(QUERY, source, { now: at, timespan: { start: at - period, end: at } });
      const firing = slid.firings.find((f) => f.runTime === at);
      if (r.rows.length > 0 !== (firing !== undefined)) throw new Error(`run ${k}: slide and executeKql disagree`);
      checked++;
    }
    const separateMs = ((performance.now() - started) / checked) * slid.runs;
    results.push({
      area: "preview",
      name: `7-day slide ${label} (${slid.runs} runs, ${ROWS.toLocaleString("en-US")} rows)`,
      value: slideMs,
      unit: "ms",
      notes: `separate executeKql per run: ${separateMs.toFixed(0)} ms${every > 1 ? ` (from ${checked} sampled runs)` : ""}; ratio ${(separateMs / slideMs).toFixed(1)}x; fired ${slid.fired}`,
    });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) console.table(await bench());
