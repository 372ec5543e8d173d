// Prints the share of surveyed real Sentinel queries whose constructs the local KQL engine runs, before and now.
// Data: src/kql/survey.json (counts from docs/kql-survey.md; no query text). Run: npx tsx scripts/kql-coverage.ts
import { readFileSync } from "node:fs";

interface Survey {
  queries: string[][];
  supportedBefore: string[];
  supportedNow: string[];
}
const survey = JSON.parse(readFileSync(new URL("../src/kql/survey.json", import.meta.url), "utf8")) as Survey;
const before = new Set(survey.supportedBefore);
const now = new Set([...survey.supportedBefore, ...survey.supportedNow]);
const share = (ok: Set<string>) => survey.queries.filter((q) => q.every((c) => ok.has(c))).length;
const n = survey.queries.length;
const pct = (k: number) => `${((100 * k) / n).toFixed(0)} %`;
const missing = new Map<string, number>();
for (const q of survey.queries) for (const c of q) if (!now.has(c)) missing.set(c, (missing.get(c) ?? 0) + 1);
console.log(`KQL construct coverage over ${n} surveyed queries`);
console.log(`  before: ${share(before)}/${n} (${pct(share(before))})`);
console.log(`  now:    ${share(now)}/${n} (${pct(share(now))})`);
for (const [c, k] of [...missing].sort((a, b) => b[1] - a[1])) console.log(`  unsupported: ${c} (${k} queries)`);
