// A one-job log of n signed, chained receipts, built in memory exactly as the receipt store seals them (seq, prev_hash
// = chain hash of the previous receipt, job_prev_seq, Ed25519 signature over the JCS of the rest) and returned with
// the bodies as the store persists them (JSON.stringify of the signed receipt). Independent of the state store, so
// bench/verify.ts measures the verifier alone.
import { randomUUID } from "node:crypto";
import { generateSigningKey, type SigningKey } from "../src/crypto/keys.js";
import { GENESIS_HASH, type Receipt, receiptHash, signReceipt } from "../src/receipts/receipt.js";

export interface ReceiptLog {
  key: SigningKey;
  serverId: string;
  /** Stored bodies in seq order. */
  bodies: string[];
  signMs: number;
}

export function makeReceiptLog(n: number, key: SigningKey = generateSigningKey()): ReceiptLog {
  const serverId = "bench-server";
  const hash = `sha256:${"ab".repeat(32)}`;
  const bodies = new Array<string>(n);
  let prev = GENESIS_HASH;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const body = {
      receipt_id: randomUUID(),
      time: new Date().toISOString(),
      server_id: serverId,
      job: "bench-job",
      agent: "bench",
      cst_jti: "x",
      policy_hash: hash,
      op: "incidents.get",
      tool: "sentinel_incidents_get",
      args_hash: hash,
      args_redacted: { incidentId: `i-${i}` },
      decision: { effect: "ALLOW", reasons: [] },
      constraints_applied: [],
      phase: "single",
      outcome: { status: "ok", result_hash: hash, rows: 1 },
      event_id: randomUUID(),
      seq: i + 1,
      prev_hash: prev,
      job_prev_seq: i,
    };
    const signed: Receipt = signReceipt(body as unknown as Omit<Receipt, "signature">, key);
    prev = receiptHash(signed);
    bodies[i] = JSON.stringify(signed);
  }
  return { key, serverId, bodies, signMs: performance.now() - t0 };
}
