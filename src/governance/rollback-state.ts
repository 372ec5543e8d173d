import type { Statement } from "better-sqlite3";
import type { Db } from "../state/db.js";

/**
 * The real arguments and prior state of each write, kept in the server's state database for rollback and
 * dangling-intent checks. Receipts (and so proof bundles and Trust Pulse) carry only the redacted forms: an auditor
 * gets evidence, not the data the policy redacts, and rollback still restores exactly what was there.
 */
export class RollbackStateStore {
  private readonly s: Record<"put" | "get", Statement>;

  constructor(db: Db) {
    this.s = {
      put: db.prepare("INSERT OR REPLACE INTO rollback_state (receipt_id, args, prior_state) VALUES (?, ?, ?)"),
      get: db.prepare("SELECT args, prior_state FROM rollback_state WHERE receipt_id = ?"),
    };
  }

  put(receiptId: string, args: unknown, prior: unknown): void {
    this.s.put.run(receiptId, JSON.stringify(args), prior === undefined ? null : JSON.stringify(prior));
  }

  get(receiptId: string): { args: Record<string, unknown>; prior: unknown } | undefined {
    const row = this.s.get.get(receiptId) as { args: string; prior_state: string | null } | undefined;
    if (!row) return undefined;
    return { args: JSON.parse(row.args), prior: row.prior_state === null ? undefined : JSON.parse(row.prior_state) };
  }
}
