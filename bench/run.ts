// `npm run bench`: runs every bench/<area>.ts that exists, prints one table and writes bench/results/latest.json.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./types.js";

const here = dirname(fileURLToPath(import.meta.url));
const AREAS = [
  "governance",
  "coldstart",
  "http",
  "injection",
  "kql",
  "workspace",
  "proof",
  "verify",
  "telemetry",
  "store",
  "preview",
  "coverage",
];
const only = process.argv.slice(2);

const load0 = loadavg()[0]!;
const results: BenchResult[] = [];
for (const area of AREAS) {
  if (only.length && !only.includes(area)) continue;
  const file = join(here, `${area}.ts`);
  if (!existsSync(file)) continue;
  process.stderr.write(`bench: ${area}…`);
  const started = performance.now();
  const mod = (await import(file)) as { bench: () => Promise<BenchResult[]> };
  try {
    results.push(...(await mod.bench()));
  } catch (e) {
    results.push({ area, name: "error", value: Number.NaN, unit: "", notes: (e as Error).message });
  }
  process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

const fmt = (n: number | undefined) =>
  n === undefined ? "" : Number.isNaN(n) ? "NaN" : n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3);
const rows = results.map((r) => [
  r.area,
  r.name,
  `${fmt(r.value)} ${r.unit}`,
  fmt(r.p50Ms),
  fmt(r.p99Ms),
  r.target ?? "",
  r.holds === undefined ? "" : r.holds ? "yes" : "NO",
  r.notes ?? "",
]);
const head = ["area", "measure", "value", "p50 ms", "p99 ms", "target", "holds", "notes"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (cells: string[]) => cells.map((c, i) => String(c).padEnd(widths[i]!)).join("  ");
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r as string[]));

// The "Performance (bench)" figures, one line each: value, target, holds.
const heads = results.filter((r) => r.headline);
if (heads.length) {
  const hw = Math.max(...heads.map((r) => r.headline!.length));
  const vals = heads.map((r) => `${fmt(r.value)} ${r.unit}`);
  const vw = Math.max(...vals.map((v) => v.length));
  const tw = Math.max(...heads.map((r) => (r.target ?? "-").length));
  const load = `load average ${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`;
  console.log(`\nPerformance (bench) — ${cpus().length} CPU(s), ${load}, node ${process.version}`);
  heads.forEach((r, i) => {
    const holds = (r.holds === undefined ? "" : r.holds ? "holds: yes" : "holds: NO ").padEnd(10);
    const pcts =
      r.p50Ms !== undefined && r.p99Ms !== undefined ? `  (p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms)` : "";
    console.log(
      `  ${r.headline!.padEnd(hw)}  ${vals[i]!.padEnd(vw)}  target ${(r.target ?? "-").padEnd(tw)}  ${holds}${pcts}`,
    );
  });
}

const outDir = join(here, "results");
mkdirSync(outDir, { recursive: true });
const meta = {
  time: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  loadavg: { start: load0, end: loadavg()[0] },
};
writeFileSync(join(outDir, "latest.json"), `${JSON.stringify({ meta, results }, null, 2)}\n`);
console.log(`\nwrote ${join(outDir, "latest.json")}`);
// The KQL policy analyzer's worker has no close and keeps the process alive (see bench/kql.ts): end explicitly.
process.exit(process.exitCode ?? 0);
