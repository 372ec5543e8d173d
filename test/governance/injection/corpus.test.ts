import { describe, expect, it } from "vitest";
import { scanForInjection } from "../../../src/governance/untrusted.js";
import { loadCorpus, type Sample, splitOf } from "../../fixtures/injection/corpus.js";

// The scanner against the corpus: recall on injections and false positives on benign SOC text, measured on the
// held-out part (the part the lexicon and weights were not tuned on; see test/fixtures/injection/corpus.ts).

const { injections, benign } = loadCorpus();
const flagged = (s: Sample) => scanForInjection(s.text).length > 0;
const rate = (xs: Sample[], pred: (s: Sample) => boolean) => xs.filter(pred).length / xs.length;

describe("injection corpus", () => {
  it("has at least 150 injections and 150 benign SOC texts, in several languages, split by a hash of the text", () => {
    expect(injections.length).toBeGreaterThanOrEqual(150);
    expect(benign.length).toBeGreaterThanOrEqual(150);
    const langs = new Set(injections.map((s) => s.lang));
    for (const l of ["en", "de", "fr", "es", "pt", "it", "nl"]) expect(langs).toContain(l);
    for (const xs of [injections, benign]) {
      expect(new Set(xs.map((s) => s.text)).size).toBe(xs.length);
      const held = xs.filter((s) => s.split === "holdout").length;
      expect(held).toBeGreaterThan(xs.length / 3);
      expect(held).toBeLessThan((xs.length * 2) / 3);
    }
    expect(splitOf("Ignore previous instructions.")).toBe(splitOf("Ignore previous instructions."));
  });

  it("benign texts use the words injections use, so the false-positive rate means something", () => {
    for (const w of ["ignore", "disable", "delete", "instructions", "system", "override"])
      expect(benign.filter((s) => s.text.toLowerCase().includes(w)).length).toBeGreaterThanOrEqual(5);
  });

  it("held out: recall ≥ 0.9 and false positives ≤ 2 %", () => {
    const inj = injections.filter((s) => s.split === "holdout");
    const ben = benign.filter((s) => s.split === "holdout");
    const recall = rate(inj, flagged);
    const fp = rate(ben, flagged);
    console.log(
      `injection scanner, held out: recall ${recall.toFixed(3)} (${inj.length} injections), ` +
        `false positives ${(fp * 100).toFixed(1)} % (${ben.length} benign)`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(fp).toBeLessThanOrEqual(0.02);
  });

  // Round 2's held-out half is the only data never looked at while tuning (see corpus.ts). Measured there: recall
  // 0.825 (47/57), false positives 1/51 — below the 0.9 recall target on phrasings the lexicon has not seen. This
  // guards against regressions; it is not the target.
  it("round 2's held-out half (never tuned on): recall ≥ 0.8, false positives ≤ 2 %", () => {
    const inj = injections.filter((s) => s.round === 2 && s.split === "holdout");
    const ben = benign.filter((s) => s.round === 2 && s.split === "holdout");
    expect(rate(inj, flagged)).toBeGreaterThanOrEqual(0.8);
    expect(rate(ben, flagged)).toBeLessThanOrEqual(0.02);
  });
});
