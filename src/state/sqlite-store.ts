import type { Approval } from "../types/approval.js";
import type { Receipt } from "../types/receipt.js";
import {
  type AppendEffects,
  ApprovalAlreadyUsed,
  type ApprovalRows,
  type CallLimits,
  type CallReservation,
  type JobRecord,
  type JobRows,
  type JobStatus,
  type LogHead,
  type LogRow,
  type ReceiptRows,
  type RollbackStateRows,
  type SealReceipt,
  type StateStore,
  type StoredApproval,
  type StoredToken,
  type UnsealedReceipt,
} from "./contract.js";
import { type Db, openStateDb, STATE_SCHEMA_VERSION } from "./db.js";

const GENESIS = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const parse = (rows: { body: string }[]) => rows.map((r) => JSON.parse(r.body) as Receipt);

/**
 * The state contract on SQLite (GSMCP_HOME/state.db, WAL): the embedded default. better-sqlite3 is synchronous, so
 * each method completes before it returns and an append's transaction (BEGIN IMMEDIATE) never spans an await; other
 * processes on the same file are serialised by SQLite's write lock.
 */
export class SqliteStore implements StateStore {
  readonly kind = "sqlite" as const;
  readonly receipts: ReceiptRows;
  readonly approvals: ApprovalRows;
  readonly jobs: JobRows;
  readonly rollbackState: RollbackStateRows;

  constructor(
    readonly db: Db,
    readonly where: string,
  ) {
    this.receipts = sqliteReceipts(db);
    this.approvals = sqliteApprovals(db);
    this.jobs = sqliteJobs(db);
    const get = db.prepare<[string], { args: string; prior_state: string | null }>(
      "SELECT args, prior_state FROM rollback_state WHERE receipt_id = ?",
    );
    this.rollbackState = {
      get: async (id) => {
        const row = get.get(id);
        if (!row) return undefined;
        return {
          args: JSON.parse(row.args),
          prior: row.prior_state === null ? undefined : JSON.parse(row.prior_state),
        };
      },
    };
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Opens (and migrates) the SQLite state at `path`. */
export function openSqliteStore(path: string): SqliteStore {
  const db = openStateDb(path);
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > STATE_SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `the state database ${path} is at schema version ${version}, this gsmcp knows ${STATE_SCHEMA_VERSION}: upgrade gsmcp`,
    );
  }
  return new SqliteStore(db, path);
}

