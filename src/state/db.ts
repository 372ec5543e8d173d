import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import Database from "better-sqlite3";

export type Db = Database.Database;

/** What the state keeps of a CST: never the token itself (a bearer credential), only its hash and decoded parts. */
export interface TokenAtRest {
  /** "sha256:" + hex of the compact JWS: identifies the token without being usable as one. */
  jws_sha256: string;
  /** The JWS protected header and the claims (payload), as JSON text: public content, not secret. */
  header: string;
  claims: string;
}

/** Splits a compact JWS into what may be stored: its hash, header and claims; the signature is dropped. */
export function tokenAtRest(jws: string): TokenAtRest {
  const [h = "", p = ""] = jws.split(".");
  const text = (part: string) => {
    const t = Buffer.from(part, "base64url").toString("utf8");
    try {
      JSON.parse(t);
      return t;
    } catch {
      return "{}";
    }
  };
  return { jws_sha256: `sha256:${createHash("sha256").update(jws).digest("hex")}`, header: text(h), claims: text(p) };
}

/** A migration: SQL, or a function for a conversion SQL alone cannot do. Each runs in its own transaction. */
type Migration = string | ((db: Db) => void);

const MIGRATIONS: Migration[] = [
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
  // Tokens at rest: the hash, header and claims of each CST, never the JWS (a live one is a bearer credential).
  // Existing rows are converted; the old table's pages are zeroed (secure_delete) and the WAL truncated after.
  (db) => {
    db.exec(`CREATE TABLE tokens_at_rest (
       jti TEXT PRIMARY KEY,
       job TEXT NOT NULL,
       jws_sha256 TEXT NOT NULL,
       header TEXT NOT NULL,
       claims TEXT NOT NULL,
       exp INTEGER NOT NULL,
       first_seen TEXT NOT NULL
     );`);
    const insert = db.prepare(
      "INSERT INTO tokens_at_rest (jti, job, jws_sha256, header, claims, exp, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    for (const t of db
      .prepare<[], { jti: string; job: string; jws: string; exp: number; first_seen: string }>(
        "SELECT jti, job, jws, exp, first_seen FROM tokens",
      )
      .all()) {
      const r = tokenAtRest(t.jws);
      insert.run(t.jti, t.job, r.jws_sha256, r.header, r.claims, t.exp, t.first_seen);
    }
    db.exec("DROP TABLE tokens; ALTER TABLE tokens_at_rest RENAME TO tokens;");
  },
  // Calls per minute counted in the store (every process's calls), not in one process's memory.
  `CREATE TABLE IF NOT EXISTS job_calls (job TEXT NOT NULL, at_ms INTEGER NOT NULL);
   CREATE INDEX IF NOT EXISTS job_calls_job ON job_calls(job, at_ms);`,
];

/** The schema version a current state database has (PRAGMA user_version). */
export const STATE_SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (and migrates) the server's state database: receipts, approvals, jobs. */
export function openStateDb(path: string, opts: { readonly?: boolean } = {}): Db {
  // Created owner-only (0600) before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
  if (!opts.readonly && path !== ":memory:" && !path.startsWith("file:") && !existsSync(path))
    closeSync(openSync(path, "a", 0o600));
  const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  if (!opts.readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version < MIGRATIONS.length) {
      // Deleted content (the JWS of tokens converted above) is overwritten, not left in free pages.
      db.pragma("secure_delete = ON");
      for (let v = version; v < MIGRATIONS.length; v++) {
        const m = MIGRATIONS[v]!;
        // IMMEDIATE, and re-read: another process opening the same state may have applied this migration meanwhile.
        db.transaction(() => {
          if ((db.pragma("user_version", { simple: true }) as number) !== v) return;
          if (typeof m === "string") db.exec(m);
          else m(db);
          db.pragma(`user_version = ${v + 1}`);
        }).immediate();
      }
      db.pragma("secure_delete = OFF");
      // The WAL may still hold frames of the old pages: checkpoint them and cut it to zero bytes.
      db.pragma("wal_checkpoint(TRUNCATE)");
    }
  }
  return db;
}
