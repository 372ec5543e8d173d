import { describe, expect, it } from "vitest";
import { GovernanceError } from "../../src/governance/errors.js";
import { assertWpc } from "../../src/governance/policy.js";
import { Redactor } from "../../src/governance/redact.js";
import { examplePolicy } from "../helpers/policy.js";

describe("redaction patterns run on RE2", () => {
  const r = new Redactor({ builtin: ["secrets", "upn", "ipv4"], patterns: [{ name: "ticket", regex: "TCK-\\d{4}" }] });

  it("redacts the builtin kinds and policy patterns, counting replacements", () => {
    const { value, count } = r.redact({
      a: "Bearer abcdefghijklmnopqrstuvwxyz012345 from 10.1.2.3 by adele@contoso.com",
      b: ["password = hunter2hunter2", "TCK-1234", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"],
    });
    expect(count).toBe(6);
    expect(JSON.stringify(value)).not.toMatch(/hunter2|adele@|10\.1\.2\.3|TCK-1234|MIIE|abcdefghijklmnop/);
  });

  it("input built to make a backtracking engine go quadratic is handled in one linear pass", () => {
    // 27 chars × 40,000 unterminated PEM headers: JavaScript's lazy [\s\S]*? rescans the rest of the text per header.
    const hostile = "-----BEGIN PRIVATE KEY-----".repeat(40_000);
    const { value } = r.redact({ comment: `${hostile} password=${"x".repeat(10)}` });
    expect((value as { comment: string }).comment).toContain("«redacted:secrets»");
  });

  it("a policy whose pattern is not RE2 (lookaround, backreferences) is invalid, naming the field", () => {
    const wpc = { ...examplePolicy("triage-readonly"), redaction: { patterns: [{ name: "x", regex: "(a)\\1(?=b)" }] } };
    expect(() => assertWpc(wpc)).toThrow(GovernanceError);
    expect(() => assertWpc(wpc)).toThrow(/redaction\.patterns\[0\]\.regex is not an RE2/);
  });
});
