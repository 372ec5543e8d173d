import type { KeyObject } from "node:crypto";
import type { Db } from "../state/db.js";
import { GENESIS_HASH, type Receipt, receiptHash, receiptKeyWindowProblem, verifyReceiptSignature } from "./receipt.js";

export interface ChainProblem {
  seq: number;
  receipt_id: string;
  /** key_outside_window: the receipt's time is outside its signing key's validity window (trust.json). */
  code: "bad_signature" | "key_outside_window" | "broken_link" | "seq_gap" | "unparseable";
  message: string;
}

/**
 * Checks a full receipt log: every signature against the trusted receipt signers (and its time against the signing
 * key's validity window, when the key carries one: see TrustStore), and every link
 * (prev_hash = hash of the previous receipt, seq strictly consecutive from 1).
 */
export function verifyChain(
  receipts: Receipt[],
  keys: Map<string, KeyObject>,
  /** Called every PROGRESS_EVERY receipts and at the end: receipts checked of all (`gsmcp receipts verify`'s bar). */
  onProgress?: (p: { phase: "receipts"; done: number; total: number }) => void,
): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let prevHash = GENESIS_HASH;
  let expectSeq = 1;
  let done = 0;
  for (const r of receipts) {
    if (onProgress && done++ % PROGRESS_EVERY === 0)
      onProgress({ phase: "receipts", done: done - 1, total: receipts.length });
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
    } else {
      const w = receiptKeyWindowProblem(r, keys);
      if (w) problems.push({ seq: r.seq, receipt_id: r.receipt_id, code: "key_outside_window", message: w.message });
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
  onProgress?.({ phase: "receipts", done: receipts.length, total: receipts.length });
  return problems;
}

/** How often verifyChain reports progress (in receipts). */
const PROGRESS_EVERY = 500;

export interface StoredRow {
  seq: number;
  receipt_id: string;
  body: string;
}

/**
 * The stored log as `receipts verify` and `doctor` check it: rows as stored (a corrupted row is reported, not a
 * crash; index columns must agree with the body), then every signature and link.
 */
export function verifyStoredRows(
  rows: StoredRow[],
  keys: Map<string, KeyObject>,
  onProgress?: Parameters<typeof verifyChain>[2],
): { count: number; problems: ChainProblem[]; receipts: Receipt[] } {
  const receipts: Receipt[] = [];
  const problems: ChainProblem[] = [];
  for (const { seq, receipt_id, body } of rows) {
    try {
      const r = JSON.parse(body) as Receipt;
      if (r.seq !== seq || r.receipt_id !== receipt_id)
        problems.push({
          seq,
          receipt_id,
          code: "unparseable",
          message: "stored index columns disagree with the receipt body",
        });
      receipts.push(r);
    } catch {
      problems.push({ seq, receipt_id, code: "unparseable", message: "receipt body is not valid JSON" });
    }
  }
  problems.push(...verifyChain(receipts, keys, onProgress));
  return { count: rows.length, problems, receipts };
}

/** verifyStoredRows over a SQLite state database (works on a read-only connection). */
export function verifyStoredLog(
  db: Db,
  keys: Map<string, KeyObject>,
): { count: number; problems: ChainProblem[]; receipts: Receipt[] } {
  return verifyStoredRows(
    db.prepare<[], StoredRow>("SELECT seq, receipt_id, body FROM receipts ORDER BY seq").all(),
    keys,
  );
}
