// The state contract (./contract.ts) on PostgreSQL, for many processes on many hosts: one pg Pool per store.
//
// Receipts form one global chain: an append takes the row lock of the one-row log_head table, so appends from every
// process are serialised there, and everything the append does (approval consumed, usage counted, flags, rollback
// state, the new head) commits with the receipt or not at all. Bodies are TEXT exactly as JSON.stringify wrote them.
//
// Connection: a postgres:// URL (GSMCP_STORE), TLS from its sslmode/sslrootcert or explicit options, and Entra
// authentication as Azure Database for PostgreSQL uses it (an access token as the password, fetched per connection).
// No error, message or `where` ever holds the password or the connection string: driver failures become
// StoreUnavailable naming host, port and database only.
import { readFileSync } from "node:fs";
import pg from "pg";
import type { Approval } from "../types/approval.js";
import type { Receipt } from "../types/receipt.js";
import {
  type AppendEffects,
  ApprovalAlreadyUsed,
  type CallReservation,
  type JobRecord,
  type JobStatus,
  type LogHead,
  type SealReceipt,
  type StateStore,
  type StoredApproval,
  type StoredToken,
  StoreUnavailable,
  type UnsealedReceipt,
} from "./contract.js";
import { migratePg, newerSchema, olderSchema, PG_SCHEMA_VERSION, pgSchemaVersion } from "./pg-migrations.js";

/** The scope of access tokens for Azure Database for PostgreSQL (Entra authentication). */
export const ENTRA_PG_SCOPE = "https://ossrdbms-aad.database.windows.net/.default";

/** A token source in the shape of @azure/core-auth's TokenCredential (DefaultAzureCredential is one). */
export interface PgCredential {
  getToken(scope: string): Promise<{ token: string } | null>;
}

export interface PgStoreOptions {
  /** postgres://[user[:password]@]host[:port]/database[?sslmode=...&sslrootcert=...] */
  url: string;
  /** TLS, overriding the URL's sslmode: `true` verifies against the system CAs; `ca` (PEM) pins the server's CA. */
  ssl?: boolean | { ca?: string; rejectUnauthorized?: boolean };
  /** Entra: each new connection logs in with an access token for ENTRA_PG_SCOPE as its password (the URL's is ignored). */
  credential?: PgCredential;
  /** Apply missing migrations on open (otherwise an older schema refuses: "run gsmcp store migrate"). */
  migrate?: boolean;
  /** Pool size (default 10). */
  max?: number;
  /** How long to wait for a connection, from the pool or the server (default 5000 ms). */
  connectionTimeoutMillis?: number;
  /** Longest a statement may run, lock waits included (default 10000 ms). */
  statementTimeoutMillis?: number;
}

interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  ssl?: pg.ClientConfig["ssl"];
  /** postgres://host:port/database */
  where: string;
}

/** Splits a postgres:// URL into what pg needs (never handing the string itself to the driver). */
export function parsePgUrl(url: string, ssl?: PgStoreOptions["ssl"]): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreUnavailable("GSMCP_STORE is not a valid postgres:// URL");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:")
    throw new StoreUnavailable(`GSMCP_STORE must be a postgres:// URL, not ${u.protocol}//`);
  const q = u.searchParams;
  const host = q.get("host") ?? (decodeURIComponent(u.hostname.replace(/^\[|\]$/g, "")) || "localhost");
  const port = Number(q.get("port") ?? u.port ?? "") || 5432;
  const database = decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres";
  const user = decodeURIComponent(u.username) || q.get("user") || process.env.PGUSER || "postgres";
  const password = u.password ? decodeURIComponent(u.password) : (q.get("password") ?? undefined);
  const where = `postgres://${host.includes(":") ? `[${host}]` : host}:${port}/${database}`;
  return { host, port, database, user, password, ssl: tlsOf(q, ssl), where };
}

