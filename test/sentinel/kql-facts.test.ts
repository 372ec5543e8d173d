import { describe, expect, it } from "vitest";
import { createKqlFactsAnalyzer } from "../../src/sentinel/kql-facts.js";

describe("policy analysis cache", () => {
  it("answers a repeated (query, redacted columns) from the cache and keys on both", async () => {
    const analyze = createKqlFactsAnalyzer(async () => {
      throw new Error("the analyzer needs no backend");
    });
    try {
      const q = "SigninLogs | project UserPrincipalName, IPAddress | take 5";
      const first = await analyze(q);
      expect(first.tables).toEqual(["SigninLogs"]);
      expect(await analyze(q)).toBe(first);
      const redacted = await analyze(q, { redactedColumns: ["SigninLogs.IPAddress"] });
      expect(redacted).not.toBe(first);
      expect(redacted.lineage?.masked).toContain("IPAddress");
      expect(await analyze(q, { redactedColumns: ["SigninLogs.IPAddress"] })).toBe(redacted);
      expect(await analyze(`${q} `)).not.toBe(first);
    } finally {
      await analyze.close();
    }
  }, 60_000);
});
