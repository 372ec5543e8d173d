import type { LogRow, ReceiptRows } from "./contract.js";

/** Rows per round trip when reading the log from a store. */
export const PAGE_SIZE = 2000;

/**
 * Stored rows after `afterSeq`, page by page from `read` (the store's range or jobRange): memory stays bounded by a
 * page, and every store (SQLite, PostgreSQL) is read the same way.
 */
export async function* pages<R extends { seq: number }>(
  read: (afterSeq: number, limit: number) => Promise<R[]>,
  afterSeq = 0,
): AsyncGenerator<R> {
  for (let after = afterSeq; ; ) {
    const rows = await read(after, PAGE_SIZE);
    yield* rows;
    if (rows.length < PAGE_SIZE) return;
    after = rows.at(-1)!.seq;
  }
}

/** The whole stored log, in seq order (for verifiers that need every row at once). */
export async function allRows(log: Pick<ReceiptRows, "range">): Promise<LogRow[]> {
  const out: LogRow[] = [];
  for await (const row of pages((after, n) => log.range(after, n))) out.push(row);
  return out;
}
