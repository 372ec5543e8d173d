import { readFileSync } from "node:fs";

// Construct coverage of the survey of real Sentinel queries (docs/kql-survey.md; src/kql/survey.json holds the
// constructs each query uses, never its text): the share of queries whose constructs the engine runs.

interface Survey {
  queries: string[][];
  supportedBefore: string[];
  supportedNow: string[];
}

export interface SurveyCoverage {
  queries: number;
  before: number;
  now: number;
  /** Unsupported constructs with the number of queries using each, most used first. */
  missing: [construct: string, queries: number][];
}

export function surveyCoverage(): SurveyCoverage {
  const survey = JSON.parse(readFileSync(new URL("./survey.json", import.meta.url), "utf8")) as Survey;
  const before = new Set(survey.supportedBefore);
  const now = new Set([...survey.supportedBefore, ...survey.supportedNow]);
  const covered = (ok: Set<string>) => survey.queries.filter((q) => q.every((c) => ok.has(c))).length;
  const missing = new Map<string, number>();
  for (const q of survey.queries)
    for (const c of new Set(q)) if (!now.has(c)) missing.set(c, (missing.get(c) ?? 0) + 1);
  return {
    queries: survey.queries.length,
    before: covered(before),
    now: covered(now),
    missing: [...missing].sort((a, b) => b[1] - a[1]),
  };
}
