// Coverage figures (issue 21): the share of surveyed real Sentinel queries whose KQL constructs the embedded engine
// runs (src/kql/survey.json). The spec-validation figure (responses that validate against the SDK's models) is printed
// by test/workspace/spec-responses.test.ts, which drives every served operation.
import { pathToFileURL } from "node:url";
import { surveyCoverage } from "../src/kql/coverage.js";
import type { BenchResult } from "./types.js";

export async function bench(): Promise<BenchResult[]> {
  const c = surveyCoverage();
  const share = (100 * c.now) / c.queries;
  return [
    {
      area: "coverage",
      name: `KQL constructs: surveyed queries the engine runs (${c.queries} queries)`,
      value: share,
      unit: "%",
      target: "≥ 85 %",
      holds: share >= 85,
      notes: `before issue 21: ${((100 * c.before) / c.queries).toFixed(0)} %; missing: ${c.missing.map(([k, n]) => `${k} (${n})`).join(", ") || "none"}`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) console.table(await bench());
