import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateSigningKey, publicKeyPem } from "../../src/crypto/keys.js";
import type { ProofBundle } from "../../src/receipts/bundle.js";
import type { Receipt } from "../../src/receipts/receipt.js";
import {
  COMMENT_GRAMMAR,
  COMMENT_MIN,
  checkDigest,
  checkForensicsComment,
  commentText,
  displayText,
  escapeText,
  makeDigest,
  type PulseSummary,
  parseDigestLine,
  renderComment,
  SENTINEL_COMMENT_MAX,
  summarize,
} from "../../src/server/forensics.js";

// Properties of the incident comment: for any attacker text in job receipts, the comment holds no markup or link of
// the attacker's (only the template's tags, ASCII letters, digits, spaces and character references), fits the
// limit, loses nothing but what it says it left out, and its digest line still verifies against the receipts.

const key = generateSigningKey();
const KEYS = [
  { keyid: key.keyid, role: "receipt_signers", name: "receipt signer", public_key: publicKeyPem(key.publicKey) },
];

const NASTY = [
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "[click](javascript:alert(1))",
  "![x](https://evil.example/p.png)",
  "<https://evil.example>",
  "https://evil.example/a?b=c",
  "www.evil.example",
  "evil@example.com",
  "**bold** _em_ ~~s~~ `code`",
  "| a | b |\n|---|---|",
  "# heading\n> quote\n- item",
  "&amp; &lt;b&gt; &#60;i&#62; &#x3c;",
  "\u202Eevil\u202C \u200B\u2066x\u2069",
  "\u0000\u0007\u001b[31m\u007f\u0085",
  "\ud800 lone \udfff surrogates",
  "😀👩‍👩‍👧 astral",
  "]]> <!-- --> <![CDATA[",
  "javascript&#58;alert(1)",
  "\\[not a link\\](x)",
];
const attacker = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom(...NASTY),
  fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 10 })), { maxLength: 8 }).map((a) => a.join("")),
);
const JOB_ID = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);

const PULSE: PulseSummary = {
  verdict: "valid",
  trust: "trusted",
  receipts: 0,
  steps: [
    { step: "receipts", ok: true, problems: [] },
    { step: "decisions", ok: false, problems: ["decision_mismatch"] },
  ],
};

