// Injection scanner: recall and false positives on the corpus's held-out part (test/fixtures/injection/, split by a
// hash of each text; the lexicon and weights were tuned on the rest), the same on round 2's held-out half alone (the
// only data never looked at while tuning: see test/fixtures/injection/corpus.ts), and scan throughput on benign SOC
// text — as the seal stage calls it, over a result of many short strings, and over one long log blob.
// Run alone with `npx tsx bench/injection.ts`.
import { pathToFileURL } from "node:url";
import { scoreText } from "../src/governance/injection/score.js";
import { scanForInjection } from "../src/governance/untrusted.js";
import { loadCorpus, type Sample } from "../test/fixtures/injection/corpus.js";
import type { BenchResult } from "./types.js";

const AREA = "injection";
const RECALL_TARGET = 0.9;
const FP_TARGET = 0.02;

const flagged = (s: Sample) => scanForInjection(s.text).length > 0;

function measure(injections: Sample[], benign: Sample[]) {
  const hit = injections.filter(flagged).length;
  const fp = benign.filter(flagged).length;
  return {
    recall: hit / injections.length,
    hit,
    fp,
    fpRate: fp / benign.length,
    nInj: injections.length,
    nBen: benign.length,
  };
}

/** MB/s (UTF-8 bytes) of `f` over `bytes`, from the fastest of several rounds of at least `minMs` each. */
function throughput(bytes: number, f: () => void, rounds = 5, minMs = 200): { mbps: number; p50Ms: number } {
  f();
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    do {
      f();
      n++;
    } while (performance.now() - t0 < minMs);
    perCall.push((performance.now() - t0) / n);
  }
  perCall.sort((a, b) => a - b);
  return { mbps: bytes / 1e6 / (perCall[0]! / 1000), p50Ms: perCall[Math.floor(perCall.length / 2)]! };
}

export async function bench(): Promise<BenchResult[]> {
  const { injections, benign } = loadCorpus();
  const held = measure(
    injections.filter((s) => s.split === "holdout"),
    benign.filter((s) => s.split === "holdout"),
  );
  const fresh = measure(
    injections.filter((s) => s.round === 2 && s.split === "holdout"),
    benign.filter((s) => s.round === 2 && s.split === "holdout"),
  );
  const out: BenchResult[] = [
    {
      area: AREA,
      name: "held-out recall",
      headline: "Injection scanner recall (held out)",
      value: held.recall,
      unit: "ratio",
      target: `≥ ${RECALL_TARGET}`,
      holds: held.recall >= RECALL_TARGET,
      notes: `${held.hit}/${held.nInj} held-out injections flagged; round 2 held-out half alone (never tuned on): ${fresh.recall.toFixed(3)} (${fresh.hit}/${fresh.nInj})`,
    },
    {
      area: AREA,
      name: "held-out false-positive rate",
      headline: "Injection scanner false positives (held out)",
      value: held.fpRate,
      unit: "ratio",
      target: `≤ ${FP_TARGET}`,
      holds: held.fpRate <= FP_TARGET,
      notes: `${held.fp}/${held.nBen} held-out benign SOC texts flagged; round 2 held-out half alone: ${fresh.fp}/${fresh.nBen}`,
    },
  ];

  // A result as the seal stage sees it: many short strings (the benign corpus as records), scanned as one value.
  const records = benign.map((s, i) => ({ id: `rec-${i}`, kind: s.kind, text: s.text, tags: [s.lang, s.kind] }));
  const recordsBytes = Buffer.byteLength(JSON.stringify(records));
  const many = throughput(recordsBytes, () => scanForInjection(records));
  out.push({
    area: AREA,
    name: "scan throughput, benign records",
    value: many.mbps,
    unit: "MB/s",
    p50Ms: many.p50Ms,
    notes: `scanForInjection over ${records.length} benign SOC records (${(recordsBytes / 1024).toFixed(0)} KB of JSON)`,
  });

  // One long benign log blob (the scanner reads at most the first 256K and last 64K characters of a string, so this
  // scores the text directly to measure the per-byte rate).
  let blob = "";
  const lines = benign.map((s) => s.text);
  for (let i = 0; blob.length < 1_000_000; i++) blob += `${lines[i % lines.length]}\n`;
  const blobBytes = Buffer.byteLength(blob);
  const one = throughput(blobBytes, () => scoreText(blob), 3, 300);
  out.push({
    area: AREA,
    name: "scan throughput, 1 MB benign log blob",
    value: one.mbps,
    unit: "MB/s",
    p50Ms: one.p50Ms,
    notes: `scoreText over ${(blobBytes / 1e6).toFixed(2)} MB of benign SOC lines in one string`,
  });
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
