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

describe("the one-scan prefilter", () => {
  it("gives exactly what applying every pattern in turn gives (differential, random text)", async () => {
    const fc = (await import("fast-check")).default;
    const { compileRegex } = await import("../../src/kql/regex.js");
    const { BUILTIN_PATTERNS } = await import("../../src/governance/redact.js");
    const patterns = [...Object.entries(BUILTIN_PATTERNS), ["ticket", "TCK-\\d{4}"], ["case", "(?i)case#[a-z]{3}"]] as [
      string,
      string,
    ][];
    const redactor = new Redactor({
      builtin: Object.keys(BUILTIN_PATTERNS) as never,
      patterns: patterns.slice(-2).map(([name, regex]) => ({ name, regex })),
    });
    const compiled = patterns.map(([n, p]) => [n, compileRegex(p)] as const);
    const naive = (s: string) => {
      let count = 0;
      for (const [name, re] of compiled)
        s = re.matcher(s).replaceAll(() => {
          count++;
          return `«redacted:${name}»`;
        });
      return { s, count };
    };
    const pieces = fc.constantFrom(
      "adele@contoso.com",
      "10.0.0.1",
      "fe80:0:0:0:1:2:3:4",
      "Bearer abcdefghijklmnopqrstuvwxyz012345",
      "password=hunter2hunter2",
      "AccountKey=abcdefghijklmnopqrstuvwx==",
      "TCK-1234",
      "CASE#abc",
      "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0x.c2lnbmF0dXJlX2J5dGVz",
      " ",
      "@",
      ".",
      "=",
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string({ maxLength: 6 })), { maxLength: 12 }), (parts) => {
        const text = parts.join("");
        const got = redactor.redact({ t: text });
        const want = naive(text);
        expect(got.value.t).toBe(want.s);
        expect(got.count).toBe(want.count);
      }),
      { numRuns: 3000, seed: 15 },
    );
  });
});
