import Database from "better-sqlite3";

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS receipts (
     seq INTEGER PRIMARY KEY,
     receipt_id TEXT NOT NULL UNIQUE,
     job TEXT NOT NULL,
     hash TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS receipts_job ON receipts(job, seq);
   CREATE TABLE IF NOT EXISTS approvals (
     approval_id TEXT PRIMARY KEY,
     job TEXT NOT NULL,
     op TEXT NOT NULL,
     args_hash TEXT NOT NULL,
     policy_hash TEXT NOT NULL,
     requested_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     status TEXT NOT NULL,
     body TEXT NOT NULL,
     consumed_at TEXT,
     consumed_by TEXT
   );
   CREATE TABLE IF NOT EXISTS jobs (
     job TEXT PRIMARY KEY,
     agent TEXT NOT NULL,
     policy_hash TEXT NOT NULL,
     status TEXT NOT NULL,
     calls INTEGER NOT NULL DEFAULT 0,
     rows INTEGER NOT NULL DEFAULT 0,
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     reason TEXT
   );
   CREATE TABLE IF NOT EXISTS tokens (
     jti TEXT PRIMARY KEY,
     job TEXT NOT NULL,
     jws TEXT NOT NULL,
     exp INTEGER NOT NULL,
     first_seen TEXT NOT NULL
   );
   CREATE TABLE IF NOT EXISTS job_flags (
     job TEXT NOT NULL,
     flag TEXT NOT NULL,
     time TEXT NOT NULL
   );`,
  // Queries that filtered, sorted or joined on a redacted column, for redaction.max_predicate_queries.
  "ALTER TABLE jobs ADD COLUMN redacted_predicate_queries INTEGER NOT NULL DEFAULT 0;",
  // Real arguments and prior state of writes (receipts carry the redacted forms); see governance/rollback-state.ts.
  `CREATE TABLE IF NOT EXISTS rollback_state (
     receipt_id TEXT PRIMARY KEY,
     args TEXT NOT NULL,
     prior_state TEXT
   );`,
];

/** Opens (and migrates) the server's state database: receipts, approvals, jobs. */
export function openStateDb(path: string, opts: { readonly?: boolean } = {}): Db {
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  if (!opts.readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    const version = db.pragma("user_version", { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }
  return db;
}