function tlsOf(q: URLSearchParams, explicit: PgStoreOptions["ssl"]): pg.ClientConfig["ssl"] {
  const rootCert = q.get("sslrootcert");
  const ca = rootCert && rootCert !== "system" ? readFileSync(rootCert, "utf8") : undefined;
  if (explicit !== undefined) {
    if (typeof explicit === "boolean") return explicit ? { rejectUnauthorized: true, ...(ca ? { ca } : {}) } : false;
    return {
      rejectUnauthorized: explicit.rejectUnauthorized ?? true,
      ...((explicit.ca ?? ca) ? { ca: explicit.ca ?? ca } : {}),
    };
  }
  switch (q.get("sslmode")) {
    case null:
    case "disable":
      return ca ? { ca, rejectUnauthorized: true } : false;
    // libpq: prefer/require encrypt without verifying, unless a root certificate is given (then verify it).
    case "allow":
    case "prefer":
    case "require":
      return ca ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: false };
    case "verify-ca":
    case "verify-full":
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
    default:
      throw new StoreUnavailable(`GSMCP_STORE: unknown sslmode "${q.get("sslmode")}"`);
  }
}

/** Fixed phrases for the failures a store can meet: nothing from the server or the URL is echoed. */
const REASONS: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "authentication failed (not allowed to connect)",
  "3D000": "the database does not exist",
  "53300": "the server has too many connections",
  "57P01": "the server is shutting down",
  "57P02": "the server is shutting down",
  "57P03": "the server is starting up or shutting down",
  "57014": "a statement timed out",
  "25P03": "a transaction timed out while idle",
  "55P03": "timed out waiting for a lock (another process holds the append lock)",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (DNS)",
  EPIPE: "connection lost",
};

/** Whether a driver error means the store is unreachable or refusing (rather than a bug or a constraint). */
function unavailable(e: unknown): string | undefined {
  if (e instanceof StoreUnavailable) return undefined;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === "string" ? err.code : "";
  const msg = typeof err.message === "string" ? err.message : "";
  if (REASONS[code]) return `${REASONS[code]}${code.startsWith("E") ? "" : ` (${code})`}`;
  // SQLSTATE classes: 08 connection exception, 28 authorization, 53 insufficient resources, 57 operator intervention.
  if (/^(08|28|53|57)[0-9A-Z]{3}$/.test(code)) return `the server refused (${code})`;
  if (/timeout exceeded when trying to connect|connection timeout/i.test(msg)) return "connection timed out";
  if (/Query read timeout/i.test(msg)) return "the server did not answer in time";
  if (/Connection terminated|connection ended|Client has encountered a connection error|not queryable/i.test(msg))
    return "connection lost";
  if (/does not support SSL|self[- ]signed|certificate|SSL|TLS/i.test(msg)) return "TLS negotiation failed";
  if (/^E[A-Z]+$/.test(code)) return `network error (${code})`;
  if (/password/i.test(msg)) return "authentication failed (no password or token)";
  return undefined;
}

type Row = Record<string, unknown>;

/**
 * A pg Client that closes its socket when connecting fails: pg's Pool drops such a client without ending it, so a
 * connection whose password callback failed (no Entra token) would stay open, half-authenticated, until the server's
 * authentication_timeout (60 s by default) — holding a server slot and blocking DROP DATABASE meanwhile.
 */
class ClosingClient extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
  override connect(
    callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void),
  ): Promise<pg.Client> | undefined {
    if (!callback)
      return super.connect().catch(async (e: unknown) => {
        await this.end().catch(() => {});
        throw e;
      });
    const cb = callback as (err: Error | null, c?: pg.Client) => void;
    super.connect(((err: Error | null, c?: pg.Client) => {
      if (err) this.end().catch(() => {});
      cb(err, c);
    }) as (err: Error) => void);
    return undefined;
  }
}

