import type { KeyObject } from "node:crypto";
import { GENESIS_HASH, type Receipt, receiptHash, verifyReceiptSignature } from "./receipt.js";

export interface ChainProblem {
  seq: number;
  receipt_id: string;
  code: "bad_signature" | "broken_link" | "seq_gap" | "unparseable";
  message: string;
}

/**
 * Checks a full receipt log: every signature against the trusted receipt signers, and every link
 * (prev_hash = hash of the previous receipt, seq strictly consecutive from 1).
 */
export function verifyChain(receipts: Receipt[], keys: Map<string, KeyObject>): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let prevHash = GENESIS_HASH;
  let expectSeq = 1;
  for (const r of receipts) {
    if (r.seq !== expectSeq) {
      problems.push({
        seq: r.seq,
        receipt_id: r.receipt_id,
        code: "seq_gap",
        message: `expected seq ${expectSeq}, found ${r.seq}`,
      });
    }
    if (!verifyReceiptSignature(r, keys)) {
      problems.push({
        seq: r.seq,
        receipt_id: r.receipt_id,
        code: "bad_signature",
        message: `signature by ${r.signature?.keyid} does not verify`,
      });
    }
    if (r.prev_hash !== prevHash) {
      problems.push({
        seq: r.seq,
        receipt_id: r.receipt_id,
        code: "broken_link",
        message: `prev_hash does not match the previous receipt`,
      });
    }
    prevHash = receiptHash(r);
    expectSeq = r.seq + 1;
  }
  return problems;
}