function sqliteReceipts(db: Db): ReceiptRows {
  const head = db.prepare<[], { seq: number; hash: string }>(
    "SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1",
  );
  const jobLast = db.prepare<[string], { seq: number | null }>("SELECT max(seq) AS seq FROM receipts WHERE job = ?");
  const insert = db.prepare("INSERT INTO receipts (seq, receipt_id, job, hash, body) VALUES (?, ?, ?, ?, ?)");
  const consume = db.prepare(
    "UPDATE approvals SET consumed_at = ?, consumed_by = ? WHERE approval_id = ? AND consumed_at IS NULL",
  );
  const usage = db.prepare(
    `UPDATE jobs SET calls = calls + ?, rows = rows + ?, redacted_predicate_queries = redacted_predicate_queries + ?,
     last_seen = ? WHERE job = ?`,
  );
  const call = db.prepare("INSERT INTO job_calls (job, at_ms) VALUES (?, ?)");
  const prune = db.prepare("DELETE FROM job_calls WHERE job = ? AND at_ms < ?");
  const flag = db.prepare("INSERT INTO job_flags (job, flag, time) VALUES (?, ?, ?)");
  const rollback = db.prepare("INSERT OR REPLACE INTO rollback_state (receipt_id, args, prior_state) VALUES (?, ?, ?)");

  const appendTx = db.transaction(
    (draft: UnsealedReceipt, seal: SealReceipt, effects: AppendEffects): { receipt: Receipt; hash: string } => {
      const last = head.get();
      const sealed = seal(draft, last ?? { seq: 0, hash: GENESIS }, jobLast.get(draft.job)?.seq ?? 0);
      const r = sealed.receipt;
      insert.run(r.seq, r.receipt_id, r.job, sealed.hash, JSON.stringify(r));
      if (effects.consumeApproval && consume.run(r.time, r.receipt_id, effects.consumeApproval).changes !== 1)
        throw new ApprovalAlreadyUsed(effects.consumeApproval);
      if (effects.usage) {
        const u = effects.usage;
        const at = Date.parse(u.at);
        usage.run(u.reserved ? 0 : 1, u.rows, u.redactedPredicates ? 1 : 0, u.at, u.job);
        if (!u.reserved) {
          call.run(u.job, at);
          prune.run(u.job, at - 120_000);
        }
      }
      for (const f of effects.flags?.flags ?? []) flag.run(effects.flags!.job, f, effects.flags!.at);
      if (effects.rollbackState) {
        const { args, prior } = effects.rollbackState;
        rollback.run(r.receipt_id, JSON.stringify(args), prior === undefined ? null : JSON.stringify(prior));
      }
      return sealed;
    },
  );

  return {
    append: async (draft, seal, effects = {}) => appendTx.immediate(draft, seal, effects),
    head: async (): Promise<LogHead> => head.get() ?? { seq: 0, hash: GENESIS },
    get: async (id) => {
      const row = db.prepare<[string], { body: string }>("SELECT body FROM receipts WHERE receipt_id = ?").get(id);
      return row ? (JSON.parse(row.body) as Receipt) : undefined;
    },
    range: async (afterSeq, limit) =>
      db
        .prepare<[number, number], LogRow>(
          "SELECT seq, receipt_id, hash, body FROM receipts WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .all(afterSeq, limit),
    jobRange: async (job, afterSeq, limit) =>
      db
        .prepare<[string, number, number], { seq: number; body: string }>(
          "SELECT seq, body FROM receipts WHERE job = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .all(job, afterSeq, limit),
    forJob: async (job) =>
      parse(db.prepare<[string], { body: string }>("SELECT body FROM receipts WHERE job = ? ORDER BY seq").all(job)),
    followUps: async (intentId) =>
      parse(
        db
          .prepare<[string], { body: string }>(
            "SELECT body FROM receipts WHERE json_extract(body, '$.intent_receipt_id') = ? ORDER BY seq",
          )
          .all(intentId),
      ),
    danglingIntents: async () =>
      parse(
        db
          .prepare<[], { body: string }>(
            `SELECT i.body FROM receipts i
             WHERE json_extract(i.body, '$.phase') = 'intent'
               AND NOT EXISTS (SELECT 1 FROM receipts o WHERE json_extract(o.body, '$.intent_receipt_id') = i.receipt_id)
             ORDER BY i.seq`,
          )
          .all(),
      ),
    policyHashesOfJob: async (job) =>
      db
        .prepare<[string], { h: string | null }>(
          "SELECT DISTINCT json_extract(body, '$.policy_hash') AS h FROM receipts WHERE job = ?",
        )
        .all(job)
        .map((r) => r.h)
        .filter((h): h is string => !!h && h !== "-"),
  };
}

interface ApprovalRow {
  body: string;
  consumed_at: string | null;
  consumed_by: string | null;
}

const withConsumption = (r: ApprovalRow): StoredApproval => ({
  ...(JSON.parse(r.body) as Approval),
  ...(r.consumed_at ? { consumed_at: r.consumed_at, consumed_by: r.consumed_by ?? "" } : {}),
});

function sqliteApprovals(db: Db): ApprovalRows {
  const upsert = db.prepare(
    `INSERT INTO approvals (approval_id, job, op, args_hash, policy_hash, requested_at, expires_at, status, body)
     VALUES (@approval_id, @job, @op, @args_hash, @policy_hash, @requested_at, @expires_at, @decision, @body)
     ON CONFLICT(approval_id) DO UPDATE SET status = excluded.status, body = excluded.body`,
  );
  const decide = db.prepare(
    "UPDATE approvals SET status = @decision, body = @body WHERE approval_id = @approval_id AND status = 'pending'",
  );
  const get = db.prepare<[string], ApprovalRow>(
    "SELECT body, consumed_at, consumed_by FROM approvals WHERE approval_id = ?",
  );
  const binding = db.prepare<[string, string, string, string], ApprovalRow>(
    `SELECT body, consumed_at, consumed_by FROM approvals
     WHERE job = ? AND op = ? AND args_hash = ? AND policy_hash = ? AND consumed_at IS NULL
     ORDER BY requested_at DESC LIMIT 1`,
  );
  const consume = db.prepare(
    "UPDATE approvals SET consumed_at = ?, consumed_by = ? WHERE approval_id = ? AND consumed_at IS NULL",
  );
  return {
    save: async (a) => {
      upsert.run({ ...a, body: JSON.stringify(a) });
    },
    saveDecision: async (a) => decide.run({ ...a, body: JSON.stringify(a) }).changes === 1,
    get: async (id) => {
      const row = get.get(id);
      return row ? withConsumption(row) : undefined;
    },
    list: async (filter = {}) =>
      db
        .prepare<[], ApprovalRow>("SELECT body, consumed_at, consumed_by FROM approvals ORDER BY requested_at DESC")
        .all()
        .map(withConsumption)
        .filter((a) => !filter.job || a.job === filter.job),
    findForBinding: async (job, op, argsHash, policyHash) => {
      const row = binding.get(job, op, argsHash, policyHash);
      return row ? (JSON.parse(row.body) as Approval) : undefined;
    },
    consume: async (id, by, at) => consume.run(at, by, id).changes === 1,
  };
}

function sqliteJobs(db: Db): JobRows {
  const get = db.prepare<[string], JobRecord>("SELECT * FROM jobs WHERE job = ?");
  const touch = db.prepare(
    `INSERT INTO jobs (job, agent, policy_hash, status, calls, rows, first_seen, last_seen)
     VALUES (?, ?, ?, 'active', 0, 0, ?, ?) ON CONFLICT(job) DO NOTHING`,
  );
  const recent = db.prepare<[string, number], { n: number }>(
    "SELECT count(*) AS n FROM job_calls WHERE job = ? AND at_ms > ?",
  );
  const status = db.prepare("UPDATE jobs SET status = ?, reason = ? WHERE job = ?");
  const token = db.prepare(
    `INSERT OR IGNORE INTO tokens (jti, job, jws_sha256, header, claims, exp, first_seen)
     VALUES (@jti, @job, @jws_sha256, @header, @claims, @exp, @first_seen)`,
  );
  const tokens = db.prepare<
    [string],
    Omit<StoredToken, "header" | "claims"> & {
      header: string;
      claims: string;
    }
  >("SELECT jti, jws_sha256, header, claims, exp, first_seen FROM tokens WHERE job = ? ORDER BY first_seen");
  const flag = db.prepare("INSERT INTO job_flags (job, flag, time) VALUES (?, ?, ?)");
  const take = db.prepare("UPDATE jobs SET calls = calls + 1, last_seen = ? WHERE job = ?");
  const call = db.prepare("INSERT INTO job_calls (job, at_ms) VALUES (?, ?)");
  const prune = db.prepare("DELETE FROM job_calls WHERE job = ? AND at_ms < ?");
  const reserve = db.transaction((job: string, at: string, limits: CallLimits): CallReservation => {
    const atMs = Date.parse(at);
    const calls = get.get(job)?.calls ?? 0;
    const lastMinute = recent.get(job, atMs - 60_000)?.n ?? 0;
    if (limits.maxCalls !== undefined && calls >= limits.maxCalls)
      return { ok: false, limit: "max_calls", calls, lastMinute };
    if (limits.perMinute !== undefined && lastMinute >= limits.perMinute)
      return { ok: false, limit: "calls_per_minute", calls, lastMinute };
    take.run(at, job);
    call.run(job, atMs);
    prune.run(job, atMs - 120_000);
    return { ok: true, calls: calls + 1, lastMinute: lastMinute + 1 };
  });
  const flags = db.prepare<[string], { flag: string }>(
    "SELECT DISTINCT flag FROM job_flags WHERE job = ? ORDER BY flag",
  );
  return {
    get: async (job) => get.get(job),
    list: async () => db.prepare<[], JobRecord>("SELECT * FROM jobs ORDER BY last_seen DESC").all(),
    touch: async (job, agent, policyHash, at) => {
      const known = get.get(job);
      if (known) return known;
      touch.run(job, agent, policyHash, at, at);
      return get.get(job)!;
    },
    callsLastMinute: async (job, atMs) => recent.get(job, atMs - 60_000)?.n ?? 0,
    // IMMEDIATE: the check and the count are one unit against every other process on the file.
    reserveCall: async (job, at, limits) => reserve.immediate(job, at, limits),
    setStatus: async (job, s: JobStatus, reason) => status.run(s, reason, job).changes > 0,
    recordToken: async (t) => {
      token.run(t);
    },
    tokens: async (job) =>
      tokens.all(job).map((t) => ({ ...t, header: JSON.parse(t.header), claims: JSON.parse(t.claims) })),
    flag: async (job, f, at) => {
      flag.run(job, f, at);
    },
    flags: async (job) => flags.all(job).map((r) => r.flag),
  };
}