/** The pool for a store, and the error mapper that keeps secrets out of what it throws. */
function connect(opts: PgStoreOptions): { pool: pg.Pool; t: Target; fail: (e: unknown) => never } {
  const t = parsePgUrl(opts.url, opts.ssl);
  const secrets = [t.password, opts.url].filter((s): s is string => !!s);
  const statementTimeout = opts.statementTimeoutMillis ?? 10_000;
  const credential = opts.credential;
  const pool = new pg.Pool({
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    password: credential
      ? async () => {
          let tok: { token: string } | null;
          try {
            tok = await credential.getToken(ENTRA_PG_SCOPE);
          } catch (e) {
            throw new StoreUnavailable(
              `PostgreSQL store at ${t.where} is unavailable: the Entra credential failed: ${(e as Error).message}`,
            );
          }
          if (!tok?.token)
            throw new StoreUnavailable(
              `PostgreSQL store at ${t.where} is unavailable: the Entra credential returned no access token`,
            );
          return tok.token;
        }
      : t.password,
    ssl: t.ssl,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    statement_timeout: statementTimeout,
    lock_timeout: statementTimeout,
    idle_in_transaction_session_timeout: statementTimeout * 3,
    // A server that stops answering without closing the socket: give up a little after the server's own timeout.
    query_timeout: statementTimeout + 2000,
    application_name: "gsmcp",
    Client: ClosingClient,
  });
  // Idle connections die when the server restarts: the pool drops them; without a listener the process would crash.
  pool.on("error", () => {});
  const scrub = (s: string) => secrets.reduce((m, x) => m.split(x).join("***"), s);
  const fail = (e: unknown): never => {
    const reason = unavailable(e);
    if (reason) {
      const u = new StoreUnavailable(`PostgreSQL store at ${t.where} is unavailable: ${reason}`);
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string") Object.assign(u, { code });
      throw u;
    }
    if (e instanceof Error && secrets.some((x) => e.message.includes(x))) e.message = scrub(e.message);
    throw e;
  };
  return { pool, t, fail };
}

/**
 * Runs fn on one connection of the pool. pg's Pool leaves a checked-out client without an 'error' listener: the
 * server going away between two statements (a restart) would be an uncaught exception. Here it marks the connection
 * broken (destroyed on release, never reused) and the next statement fails as StoreUnavailable.
 */
async function withClient<T>(
  pool: pg.Pool,
  fail: (e: unknown) => never,
  fn: (c: pg.PoolClient, broke: (e: Error) => void) => Promise<T>,
): Promise<T> {
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (e) {
    return fail(e);
  }
  let broken: Error | undefined;
  const broke = (e: Error) => {
    broken ??= e;
  };
  c.on("error", broke);
  try {
    return await fn(c, broke);
  } catch (e) {
    if (unavailable(e)) broke(e as Error);
    return fail(e);
  } finally {
    c.off("error", broke);
    c.release(broken);
  }
}

/**
 * The append's writes as one statement (data-modifying CTEs all run, in one round trip while the append lock is
 * held): the receipt, the new head, and the effects present. Named per combination of effects (prepared once per
 * connection).
 */
function writeStatement(
  r: Receipt,
  hash: string,
  effects: AppendEffects,
): { name: string; text: string; values: unknown[] } {
  const values: unknown[] = [
    r.seq,
    r.receipt_id,
    r.job,
    hash,
    r.phase,
    r.intent_receipt_id ?? null,
    r.policy_hash,
    JSON.stringify(r),
  ];
  const $ = (v: unknown) => `$${values.push(v)}`;
  const ctes = [
    `ins AS (INSERT INTO receipts (seq, receipt_id, job, hash, phase, intent_receipt_id, policy_hash, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8))`,
  ];
  let name = "gsmcp_write";
  if (effects.usage) {
    const u = effects.usage;
    const job = $(u.job);
    ctes.push(
      `usage AS (UPDATE jobs SET calls = calls + ${u.reserved ? 0 : 1}, rows = rows + ${$(u.rows)},
         redacted_predicate_queries = redacted_predicate_queries + ${$(u.redactedPredicates ? 1 : 0)},
         last_seen = ${$(u.at)} WHERE job = ${job})`,
    );
    name += "_u";
    // A reserved call took its slot (and its place in the window) with reserveCall.
    if (!u.reserved) {
      const at = $(Date.parse(u.at));
      ctes.push(
        `win AS (INSERT INTO job_calls (job, at_ms) VALUES (${job}, ${at}))`,
        `pruned AS (DELETE FROM job_calls WHERE job = ${job} AND at_ms < ${at}::bigint - 120000)`,
      );
      name += "c";
    }
  }
  if (effects.flags?.flags.length) {
    const f = effects.flags;
    ctes.push(
      `flagged AS (INSERT INTO job_flags (job, flag, time) SELECT ${$(f.job)}, f, ${$(f.at)} FROM unnest(${$(f.flags)}::text[]) AS f)`,
    );
    name += "_f";
  }
  if (effects.rollbackState) {
    const { args, prior } = effects.rollbackState;
    ctes.push(
      `rb AS (INSERT INTO rollback_state (receipt_id, args, prior_state) VALUES ($2, ${$(JSON.stringify(args))}, ${$(prior === undefined ? null : JSON.stringify(prior))})
         ON CONFLICT (receipt_id) DO UPDATE SET args = excluded.args, prior_state = excluded.prior_state)`,
    );
    name += "_r";
  }
  return { name, text: `WITH ${ctes.join(",\n")}\nUPDATE log_head SET seq = $1, hash = $4 WHERE id`, values };
}

