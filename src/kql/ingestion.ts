import type { KqlTable, KqlValue } from "./types.js";

// The hidden per-row ingestion time (Kusto's `$IngestionTime`, read with ingestion_time()). It is not a column: no
// schema, getschema, `*`, project-away or result lists it. It rides on the row array as a symbol-keyed property, so
// operators that pass rows through (where, sort, take, top) keep it for free; operators that copy a row into a new
// array (extend, project, project-away/-keep/-reorder, parse, mv-expand, union) carry it over; operators that build
// new rows from several (summarize, count, make-series, join, lookup) leave it off, and ingestion_time() is null.
//
// Storage hands it over as one element beyond the table's columns (`[...values, ingestedMs]`): the engine moves that
// element onto the hidden property the first time it scans the row (adoptIngestionTimes).

export const INGESTION_TIME: unique symbol = Symbol("$IngestionTime");

type Stamped = KqlValue[] & { [INGESTION_TIME]?: number };

/** The row's ingestion time (epoch ms), or null when it has none (not read from a table, or ingested without one). */
export function ingestionTimeOf(row: KqlValue[]): number | null {
  return (row as Stamped)[INGESTION_TIME] ?? null;
}

/** Sets the row's hidden ingestion time. */
export function stampIngestionTime(row: KqlValue[], ms: number): void {
  (row as Stamped)[INGESTION_TIME] = ms;
}

/** Copies `from`'s ingestion time (if any) onto the new row `to`; returns `to`. */
export function carryIngestionTime(from: KqlValue[], to: KqlValue[]): KqlValue[] {
  const t = (from as Stamped)[INGESTION_TIME];
  if (t !== undefined) (to as Stamped)[INGESTION_TIME] = t;
  return to;
}

/** How many leading rows of each stored rows array are already adopted (rows are only ever appended). */
const adopted = new WeakMap<KqlValue[][], number>();

/**
 * Moves the stored form of the ingestion time (one element past the columns) onto the hidden property, for the rows
 * appended since the last call: after it every row is exactly as long as the schema. Idempotent and O(new rows).
 */
export function adoptIngestionTimes(t: KqlTable): void {
  const rows = t.rows;
  const n = t.columns.length;
  let i = adopted.get(rows) ?? 0;
  if (i === rows.length) return;
  for (; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.length > n) {
      const v = r[n];
      r.length = n;
      if (typeof v === "number") stampIngestionTime(r, v);
    }
  }
  adopted.set(rows, rows.length);
}

/** The stored form of a row: its values, then its ingestion time (when it has one). */
export function storedRow(row: KqlValue[]): KqlValue[] {
  const t = (row as Stamped)[INGESTION_TIME];
  return t === undefined ? row : [...row, t];
}
