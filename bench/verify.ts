// Verification figures over a 100,000-receipt log (issue 17 item 6), each stage timed on its own:
//   a. what parsing (JSON.parse of the stored bodies) and canonicalisation (JCS) cost;
//   b. chain links over parsed receipts (seq, prev_hash = receiptHash of the previous receipt), no signatures;
//   c. Merkle leaves + root, RFC 9162 consistency proofs from ~100 checkpoint sizes to the head, and the full
//      verifyLogAgainstCheckpoints against those ~100 signed checkpoints;
//   d. b + c in one pass (target ≥ 100,000 receipts/s over parsed receipts);
//   e. signature verification: raw Ed25519 ceiling (one core, and as many workers as the verifier uses) vs our bulk path.
import { verify as edVerify, type KeyObject } from "node:crypto";
import { Worker } from "node:worker_threads";
import { jcs, sha256Hex } from "../src/crypto/jcs.js";
import { checkpointOrigin, signCheckpoint } from "../src/receipts/checkpoint.js";
import { leafHash, MerkleLevels, merkleRoot, verifyConsistency } from "../src/receipts/merkle.js";
import { GENESIS_HASH, type Receipt, receiptHash, receiptSigningBytes } from "../src/receipts/receipt.js";
import { badSignatures, defaultWorkers } from "../src/receipts/signature-pool.js";
import { verifyChain } from "../src/receipts/verify-chain.js";
import { verifyLogAgainstCheckpoints } from "../src/receipts/verify-checkpoints.js";
import { makeReceiptLog } from "./receipt-log.js";
import type { BenchResult } from "./types.js";

const AREA = "verify";
const TARGET = 100_000;

/** Runs fn `runs` times; p50/p99 of the run totals (ms) and the last result. */
function time<T>(runs: number, fn: () => T): { p50: number; p99: number; result: T } {
  const ms: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor((ms.length - 1) / 2)]!, p99: ms[ms.length - 1]!, result };
}

/** Chain links from parsed receipts: seq consecutive, prev_hash = hash of the previous receipt. Returns breaks. */
function chainLinks(receipts: Receipt[], hashOf: (r: Receipt, i: number) => string): number {
  let bad = 0;
  let prev = GENESIS_HASH;
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i]!;
    if (r.seq !== i + 1 || r.prev_hash !== prev) bad++;
    prev = hashOf(r, i);
  }
  return bad;
}

interface Cp {
  size: number;
  root: Buffer;
}

/** Merkle leaves + root + every checkpoint's consistency proof to the head + verifyLogAgainstCheckpoints. */
function merkleAndConsistency(
  canonical: (i: number) => string,
  n: number,
  cps: Cp[],
  text: string,
  logKey: KeyObject,
  origin: string,
): number {
  const leaves = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) leaves[i] = leafHash(canonical(i));
  const levels = new MerkleLevels(leaves);
  const head = levels.root();
  let bad = 0;
  for (const cp of cps) if (!verifyConsistency(cp.size, n, cp.root, head, levels.consistencyProof(cp.size, n))) bad++;
  const report = verifyLogAgainstCheckpoints(leaves, [{ name: "bench", text }], [logKey], origin);
  return bad + report.problems.length + (report.checkpoints === cps.length ? 0 : 1);
}

