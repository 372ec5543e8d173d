import type { KeyObject } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type Receipt, verifyReceiptSignature } from "./receipt.js";

// Receipt signatures dominate offline verification (one Ed25519 verify each, ~110 µs on the dev machine, 77% of the
// time). They are independent, so large bundles spread them over worker threads while the main thread checks the
// chain, the Merkle root and the decisions.

/** Below this many receipts, starting workers costs more than it saves. */
const PARALLEL_MIN = 2_000;

export interface SignatureCheckOptions {
  /** Worker threads to use: 1 verifies on the calling thread. Default: the machine's available parallelism. */
  workers?: number;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Verifies every receipt's signature against the given keys; resolves to the indexes of receipts whose signature
 * does not verify. `canonical(i)` is the JCS text of receipt i (the verifier computes it anyway for chain and leaf).
 */
export async function badSignatures(
  receipts: Receipt[],
  canonical: (r: Receipt) => string,
  keys: Map<string, KeyObject>,
  opts: SignatureCheckOptions = {},
): Promise<number[]> {
  const workers = Math.max(1, Math.min(opts.workers ?? defaultWorkers(), 64));
  if (workers === 1 || receipts.length < PARALLEL_MIN) {
    const bad: number[] = [];
    receipts.forEach((r, i) => {
      if (!verifyReceiptSignature(r, keys)) bad.push(i);
    });
    return bad;
  }
  const keyData = [...keys].map(([keyid, k]) => ({ keyid, der: k.export({ format: "der", type: "spki" }) }));
  const size = Math.ceil(receipts.length / workers);
  const slices = Array.from({ length: workers }, (_, w) => receipts.slice(w * size, (w + 1) * size));
  const results = await Promise.all(
    slices.map((slice, w) => runSlice(slice.map(canonical), keyData).then((bad) => bad.map((i) => i + w * size))),
  );
  return results.flat();
}

function runSlice(texts: string[], keys: { keyid: string; der: Buffer }[]): Promise<number[]> {
  if (texts.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./signature-worker.mjs", import.meta.url), { workerData: { keys } });
    worker.once("message", (bad: number[]) => {
      resolve(bad);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`signature worker exited with code ${code}`));
    });
    worker.postMessage(texts);
  });
}
