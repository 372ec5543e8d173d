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
  /** Signatures checked so far (every 500 on this thread, every chunk from workers), for a progress bar. */
  onChecked?: (checked: number) => void;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Verifies every receipt's signature against the given keys; resolves to the indexes of receipts whose signature
 * does not verify. `canonical(r)` is the JCS text of receipt r (the verifier computes it anyway for chain and leaf).
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
      if (opts.onChecked && (i + 1) % 500 === 0) opts.onChecked(i + 1);
    });
    opts.onChecked?.(receipts.length);
    return bad;
  }
  const keyData = [...keys].map(([keyid, k]) => ({ keyid, der: k.export({ format: "der", type: "spki" }) }));
  const pool = Array.from({ length: workers }, () => startWorker(keyData));
  try {
    // Chunks go out round-robin as they are canonicalised, so workers start at once and the clones stay small.
    const pending: Promise<number[]>[] = [];
    let checked = 0;
    for (let from = 0, n = 0; from < receipts.length; from += CHUNK, n++) {
      const texts = receipts.slice(from, from + CHUNK).map(canonical);
      pending.push(
        pool[n % workers]!.check(texts).then((bad) => {
          checked += texts.length;
          opts.onChecked?.(checked);
          return bad.map((i) => i + from);
        }),
      );
    }
    return (await Promise.all(pending)).flat();
  } finally {
    for (const w of pool) void w.worker.terminate();
  }
}

/** Receipts per message to a worker. */
const CHUNK = 1_000;

/** A worker that answers chunks in the order they were sent. */
function startWorker(keys: { keyid: string; der: Buffer }[]) {
  const worker = new Worker(new URL("./signature-worker.mjs", import.meta.url), { workerData: { keys } });
  const waiting: { resolve: (bad: number[]) => void; reject: (e: Error) => void }[] = [];
  worker.on("message", (bad: number[]) => waiting.shift()?.resolve(bad));
  const failAll = (e: Error) => {
    for (const w of waiting.splice(0)) w.reject(e);
  };
  worker.on("error", failAll);
  worker.on("exit", (code) => failAll(new Error(`signature worker exited with code ${code}`)));
  return {
    worker,
    check(texts: string[]): Promise<number[]> {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        worker.postMessage(texts);
      });
    },
  };
}