export async function bench(n = 100_000): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const N = n.toLocaleString("en-US");
  const { bodies, key, serverId } = makeReceiptLog(n);
  const keys = new Map([[key.keyid, key.publicKey]]);
  const origin = checkpointOrigin(serverId);

  const rate = (ms: number) => (n / ms) * 1000;
  const push = (name: string, t: { p50: number; p99: number }, extra: Partial<BenchResult> = {}) =>
    out.push({
      area: AREA,
      name,
      value: rate(t.p50),
      unit: "receipts/s",
      p50Ms: t.p50,
      p99Ms: t.p99,
      ...extra,
    });

  // a. Parsing and canonicalisation.
  const parse = time(5, () => bodies.map((b) => JSON.parse(b) as Receipt));
  const receipts = parse.result;
  push(`a. parse: JSON.parse of ${N} stored bodies`, parse);
  const canon = time(3, () => receipts.map((r) => jcs(r)));
  const canonical = canon.result;
  push("a. canonicalise: JCS of each full receipt (chain-hash and leaf input)", canon);
  push(
    "a. canonicalise: JCS signing bytes (every field but the signature)",
    time(3, () => receipts.map(receiptSigningBytes)),
  );

  // Checkpoints at ~100 sizes (not powers of two, mostly), the last one the head; signed as the checkpointer does.
  const setupLevels = new MerkleLevels(canonical.map((c) => leafHash(c)));
  const sizes = [
    ...new Set(Array.from({ length: 100 }, (_, k) => Math.max(1, Math.floor(((k + 1) * n) / 100) - (k % 7)))),
  ];
  const cps: Cp[] = sizes.map((size) => ({ size, root: setupLevels.root(0, size) }));
  const text = cps.map((cp) => `${signCheckpoint({ origin, size: cp.size, root: cp.root }, key)}\n`).join("");

  // b. Chain links, no signatures.
  const chain = time(3, () => chainLinks(receipts, receiptHash));
  if (chain.result !== 0) throw new Error(`chain check found ${chain.result} broken links`);
  push("b. chain links (receiptHash = JCS + SHA-256 per receipt, compare)", chain);
  const chainHashOnly = time(5, () => chainLinks(receipts, (_r, i) => `sha256:${sha256Hex(canonical[i]!)}`));
  push("b. chain links, hashing only (canonical text given)", chainHashOnly);

  // c. Merkle leaves + root; consistency proofs; verifyLogAgainstCheckpoints.
  const leavesT = time(5, () => canonical.map((c) => leafHash(c)));
  push("c. Merkle leaves (canonical text given)", leavesT);
  const leaves = leavesT.result;
  push(
    "c. Merkle root (MerkleLevels over leaves)",
    time(5, () => new MerkleLevels(leaves.slice()).root()),
  );
  const levels = new MerkleLevels(leaves);
  const head = levels.root();
  if (!merkleRoot(leaves).equals(head)) throw new Error("merkleRoot and MerkleLevels disagree");
  const cons = time(5, () => {
    let bad = 0;
    for (const cp of cps) if (!verifyConsistency(cp.size, n, cp.root, head, levels.consistencyProof(cp.size, n))) bad++;
    return bad;
  });
  if (cons.result !== 0) throw new Error(`${cons.result} consistency proofs fail`);
  out.push({
    area: AREA,
    name: `c. ${cps.length} RFC 9162 consistency proofs to the head (make + verify)`,
    value: cons.p50,
    unit: "ms",
    p50Ms: cons.p50,
    p99Ms: cons.p99,
  });
  const vlac = time(5, () =>
    verifyLogAgainstCheckpoints(leaves.slice(), [{ name: "bench", text }], [key.publicKey], origin),
  );
  if (vlac.result.problems.length) throw new Error(`checkpoints: ${vlac.result.problems[0]!.message}`);
  push(`c. verifyLogAgainstCheckpoints (${cps.length} signed checkpoints, leaves given)`, vlac, {
    notes: `${(vlac.p50 / cps.length).toFixed(2)} ms per checkpoint incl. its Ed25519 signature`,
  });

  // d. b + c in one pass over parsed receipts.
  const full = time(3, () => {
    const canon2 = new Array<string>(n);
    const bad = chainLinks(receipts, (r, i) => {
      const c = jcs(r);
      canon2[i] = c;
      return `sha256:${sha256Hex(c)}`;
    });
    return bad + merkleAndConsistency((i) => canon2[i]!, n, cps, text, key.publicKey, origin);
  });
  if (full.result !== 0) throw new Error("combined check failed");
  const pre = time(5, () => {
    const bad = chainLinks(receipts, (_r, i) => `sha256:${sha256Hex(canonical[i]!)}`);
    return bad + merkleAndConsistency((i) => canonical[i]!, n, cps, text, key.publicKey, origin);
  });
  const target = `≥ ${TARGET.toLocaleString("en-US")} receipts/s`;
  push("d. chain + Merkle + consistency over parsed receipts, canonicalisation on top excluded", pre, {
    target,
    holds: rate(pre.p50) >= TARGET,
    headline: "chain + Merkle + consistency (parsed, canonical form given)",
  });
  push("d. the same, JCS of each receipt included (one JCS per receipt feeds link and leaf)", full, {
    target,
    holds: rate(full.p50) >= TARGET,
    headline: "chain + Merkle + consistency (parsed, JCS included)",
    notes: `parse on top: ${parse.p50.toFixed(0)} ms; parse + all of d: ${rate(parse.p50 + full.p50).toFixed(0)} receipts/s`,
  });

  // e. Signatures.
  const workers = defaultWorkers();
  const sample = receipts.slice(0, 20_000);
  const prepared = sample.map((r) => ({
    data: Buffer.from(receiptSigningBytes(r)),
    sig: Buffer.from(r.signature.sig, "base64"),
  }));
  const e1 = performance.now();
  for (const s of prepared)
    if (!edVerify(null, s.data, key.publicKey, s.sig)) throw new Error("receipt does not verify");
  const raw1 = (prepared.length / (performance.now() - e1)) * 1000;
  out.push({
    area: AREA,
    name: "e. Ed25519 verify alone (node:crypto, one core, bytes prepared)",
    value: raw1,
    unit: "verifies/s",
  });
  const rawW = await rawWorkersRate(receipts, key.publicKey, workers);
  out.push({
    area: AREA,
    name: `e. Ed25519 verify alone, ${workers} worker threads (bytes prepared)`,
    value: rawW,
    unit: "verifies/s",
  });
  const s1 = performance.now();
  const bad1 = await badSignatures(sample, jcs, keys, { workers: 1 });
  const ours1 = (sample.length / (performance.now() - s1)) * 1000;
  out.push({
    area: AREA,
    name: "e. our bulk signature check (badSignatures), one core",
    value: ours1,
    unit: "receipts/s",
    notes: `${((ours1 / raw1) * 100).toFixed(0)}% of the one-core Ed25519 ceiling; ${bad1.length} bad`,
  });
  const sW = performance.now();
  const badW = await badSignatures(receipts, jcs, keys, { workers });
  const oursW = (n / (performance.now() - sW)) * 1000;
  out.push({
    area: AREA,
    name: `e. our bulk signature check (badSignatures), ${workers} workers, ${N} receipts`,
    value: oursW,
    unit: "receipts/s",
    headline: `signature verification, ${workers} workers`,
    target: `the ${workers}-worker Ed25519 ceiling`,
    notes: `${((oursW / rawW) * 100).toFixed(0)}% of the ${workers}-worker Ed25519 ceiling (${((oursW / raw1) * 100).toFixed(0)}% of one core's); ${badW.length} bad`,
  });
  // verifyChain (signatures + links on one thread) for reference: what the CLI's `receipts verify` does.
  const vc0 = performance.now();
  const problems = verifyChain(sample, keys);
  out.push({
    area: AREA,
    name: "e. verifyChain (signature + link per receipt, one thread)",
    value: (sample.length / (performance.now() - vc0)) * 1000,
    unit: "receipts/s",
    notes: `${problems.length} problems`,
  });
  return out;
}

