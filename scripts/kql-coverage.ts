// Prints the share of surveyed real Sentinel queries whose constructs the local KQL engine runs, before and now.
// Data: src/kql/survey.json (see docs/kql-survey.md; no query text). Run: npx tsx scripts/kql-coverage.ts
import { surveyCoverage } from "../src/kql/coverage.js";

const c = surveyCoverage();
const pct = (k: number) => `${((100 * k) / c.queries).toFixed(0)} %`;
console.log(`KQL construct coverage over ${c.queries} surveyed queries`);
console.log(`  before: ${c.before}/${c.queries} (${pct(c.before)})`);
console.log(`  now:    ${c.now}/${c.queries} (${pct(c.now)})`);
for (const [construct, k] of c.missing) console.log(`  unsupported: ${construct} (${k} queries)`);
