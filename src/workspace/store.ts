import Database from "better-sqlite3";
import { adoptIngestionTimes, stampIngestionTime, storedRow } from "../kql/ingestion.js";
import type { KqlTable, KqlValue } from "../kql/types.js";
import { LOG_TABLES } from "./schemas.js";

export type Db = Database.Database;

/** An ARM resource as stored: its kind (incidents, alerts, comments…), name, parent, etag and JSON body. */
export interface StoredResource {
  kind: string;
  name: string;
  parent: string;
  etag: string;
  body: Record<string, unknown>;
}

/**
 * The workspace's store of record (SQLite, WAL): ARM resources and log rows. Log tables are also held in memory as
 * KqlTables (loaded at start, appended on ingestion) so queries scan arrays rather than SQL.
 */
export class WorkspaceStore {
  readonly db: Db;
  private readonly tables = new Map<string, KqlTable>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS resources (
        kind TEXT NOT NULL, name TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '', etag TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, parent, name));
      CREATE TABLE IF NOT EXISTS logs (id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, row TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS logs_tbl ON logs(tbl, id);
    `);
  }

  meta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?").get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(key, value);
  }

  list(kind: string, parent = ""): StoredResource[] {
    return this.db
      .prepare<[string, string], { kind: string; name: string; parent: string; etag: string; body: string }>(
        "SELECT * FROM resources WHERE kind = ? AND parent = ? ORDER BY rowid",
      )
      .all(kind, parent)
      .map((r) => ({ ...r, body: JSON.parse(r.body) }));
  }

  get(kind: string, name: string, parent = ""): StoredResource | undefined {
    const r = this.db
      .prepare<[string, string, string], { kind: string; name: string; parent: string; etag: string; body: string }>(
        "SELECT * FROM resources WHERE kind = ? AND parent = ? AND name = ?",
      )
      .get(kind, parent, name);
    return r ? { ...r, body: JSON.parse(r.body) } : undefined;
  }

  put(kind: string, name: string, body: Record<string, unknown>, etag: string, parent = ""): void {
    this.db
      .prepare(
        `INSERT INTO resources (kind, name, parent, etag, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(kind, parent, name) DO UPDATE SET etag = excluded.etag, body = excluded.body`,
      )
      .run(kind, name, parent, etag, JSON.stringify(body));
  }

  delete(kind: string, name: string, parent = ""): boolean {
    return (
      this.db.prepare("DELETE FROM resources WHERE kind = ? AND parent = ? AND name = ?").run(kind, parent, name)
        .changes > 0
    );
  }

  /**
   * Appends log rows (aligned with LOG_TABLES[table]) to SQLite and the in-memory table, each stamped with its
   * ingestion time (the hidden column ingestion_time() reads; stored as one element after the row's values):
   * `ingested` when given (the receive time of an ingestion request), else a few seconds after the row's
   * TimeGenerated (seeded data: a plausible, deterministic ingestion delay of 2 to 7 s).
   */
  appendLogs(table: string, rows: KqlValue[][], ingested?: number): void {
    const ti = (LOG_TABLES[table] ?? []).findIndex((c) => c.name === "TimeGenerated");
    rows.forEach((r, i) => {
      const tg = ti >= 0 ? r[ti] : null;
      const at = ingested ?? (typeof tg === "number" ? tg + 2000 + ((i * 7919) % 5000) : undefined);
      if (at !== undefined) stampIngestionTime(r, at);
    });
    const insert = this.db.prepare("INSERT INTO logs (tbl, row) VALUES (?, ?)");
    this.db.transaction(() => {
      for (const r of rows) insert.run(table, JSON.stringify(storedRow(r)));
    })();
    const t = this.tables.get(table);
    if (t) for (const r of rows) t.rows.push(r);
  }

  /** The in-memory log table, loaded from SQLite on first use. */
  logTable(name: string): KqlTable | undefined {
    const columns = LOG_TABLES[name];
    if (!columns) return undefined;
    let t = this.tables.get(name);
    if (!t) {
      const rows = this.db
        .prepare<[string], { row: string }>("SELECT row FROM logs WHERE tbl = ? ORDER BY id")
        .all(name)
        .map((r) => JSON.parse(r.row) as KqlValue[]);
      t = { name, columns, rows };
      adoptIngestionTimes(t);
      this.tables.set(name, t);
    }
    return t;
  }

  clearAll(): void {
    this.db.exec("DELETE FROM resources; DELETE FROM logs;");
    this.tables.clear();
  }

  close(): void {
    this.db.close();
  }
}