/** Raw Ed25519 verifies/s over `workers` threads, each verifying its share of prepared (bytes, signature) pairs. */
async function rawWorkersRate(receipts: Receipt[], pub: KeyObject, workers: number): Promise<number> {
  const share = Math.ceil(receipts.length / workers);
  const der = pub.export({ format: "der", type: "spki" });
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { createPublicKey, verify } = require("node:crypto");
    const key = createPublicKey({ key: workerData.der, format: "der", type: "spki" });
    const items = workerData.items.map(([d, s]) => [Buffer.from(d), Buffer.from(s, "base64")]);
    parentPort.once("message", () => {
      let ok = 0;
      for (const [d, s] of items) if (verify(null, d, key, s)) ok++;
      parentPort.postMessage(ok);
    });`;
  const pool = Array.from({ length: workers }, (_, w) => {
    const items = receipts
      .slice(w * share, (w + 1) * share)
      .map((r) => [receiptSigningBytes(r), r.signature.sig] as [string, string]);
    const worker = new Worker(code, { eval: true, workerData: { der, items } });
    return { worker, count: items.length, ready: new Promise((res) => worker.once("online", res)) };
  });
  await Promise.all(pool.map((p) => p.ready));
  await new Promise((r) => setTimeout(r, 200)); // let each worker finish preparing its buffers
  const t0 = performance.now();
  const oks = await Promise.all(
    pool.map(
      (p) =>
        new Promise<number>((res, rej) => {
          p.worker.once("message", res);
          p.worker.once("error", rej);
          p.worker.postMessage("go");
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const p of pool) void p.worker.terminate();
  const total = pool.reduce((s, p) => s + p.count, 0);
  if (oks.reduce((a, b) => a + b, 0) !== total) throw new Error("raw worker verify failed");
  return (total / ms) * 1000;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench(Number(process.argv[2] ?? 100_000))) console.log(JSON.stringify(r));
}
