// Versioned schema of the PostgreSQL state store (src/state/pg-store.ts). Each migration is SQL applied in one
// transaction together with its schema_version row; `migratePg` applies the missing ones under an advisory lock, so
// two processes migrating at once apply each migration once. Never edit a released migration: append a new one.
import type pg from "pg";
import { StoreUnavailable } from "./contract.js";

/** Receipt bodies are TEXT exactly as JSON.stringify wrote them (never jsonb: key order and spacing are hashed). */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE log_head (
     id boolean PRIMARY KEY DEFAULT true CHECK (id),
     seq bigint NOT NULL,
     hash text NOT NULL
   );
   INSERT INTO log_head (id, seq, hash) VALUES (true, 0, 'sha256:${"0".repeat(64)}');
   CREATE TABLE receipts (
     seq bigint PRIMARY KEY,
     receipt_id text NOT NULL UNIQUE,
     job text NOT NULL,
     hash text NOT NULL,
     phase text NOT NULL,
     intent_receipt_id text,
     policy_hash text NOT NULL,
     body text NOT NULL
   );
   CREATE INDEX receipts_job ON receipts (job, seq);
   CREATE INDEX receipts_intent ON receipts (intent_receipt_id) WHERE intent_receipt_id IS NOT NULL;
   CREATE INDEX receipts_intents ON receipts (seq) WHERE phase = 'intent';
   CREATE TABLE approvals (
     approval_id text PRIMARY KEY,
     job text NOT NULL,
     op text NOT NULL,
     args_hash text NOT NULL,
     policy_hash text NOT NULL,
     requested_at text NOT NULL,
     expires_at text NOT NULL,
     status text NOT NULL,
     body text NOT NULL,
     consumed_at text,
     consumed_by text
   );
   CREATE INDEX approvals_binding ON approvals (job, op, args_hash, policy_hash, requested_at) WHERE consumed_at IS NULL;
   CREATE INDEX approvals_requested ON approvals (requested_at);
   CREATE TABLE jobs (
     job text PRIMARY KEY,
     agent text NOT NULL,
     policy_hash text NOT NULL,
     status text NOT NULL,
     calls bigint NOT NULL DEFAULT 0,
     rows bigint NOT NULL DEFAULT 0,
     redacted_predicate_queries bigint NOT NULL DEFAULT 0,
     first_seen text NOT NULL,
     last_seen text NOT NULL,
     reason text
   );
   CREATE TABLE job_calls (
     job text NOT NULL,
     at_ms bigint NOT NULL
   );
   CREATE INDEX job_calls_job ON job_calls (job, at_ms);
   CREATE TABLE tokens (
     jti text PRIMARY KEY,
     job text NOT NULL,
     jws_sha256 text NOT NULL,
     header text NOT NULL,
     claims text NOT NULL,
     exp double precision NOT NULL,
     first_seen text NOT NULL
   );
   CREATE INDEX tokens_job ON tokens (job, first_seen);
   CREATE TABLE job_flags (
     job text NOT NULL,
     flag text NOT NULL,
     time text NOT NULL
   );
   CREATE INDEX job_flags_job ON job_flags (job);
   CREATE TABLE rollback_state (
     receipt_id text PRIMARY KEY,
     args text NOT NULL,
     prior_state text
   );`,
  // The append's first step in one round trip: take the append lock, then read the job's previous seq. A VOLATILE
  // plpgsql function runs each statement with a new snapshot (READ COMMITTED), so the second read sees what the
  // previous holder of the lock committed.
  `CREATE FUNCTION gsmcp_lock_head(p_job text, OUT head_seq bigint, OUT head_hash text, OUT job_prev bigint)
   LANGUAGE plpgsql VOLATILE AS $$
   BEGIN
     SELECT h.seq, h.hash INTO head_seq, head_hash FROM log_head h WHERE h.id FOR UPDATE;
     SELECT max(r.seq) INTO job_prev FROM receipts r WHERE r.job = p_job;
   END
   $$;
   -- A call slot taken against the job's limits in one statement: the job's row lock serialises reservations across
   -- processes; the window is counted after it is held.
   CREATE FUNCTION gsmcp_reserve_call(p_job text, p_at text, p_at_ms bigint, p_max_calls bigint, p_per_minute bigint,
     OUT out_ok boolean, OUT out_limit text, OUT out_calls bigint, OUT out_last_minute bigint)
   LANGUAGE plpgsql VOLATILE AS $$
   BEGIN
     SELECT j.calls INTO out_calls FROM jobs j WHERE j.job = p_job FOR UPDATE;
     out_calls := coalesce(out_calls, 0);
     SELECT count(*) INTO out_last_minute FROM job_calls c WHERE c.job = p_job AND c.at_ms > p_at_ms - 60000;
     IF p_max_calls IS NOT NULL AND out_calls >= p_max_calls THEN
       out_ok := false; out_limit := 'max_calls'; RETURN;
     END IF;
     IF p_per_minute IS NOT NULL AND out_last_minute >= p_per_minute THEN
       out_ok := false; out_limit := 'calls_per_minute'; RETURN;
     END IF;
     UPDATE jobs j SET calls = j.calls + 1, last_seen = p_at WHERE j.job = p_job;
     INSERT INTO job_calls (job, at_ms) VALUES (p_job, p_at_ms);
     DELETE FROM job_calls c WHERE c.job = p_job AND c.at_ms < p_at_ms - 120000;
     out_ok := true; out_calls := out_calls + 1; out_last_minute := out_last_minute + 1;
   END
   $$;`,
];

/** The schema version this code writes and reads. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** The advisory lock key migrations hold (any constant; "gsmcp" in ASCII). */
const MIGRATION_LOCK = 0x67736d6370;

const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** The schema version of the database the client is connected to (0 when nothing is there yet). */
export async function pgSchemaVersion(client: pg.ClientBase | pg.Pool): Promise<number> {
  const t = await client.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
  if (!t.rows[0]?.t) return 0;
  const v = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_version");
  return v.rows[0]?.v ?? 0;
}

/**
 * Applies the migrations the database lacks, in one transaction under an advisory lock (a second process waits, then
 * finds them applied). Refuses a schema newer than this code. Returns the versions before and after.
 */
export async function migratePg(client: pg.ClientBase): Promise<{ from: number; to: number }> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(VERSION_TABLE);
    const from = await pgSchemaVersion(client);
    if (from > PG_SCHEMA_VERSION) throw newerSchema(from);
    for (let v = from; v < PG_SCHEMA_VERSION; v++) {
      await client.query(PG_MIGRATIONS[v]!);
      await client.query("INSERT INTO schema_version (version) VALUES ($1)", [v + 1]);
    }
    await client.query("COMMIT");
    return { from, to: Math.max(from, PG_SCHEMA_VERSION) };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  }
}

/** The store's schema is not the one this code knows: the store refuses (fail closed) until gsmcp or the schema moves. */
export class SchemaMismatch extends StoreUnavailable {}

export function newerSchema(version: number): SchemaMismatch {
  return new SchemaMismatch(
    `the store's schema is version ${version}, this gsmcp knows ${PG_SCHEMA_VERSION}: upgrade gsmcp`,
  );
}

export function olderSchema(version: number): SchemaMismatch {
  return new SchemaMismatch(
    `the store's schema is version ${version}, this gsmcp needs ${PG_SCHEMA_VERSION}: run gsmcp store migrate`,
  );
}