function receipt(job: string, seq: number, r: { op: string; arg: string; agent: string; code: string }): Receipt {
  return {
    receipt_id: `rcpt_${seq}`,
    seq,
    prev_hash: `sha256:${"0".repeat(64)}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    server_id: "srv",
    job,
    agent: r.agent,
    cst_jti: "jti",
    policy_hash: `sha256:${"1".repeat(64)}`,
    op: r.op,
    tool: r.op,
    args_hash: `sha256:${"2".repeat(64)}`,
    args_redacted: { query: r.arg, nested: { deeper: [r.arg] } },
    decision: { effect: seq % 2 ? "BLOCK" : "ALLOW", reasons: [{ code: r.code, message: r.arg }] },
    constraints_applied: [],
    phase: "single",
    outcome: seq % 2 ? { status: "refused", error: { code: r.code, message: r.arg } } : { status: "ok" },
    signature: { keyid: key.keyid, sig: "x" },
  } as unknown as Receipt;
}

const receiptInput = fc.record({ op: attacker, arg: attacker, agent: attacker, code: attacker });

describe("comment escaping", () => {
  it("escapes every attacker string to letters, digits, spaces and character references, and decodes back", () => {
    fc.assert(
      fc.property(attacker, fc.integer({ min: 1, max: 300 }), (s, max) => {
        const shown = displayText(s, max);
        const escaped = escapeText(shown);
        expect(escaped).toMatch(/^(?:[A-Za-z0-9 ]|&#[0-9]{1,7};)*$/);
        expect(commentText(escaped)).toBe(shown);
        expect(Array.from(shown).length).toBeLessThanOrEqual(max + 1);
        // Nothing invisible or direction-changing survives.
        const hidden = Array.from(shown).filter((ch) => {
          const cp = ch.codePointAt(0)!;
          return (
            cp < 0x20 ||
            (cp >= 0x7f && cp <= 0x9f) ||
            (cp >= 0x200b && cp <= 0x200f) ||
            (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2060 && cp <= 0x2069) ||
            cp === 0xfeff
          );
        });
        expect(hidden).toEqual([]);
        expect(shown).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("the forensics comment", () => {
  it("holds no attacker markup, fits the limit, and its digest verifies, for random attacker receipts", () => {
    fc.assert(
      fc.property(
        JOB_ID,
        fc.array(receiptInput, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: COMMENT_MIN, max: SENTINEL_COMMENT_MAX }),
        fc.integer({ min: 0, max: 100 }),
        (job, inputs, maxChars, cut) => {
          const receipts = inputs.map((r, i) => receipt(job, i + 1, r));
          const size = Math.max(1, Math.ceil((receipts.length * (100 - cut)) / 100));
          const digest = makeDigest(job, receipts, size, key, new Date("2026-01-02T00:00:00Z"));
          const c = renderComment(
            {
              digest,
              summary: summarize(receipts.slice(0, size)),
              pulse: { ...PULSE, receipts: receipts.length },
              receipts,
            },
            maxChars,
          );
          expect(c.message.length).toBe(c.chars);
          expect(c.chars).toBeLessThanOrEqual(maxChars);
          expect(c.message).toMatch(COMMENT_GRAMMAR);
          expect(c.truncated).toBe(c.rows_omitted > 0 || c.sections_omitted.length > 0);
          if (c.truncated) expect(commentText(c.message)).toMatch(/Truncated to fit the \d+-character comment limit/);
          const parsed = parseDigestLine(c.message)!;
          expect(parsed).toMatchObject({ job, tree_size: size, root_hash: digest.root_hash });
          const bundle = { job, receipts, keys: KEYS } as unknown as ProofBundle;
          expect(checkDigest(bundle, parsed)).toEqual({ ok: true, problems: [] });
          // A later bundle (more receipts) still verifies; a changed receipt within the digest does not.
          const later = { ...bundle, receipts: [...receipts, receipt(job, receipts.length + 1, inputs[0]!)] };
          expect(checkDigest(later, parsed).ok).toBe(true);
          const changed = structuredClone(receipts);
          changed[size - 1]!.op = `${changed[size - 1]!.op}x`;
          expect(checkDigest({ ...bundle, receipts: changed }, parsed).ok).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("shows the latest rows whole and says how many earlier ones it left out", () => {
    const big = "<b>".repeat(400);
    const receipts = Array.from({ length: 200 }, (_, i) =>
      receipt("job-1", i + 1, { op: "kql.query", arg: big, agent: "a", code: "kql_invalid" }),
    );
    const digest = makeDigest("job-1", receipts, 200, key, new Date());
    const c = renderComment({ digest, summary: summarize(receipts), pulse: PULSE, receipts }, 8000);
    expect(c.rows_omitted).toBeGreaterThan(0);
    expect(c.rows_omitted).toBeLessThan(200);
    const text = commentText(c.message);
    expect(text).toContain(`${c.rows_omitted} earlier receipt(s) not shown`);
    // The newest receipt is shown, the first is not; every row is whole.
    expect(c.message).toContain("<td>200</td>");
    expect(c.message).not.toContain("<td>1</td>");
    expect(c.message.split("<tr>").length - 1).toBe(200 - c.rows_omitted + 1);
    expect(c.message.split("</tr>").length).toBe(c.message.split("<tr>").length);
  });

  it("refuses a budget outside 4000..30000", () => {
    const receipts = [receipt("j", 1, { op: "o", arg: "a", agent: "a", code: "c" })];
    const input = {
      digest: makeDigest("j", receipts, 1, key, new Date()),
      summary: summarize(receipts),
      pulse: PULSE,
      receipts,
    };
    expect(() => renderComment(input, COMMENT_MIN - 1)).toThrow(RangeError);
    expect(() => renderComment(input, SENTINEL_COMMENT_MAX + 1)).toThrow(RangeError);
  });

  it("the analyst's check script reads a comment's digest from the raw message or the portal's text", () => {
    const receipts = [1, 2, 3].map((i) => receipt("job-9", i, { op: "o", arg: "<x>", agent: "a", code: "c" }));
    const digest = makeDigest("job-9", receipts, 2, key, new Date());
    const message = renderComment({ digest, summary: summarize(receipts), pulse: PULSE, receipts }).message;
    const bundleText = JSON.stringify({ job: "job-9", receipts, keys: KEYS });
    // parseBundle checks the schema: a synthetic bundle is refused as unreadable, so go through checkDigest's path.
    expect(() => checkForensicsComment(bundleText, message)).toThrow(/not a proof bundle/);
    expect(checkForensicsComment(bundleText, "no digest here")).toEqual({
      ok: false,
      problems: ["the comment has no gsmcp-forensics/v1 digest line"],
    });
    expect(parseDigestLine(commentText(message))).toEqual(parseDigestLine(message));
  });
});