export async function openPgStore(opts: PgStoreOptions): Promise<StateStore> {
  const { pool, t, fail } = connect(opts);

  const q = async <T extends Row>(name: string, text: string, values: unknown[] = []): Promise<T[]> => {
    try {
      return (await pool.query<T>({ name, text, values })).rows;
    } catch (e) {
      return fail(e);
    }
  };

  /** Runs fn in a transaction on one connection; a broken connection is destroyed, not returned to the pool. */
  const tx = <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> =>
    withClient(pool, fail, async (c, broke) => {
      await c.query("BEGIN");
      try {
        const r = await fn(c);
        await c.query("COMMIT");
        return r;
      } catch (e) {
        if (!unavailable(e)) await c.query("ROLLBACK").catch((r: unknown) => broke(r as Error));
        throw e;
      }
    });

  // Open: the schema must be the one this code knows (or be migrated now, when asked).
  try {
    let version = await schemaVersion();
    if (version > PG_SCHEMA_VERSION) throw newerSchema(version);
    if (version < PG_SCHEMA_VERSION) {
      if (!opts.migrate) throw olderSchema(version);
      version = await migrate();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }

  async function schemaVersion(): Promise<number> {
    try {
      return await pgSchemaVersion(pool);
    } catch (e) {
      return fail(e);
    }
  }

  async function migrate(): Promise<number> {
    return withClient(pool, fail, async (c) => (await migratePg(c)).to);
  }

  const parse = (rows: { body: string }[]) => rows.map((r) => JSON.parse(r.body) as Receipt);
  const num = (v: unknown) => Number(v);
  const jobOf = (r: Row): JobRecord => ({
    job: r.job as string,
    agent: r.agent as string,
    policy_hash: r.policy_hash as string,
    status: r.status as JobStatus,
    calls: num(r.calls),
    rows: num(r.rows),
    redacted_predicate_queries: num(r.redacted_predicate_queries),
    first_seen: r.first_seen as string,
    last_seen: r.last_seen as string,
    reason: (r.reason as string | null) ?? null,
  });
  const approvalOf = (r: Row): StoredApproval => ({
    ...(JSON.parse(r.body as string) as Approval),
    ...(r.consumed_at ? { consumed_at: r.consumed_at as string, consumed_by: (r.consumed_by as string) ?? "" } : {}),
  });

  async function append(
    draft: UnsealedReceipt,
    seal: SealReceipt,
    effects: AppendEffects = {},
  ): Promise<{ receipt: Receipt; hash: string }> {
    return tx(async (c) => {
      // The approval first: a racing loser waits on its row lock, then finds it consumed, without holding the log.
      if (effects.consumeApproval !== undefined) {
        const r = await c.query({
          name: "gsmcp_consume_in_append",
          text: "UPDATE approvals SET consumed_at = $1, consumed_by = $2 WHERE approval_id = $3 AND consumed_at IS NULL",
          values: [draft.time, draft.receipt_id, effects.consumeApproval],
        });
        if (r.rowCount !== 1) throw new ApprovalAlreadyUsed(effects.consumeApproval);
      }
      // The append lock: every process's appends queue on this row. The job's previous seq is read after it is
      // held (gsmcp_lock_head: a second statement, so it sees what the previous holder committed).
      const head = (
        await c.query<{ head_seq: string | null; head_hash: string | null; job_prev: string | null }>({
          name: "gsmcp_lock_head",
          text: "SELECT head_seq, head_hash, job_prev FROM gsmcp_lock_head($1)",
          values: [draft.job],
        })
      ).rows[0];
      if (head?.head_seq == null || head.head_hash == null)
        throw new Error("log_head is missing its row: the store's schema is damaged");
      const sealed = seal(
        draft,
        { seq: Number(head.head_seq), hash: head.head_hash },
        head.job_prev == null ? 0 : Number(head.job_prev),
      );
      // Everything else in one statement: the receipt, the new head and the effects.
      const { name, text, values } = writeStatement(sealed.receipt, sealed.hash, effects);
      await c.query({ name, text, values });
      return sealed;
    });
  }

  const BODY = "SELECT body FROM receipts";
  const APPROVAL = "SELECT body, consumed_at, consumed_by FROM approvals";

  return {
    kind: "postgres",
    where: t.where,
    receipts: {
      append,
      async head(): Promise<LogHead> {
        const [h] = await q<{ seq: string; hash: string }>("gsmcp_head", "SELECT seq, hash FROM log_head WHERE id");
        return { seq: Number(h!.seq), hash: h!.hash };
      },
      async get(id) {
        const [row] = await q<{ body: string }>("gsmcp_receipt", `${BODY} WHERE receipt_id = $1`, [id]);
        return row ? (JSON.parse(row.body) as Receipt) : undefined;
      },
      async range(afterSeq, limit) {
        const rows = await q<{ seq: string; receipt_id: string; hash: string; body: string }>(
          "gsmcp_range",
          "SELECT seq, receipt_id, hash, body FROM receipts WHERE seq > $1 ORDER BY seq LIMIT $2",
          [afterSeq, limit],
        );
        return rows.map((r) => ({ seq: Number(r.seq), receipt_id: r.receipt_id, hash: r.hash, body: r.body }));
      },
      async forJob(job) {
        return parse(await q("gsmcp_for_job", `${BODY} WHERE job = $1 ORDER BY seq`, [job]));
      },
      async jobRange(job, afterSeq, limit) {
        const rows = await q<{ seq: string; body: string }>(
          "gsmcp_job_range",
          "SELECT seq, body FROM receipts WHERE job = $1 AND seq > $2 ORDER BY seq LIMIT $3",
          [job, afterSeq, limit],
        );
        return rows.map((r) => ({ seq: Number(r.seq), body: r.body }));
      },
      async followUps(intent) {
        return parse(await q("gsmcp_follow_ups", `${BODY} WHERE intent_receipt_id = $1 ORDER BY seq`, [intent]));
      },
      async danglingIntents() {
        return parse(
          await q(
            "gsmcp_dangling",
            `SELECT i.body FROM receipts i WHERE i.phase = 'intent'
               AND NOT EXISTS (SELECT 1 FROM receipts o WHERE o.intent_receipt_id = i.receipt_id)
             ORDER BY i.seq`,
          ),
        );
      },
      async policyHashesOfJob(job) {
        const rows = await q<{ policy_hash: string }>(
          "gsmcp_policy_hashes",
          "SELECT DISTINCT policy_hash FROM receipts WHERE job = $1 AND policy_hash <> '-' ORDER BY policy_hash",
          [job],
        );
        return rows.map((r) => r.policy_hash);
      },
    },
    approvals: {
      async save(a: Approval) {
        await q(
          "gsmcp_approval_save",
          `INSERT INTO approvals (approval_id, job, op, args_hash, policy_hash, requested_at, expires_at, status, body)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (approval_id) DO UPDATE SET status = excluded.status, body = excluded.body`,
          [
            a.approval_id,
            a.job,
            a.op,
            a.args_hash,
            a.policy_hash,
            a.requested_at,
            a.expires_at,
            a.decision,
            JSON.stringify(a),
          ],
        );
      },
      async saveDecision(a: Approval) {
        try {
          const r = await pool.query({
            name: "gsmcp_approval_decide",
            text: "UPDATE approvals SET status = $2, body = $3 WHERE approval_id = $1 AND status = 'pending'",
            values: [a.approval_id, a.decision, JSON.stringify(a)],
          });
          return r.rowCount === 1;
        } catch (e) {
          return fail(e);
        }
      },
      async get(id) {
        const [row] = await q("gsmcp_approval_get", `${APPROVAL} WHERE approval_id = $1`, [id]);
        return row ? approvalOf(row) : undefined;
      },
      async list(filter = {}) {
        const rows = filter.job
          ? await q("gsmcp_approvals_job", `${APPROVAL} WHERE job = $1 ORDER BY requested_at DESC`, [filter.job])
          : await q("gsmcp_approvals", `${APPROVAL} ORDER BY requested_at DESC`);
        return rows.map(approvalOf);
      },
      async findForBinding(job, op, argsHash, policyHash) {
        const [row] = await q<{ body: string }>(
          "gsmcp_approval_binding",
          `SELECT body FROM approvals
           WHERE job = $1 AND op = $2 AND args_hash = $3 AND policy_hash = $4 AND consumed_at IS NULL
           ORDER BY requested_at DESC LIMIT 1`,
          [job, op, argsHash, policyHash],
        );
        return row ? (JSON.parse(row.body) as Approval) : undefined;
      },
      async consume(id, by, at) {
        try {
          const r = await pool.query({
            name: "gsmcp_approval_consume",
            text: "UPDATE approvals SET consumed_at = $3, consumed_by = $2 WHERE approval_id = $1 AND consumed_at IS NULL",
            values: [id, by, at],
          });
          return r.rowCount === 1;
        } catch (e) {
          return fail(e);
        }
      },
    },
    jobs: {
      async get(job) {
        const [row] = await q("gsmcp_job_get", "SELECT * FROM jobs WHERE job = $1", [job]);
        return row ? jobOf(row) : undefined;
      },
      async list() {
        return (await q("gsmcp_jobs", "SELECT * FROM jobs ORDER BY last_seen DESC, job")).map(jobOf);
      },
      async touch(job, agent, policyHash, at) {
        const [known] = await q("gsmcp_job_get", "SELECT * FROM jobs WHERE job = $1", [job]);
        if (known) return jobOf(known);
        await q(
          "gsmcp_job_touch",
          `INSERT INTO jobs (job, agent, policy_hash, status, calls, rows, first_seen, last_seen)
           VALUES ($1, $2, $3, 'active', 0, 0, $4, $4) ON CONFLICT (job) DO NOTHING`,
          [job, agent, policyHash, at],
        );
        const [row] = await q("gsmcp_job_get", "SELECT * FROM jobs WHERE job = $1", [job]);
        return jobOf(row!);
      },
      async callsLastMinute(job, atMs) {
        const [row] = await q<{ n: string }>(
          "gsmcp_calls_minute",
          "SELECT count(*) AS n FROM job_calls WHERE job = $1 AND at_ms > $2",
          [job, atMs - 60_000],
        );
        return Number(row?.n ?? 0);
      },
      async reserveCall(job, at, limits): Promise<CallReservation> {
        const [row] = await q<{
          out_ok: boolean;
          out_limit: string | null;
          out_calls: string;
          out_last_minute: string;
        }>(
          "gsmcp_reserve_call",
          "SELECT out_ok, out_limit, out_calls, out_last_minute FROM gsmcp_reserve_call($1, $2, $3, $4, $5)",
          [job, at, Date.parse(at), limits.maxCalls ?? null, limits.perMinute ?? null],
        );
        const calls = Number(row!.out_calls);
        const lastMinute = Number(row!.out_last_minute);
        return row!.out_ok
          ? { ok: true, calls, lastMinute }
          : { ok: false, limit: row!.out_limit as "max_calls" | "calls_per_minute", calls, lastMinute };
      },
      async setStatus(job, status, reason) {
        try {
          const r = await pool.query({
            name: "gsmcp_job_status",
            text: "UPDATE jobs SET status = $2, reason = $3 WHERE job = $1",
            values: [job, status, reason],
          });
          return (r.rowCount ?? 0) > 0;
        } catch (e) {
          return fail(e);
        }
      },
      async recordToken(tok) {
        await q(
          "gsmcp_token_put",
          `INSERT INTO tokens (jti, job, jws_sha256, header, claims, exp, first_seen)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (jti) DO NOTHING`,
          [tok.jti, tok.job, tok.jws_sha256, tok.header, tok.claims, tok.exp, tok.first_seen],
        );
      },
      async tokens(job): Promise<StoredToken[]> {
        const rows = await q<{
          jti: string;
          jws_sha256: string;
          header: string;
          claims: string;
          exp: string;
          first_seen: string;
        }>(
          "gsmcp_tokens",
          "SELECT jti, jws_sha256, header, claims, exp, first_seen FROM tokens WHERE job = $1 ORDER BY first_seen, jti",
          [job],
        );
        return rows.map((r) => ({
          jti: r.jti,
          jws_sha256: r.jws_sha256,
          header: JSON.parse(r.header) as Record<string, unknown>,
          claims: JSON.parse(r.claims) as Record<string, unknown>,
          exp: Number(r.exp),
          first_seen: r.first_seen,
        }));
      },
      async flag(job, flag, at) {
        await q("gsmcp_flag", "INSERT INTO job_flags (job, flag, time) VALUES ($1, $2, $3)", [job, flag, at]);
      },
      async flags(job) {
        const rows = await q<{ flag: string }>(
          "gsmcp_flags_get",
          "SELECT DISTINCT flag FROM job_flags WHERE job = $1 ORDER BY flag",
          [job],
        );
        return rows.map((r) => r.flag);
      },
    },
    rollbackState: {
      async get(receiptId) {
        const [row] = await q<{ args: string; prior_state: string | null }>(
          "gsmcp_rollback_get",
          "SELECT args, prior_state FROM rollback_state WHERE receipt_id = $1",
          [receiptId],
        );
        if (!row) return undefined;
        return {
          args: JSON.parse(row.args) as Record<string, unknown>,
          prior: row.prior_state === null ? undefined : JSON.parse(row.prior_state),
        };
      },
    },
    schemaVersion,
    async close() {
      await pool.end().catch(() => {});
    },
  };
}

/**
 * Applies the missing migrations of the store at `opts.url` (gsmcp store migrate): the versions before and after.
 * Refuses a schema newer than this code.
 */
export async function migratePgStore(opts: PgStoreOptions): Promise<{ from: number; to: number; where: string }> {
  const { pool, t, fail } = connect({ ...opts, max: 1 });
  try {
    return { ...(await withClient(pool, fail, (c) => migratePg(c))), where: t.where };
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * What `gsmcp store status` shows of a PostgreSQL store, without requiring its schema to be current: where it is, its
 * schema version and the one this code knows, and (once migrated) how many receipts and the head.
 */
export async function pgStoreStatus(opts: PgStoreOptions): Promise<{
  where: string;
  schemaVersion: number;
  knownVersion: number;
  receipts?: number;
  head?: LogHead;
}> {
  const { pool, t, fail } = connect({ ...opts, max: 1 });
  try {
    const version = await pgSchemaVersion(pool).catch(fail);
    const status = { where: t.where, schemaVersion: version, knownVersion: PG_SCHEMA_VERSION };
    if (version < 1) return status;
    const [row] = (
      await pool
        .query<{ n: string; seq: string; hash: string }>(
          "SELECT (SELECT count(*) FROM receipts) AS n, seq, hash FROM log_head WHERE id",
        )
        .catch(fail)
    ).rows;
    return { ...status, receipts: Number(row?.n ?? 0), head: { seq: Number(row?.seq ?? 0), hash: row?.hash ?? "" } };
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * The PostgreSQL store GSMCP_STORE names, or undefined when it names none (SQLite in GSMCP_HOME). GSMCP_STORE_CA: a
 * PEM file of the CA to verify the server against; GSMCP_STORE_AUTH=entra: log in with an Entra access token from
 * DefaultAzureCredential (@azure/identity, loaded only then) as the URL's user.
 */
export async function pgStoreOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  extra: Partial<PgStoreOptions> = {},
): Promise<PgStoreOptions | undefined> {
  const url = env.GSMCP_STORE;
  if (!url || !/^postgres(ql)?:\/\//i.test(url)) return undefined;
  const opts: PgStoreOptions = { url, ...extra };
  if (env.GSMCP_STORE_CA) {
    let ca: string;
    try {
      ca = readFileSync(env.GSMCP_STORE_CA, "utf8");
    } catch (e) {
      throw new StoreUnavailable(`GSMCP_STORE_CA: cannot read ${env.GSMCP_STORE_CA}: ${(e as Error).message}`);
    }
    opts.ssl = { ca, rejectUnauthorized: true };
  }
  const auth = (env.GSMCP_STORE_AUTH ?? "password").toLowerCase();
  if (auth === "entra") {
    if (!opts.credential) {
      const { DefaultAzureCredential } = await import("@azure/identity");
      opts.credential = new DefaultAzureCredential() as PgCredential;
    }
  } else if (auth !== "password") {
    throw new StoreUnavailable(`GSMCP_STORE_AUTH must be "password" or "entra", not "${env.GSMCP_STORE_AUTH}"`);
  }
  return opts;
}

/** Opens the PostgreSQL store GSMCP_STORE names (see pgStoreOptionsFromEnv); undefined when it names none. */
export async function pgStoreFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  extra: Partial<PgStoreOptions> = {},
): Promise<StateStore | undefined> {
  const opts = await pgStoreOptionsFromEnv(env, extra);
  return opts ? openPgStore(opts) : undefined;
}
