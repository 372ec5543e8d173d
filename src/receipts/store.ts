import type { SigningKey } from "../crypto/keys.js";
import type { AppendEffects, ReceiptRows, SealReceipt } from "../state/contract.js";
import { allRows } from "../state/pages.js";
import { type Receipt, type ReceiptDraft, receiptHash, signReceipt } from "./receipt.js";

/**
 * The append-only, hash-chained, signed receipt log over the state store (SQLite or PostgreSQL): the store serialises
 * appends and commits each receipt with its effects; this class chains and signs, and tells listeners after commit.
 */
export class ReceiptStore {
  /** The chain hash of each receipt appended by this store, computed once at append (events carry it). */
  private readonly hashes = new WeakMap<Receipt, string>();
  private readonly listeners: ((r: Receipt) => void)[] = [];
  private readonly seal: SealReceipt;

  constructor(
    readonly rows: ReceiptRows,
    key: SigningKey,
  ) {
    this.seal = (draft, head, jobPrevSeq) => {
      const body = { ...draft, seq: head.seq + 1, prev_hash: head.hash, job_prev_seq: jobPrevSeq };
      const receipt = signReceipt(body as Omit<Receipt, "signature">, key);
      return { receipt, hash: receiptHash(receipt) };
    };
  }

  /**
   * Signs, chains and persists a receipt with `effects` in the same transaction (approval consumed, usage counted,
   * rollback state kept): all or nothing. Rejects if it cannot be persisted: callers must then refuse the call.
   */
  async append(draft: ReceiptDraft, effects?: AppendEffects): Promise<Receipt> {
    const { job_prev_seq: _j, ...unsealed } = draft as ReceiptDraft & { job_prev_seq?: number };
    const { receipt, hash } = await this.rows.append(unsealed, this.seal, effects);
    this.hashes.set(receipt, hash);
    // After the commit, outside the transaction (e.g. the checkpointer): a listener's failure never fails the call.
    for (const l of this.listeners) {
      try {
        l(receipt);
      } catch (e) {
        process.stderr.write(`gsmcp: after receipt ${receipt.seq}: ${(e as Error).message}\n`);
      }
    }
    return receipt;
  }

  /** Runs `listener` after each committed append. */
  onAppended(listener: (r: Receipt) => void): void {
    this.listeners.push(listener);
  }

  /** The chain hash of a receipt (as stored in the log). */
  hashOf(r: Receipt): string {
    return this.hashes.get(r) ?? receiptHash(r);
  }

  /** The whole log in seq order (tests and small tools; large logs are read page by page with rows.range). */
  async all(): Promise<Receipt[]> {
    return (await allRows(this.rows)).map((r) => JSON.parse(r.body) as Receipt);
  }

  forJob(job: string): Promise<Receipt[]> {
    return this.rows.forJob(job);
  }

  get(receiptId: string): Promise<Receipt | undefined> {
    return this.rows.get(receiptId);
  }

  /** Receipts that complete or refer back to an intent receipt (outcomes and rollbacks), in order. */
  followUps(intentReceiptId: string): Promise<Receipt[]> {
    return this.rows.followUps(intentReceiptId);
  }

  /** Write intents with no outcome: the process stopped between the two phases. */
  danglingIntents(): Promise<Receipt[]> {
    return this.rows.danglingIntents();
  }
}
