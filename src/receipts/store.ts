import type { SigningKey } from "../crypto/keys.js";
import type { Db } from "../state/db.js";
import { GENESIS_HASH, type Receipt, type ReceiptDraft, receiptHash, signReceipt } from "./receipt.js";

/** Append-only, hash-chained, signed receipt log in SQLite. */
export class ReceiptStore {
  private readonly lastStmt;
  private readonly insertStmt;
  private readonly jobLastStmt;
  /** The chain hash of each receipt appended by this store, computed once at append (events carry it). */
  private readonly hashes = new WeakMap<Receipt, string>();
  private readonly appendTx;
  private readonly listeners: ((r: Receipt) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly key: SigningKey,
  ) {
    this.lastStmt = db.prepare<[], { seq: number; hash: string }>(
      "SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1",
    );
    this.insertStmt = db.prepare("INSERT INTO receipts (seq, receipt_id, job, hash, body) VALUES (?, ?, ?, ?, ?)");
    this.jobLastStmt = db.prepare<[string], { seq: number | null }>(
      "SELECT max(seq) AS seq FROM receipts WHERE job = ?",
    );
    // IMMEDIATE: the read of the chain head and the insert are one unit, even with a second process (CLI) writing.
    this.appendTx = db.transaction((draft: ReceiptDraft, within?: (r: Receipt) => void): Receipt => {
      const last = this.lastStmt.get();
      // The job's own chain (per-job completeness): its previous receipt, read in the same transaction.
      const jobPrev = this.jobLastStmt.get(draft.job)?.seq ?? 0;
      const body = {
        ...draft,
        seq: (last?.seq ?? 0) + 1,
        prev_hash: last?.hash ?? GENESIS_HASH,
        job_prev_seq: jobPrev,
      };
      const signed = signReceipt(body as Omit<Receipt, "signature">, this.key);
      const hash = receiptHash(signed);
      this.insertStmt.run(signed.seq, signed.receipt_id, signed.job, hash, JSON.stringify(signed));
      this.hashes.set(signed, hash);
      within?.(signed);
      return signed;
    });
  }

  /**
   * Signs, chains and persists a receipt. Throws if it cannot be persisted: callers must then refuse the call.
   * `within` runs in the same transaction (e.g. the job's usage counters): both are committed or neither.
   */
  append(draft: ReceiptDraft, within?: (r: Receipt) => void): Receipt {
    const r = this.appendTx.immediate(draft, within);
    // After the commit, outside the transaction (e.g. the checkpointer): a listener's failure never fails the call.
    for (const l of this.listeners) {
      try {
        l(r);
      } catch (e) {
        process.stderr.write(`gsmcp: after receipt ${r.seq}: ${(e as Error).message}\n`);
      }
    }
    return r;
  }

  /** Runs `listener` after each committed append. */
  onAppended(listener: (r: Receipt) => void): void {
    this.listeners.push(listener);
  }

  /** The chain hash of a receipt (as stored in the log). */
  hashOf(r: Receipt): string {
    return this.hashes.get(r) ?? receiptHash(r);
  }

  all(): Receipt[] {
    return this.db
      .prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq")
      .all()
      .map((r) => JSON.parse(r.body) as Receipt);
  }

  forJob(job: string): Receipt[] {
    return this.db
      .prepare<[string], { body: string }>("SELECT body FROM receipts WHERE job = ? ORDER BY seq")
      .all(job)
      .map((r) => JSON.parse(r.body) as Receipt);
  }

  get(receiptId: string): Receipt | undefined {
    const row = this.db
      .prepare<[string], { body: string }>("SELECT body FROM receipts WHERE receipt_id = ?")
      .get(receiptId);
    return row ? (JSON.parse(row.body) as Receipt) : undefined;
  }

  /** Receipts that complete or refer back to an intent receipt (outcomes and rollbacks), in order. */
  followUps(intentReceiptId: string): Receipt[] {
    return this.db
      .prepare<[string], { body: string }>(
        "SELECT body FROM receipts WHERE json_extract(body, '$.intent_receipt_id') = ? ORDER BY seq",
      )
      .all(intentReceiptId)
      .map((r) => JSON.parse(r.body) as Receipt);
  }

  /** Write intents with no outcome: the process stopped between the two phases. */
  danglingIntents(): Receipt[] {
    return this.db
      .prepare<[], { body: string }>(
        `SELECT i.body FROM receipts i
         WHERE json_extract(i.body, '$.phase') = 'intent'
           AND NOT EXISTS (SELECT 1 FROM receipts o WHERE json_extract(o.body, '$.intent_receipt_id') = i.receipt_id)
         ORDER BY i.seq`,
      )
      .all()
      .map((r) => JSON.parse(r.body) as Receipt);
  }
}
