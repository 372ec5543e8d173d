import { afterAll, describe, expect, it } from "vitest";
import { analyzeKqlSync } from "../../src/kql/analyzer.js";
import { AnalysisTimeout, KqlAnalyzerWorker } from "../../src/kql/analyzer-worker.js";
import { SENTINEL_TABLE_SCHEMAS } from "../../src/sentinel/table-schemas.js";

// Policy analysis runs in a worker: the same answers as in-process, the event loop free while it binds, and a
// deadline that terminates and replaces the worker.

const LONG = (() => {
  let q = "SigninLogs | extend a0 = UserPrincipalName";
  for (let i = 1; i < 450; i++) q += ` | extend a${i} = a${i - 1}`;
  return `${q} | project a449`;
})();

describe("KqlAnalyzerWorker", () => {
  const w = new KqlAnalyzerWorker(SENTINEL_TABLE_SCHEMAS, 60_000);
  afterAll(() => w.close());

  it("answers exactly what the in-process analyzer answers", async () => {
    const opts = { redactedColumns: ["SigninLogs.UserPrincipalName"] };
    for (const q of [
      "SigninLogs | project u = tolower(UserPrincipalName), IPAddress",
      "union * | take 1",
      "let T = SecurityAlert; T | join (SigninLogs) on $left.CompromisedEntity == $right.UserPrincipalName",
      "SecurityΑlert | take 1",
      "AgentSecurityEvent | where PolicyDecision == 'BLOCK' | count",
      ".show tables",
    ])
      expect(await w.analyze(q, opts), q).toEqual(analyzeKqlSync(q, SENTINEL_TABLE_SCHEMAS, opts));
  });

  it("keeps the event loop free while a long pipeline is bound", async () => {
    const order: string[] = [];
    const analysis = w.analyze(LONG).then((a) => {
      order.push("analysis");
      return a;
    });
    await new Promise((r) => setTimeout(r, 20));
    order.push("timer");
    expect((await analysis).ok).toBe(true);
    expect(order).toEqual(["timer", "analysis"]);
  });

  it("terminates an analysis past its deadline and answers the next one from a fresh worker", async () => {
    const quick = new KqlAnalyzerWorker(SENTINEL_TABLE_SCHEMAS, 50);
    try {
      await expect(quick.analyze(LONG)).rejects.toBeInstanceOf(AnalysisTimeout);
      await expect(quick.analyze(LONG)).rejects.toThrow(/longer than 0.05s/);
    } finally {
      await quick.close();
    }
    // The deadline is per analysis: a generous one lets the same query through.
    expect((await w.analyze(LONG)).tables).toEqual(["SigninLogs"]);
  });

  it("does not count loading the language service against an analysis' deadline", async () => {
    // Loading takes ~0.5 s on a quiet machine and several seconds on a busy one; the deadline is for the analysis.
    const fresh = new KqlAnalyzerWorker(SENTINEL_TABLE_SCHEMAS, 200);
    try {
      const started = performance.now();
      expect((await fresh.analyze("SigninLogs | take 1")).tables).toEqual(["SigninLogs"]);
      expect(performance.now() - started).toBeGreaterThan(200);
    } finally {
      await fresh.close();
    }
  });
});
