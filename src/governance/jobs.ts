import type { Statement } from "better-sqlite3";
import { type Db, tokenAtRest } from "../state/db.js";

export type JobStatus = "active" | "paused" | "completed";

export interface JobRecord {
  job: string;
  agent: string;
  policy_hash: string;
  status: JobStatus;
  calls: number;
  rows: number;
  /** Queries that ran with predicates on redacted columns (redaction.max_predicate_queries). */
  redacted_predicate_queries: number;
  first_seen: string;
  last_seen: string;
  reason: string | null;
}

/** A token as the store keeps it: no signature, so nothing in it can be presented as a credential. */
export interface StoredToken {
  jti: string;
  jws_sha256: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  exp: number;
  first_seen: string;
}

/** Per-job state: status (pause/resume), usage counters for budgets, and flags such as suspicious content. */
export class JobStore {
  private readonly recent = new Map<string, number[]>();
  // Statements are prepared once: this store sits on the hot path of every call.
  private readonly s: Record<
    "get" | "list" | "touch" | "usage" | "status" | "recordToken" | "tokens" | "flag" | "flags",
    Statement
  >;

  constructor(db: Db) {
    this.s = {
      get: db.prepare("SELECT * FROM jobs WHERE job = ?"),
      list: db.prepare("SELECT * FROM jobs ORDER BY last_seen DESC"),
      touch: db.prepare(
        `INSERT INTO jobs (job, agent, policy_hash, status, calls, rows, first_seen, last_seen)
         VALUES (?, ?, ?, 'active', 0, 0, ?, ?) ON CONFLICT(job) DO NOTHING`,
      ),
      usage: db.prepare(
        `UPDATE jobs SET calls = calls + 1, rows = rows + ?, redacted_predicate_queries = redacted_predicate_queries + ?,
         last_seen = ? WHERE job = ?`,
      ),
      status: db.prepare("UPDATE jobs SET status = ?, reason = ? WHERE job = ?"),
      recordToken: db.prepare(
        `INSERT OR IGNORE INTO tokens (jti, job, jws_sha256, header, claims, exp, first_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      tokens: db.prepare(
        "SELECT jti, jws_sha256, header, claims, exp, first_seen FROM tokens WHERE job = ? ORDER BY first_seen",
      ),
      flag: db.prepare("INSERT INTO job_flags (job, flag, time) VALUES (?, ?, ?)"),
      flags: db.prepare("SELECT DISTINCT flag FROM job_flags WHERE job = ? ORDER BY flag"),
    };
  }

  get(job: string): JobRecord | undefined {
    return this.s.get.get(job) as JobRecord | undefined;
  }

  list(): JobRecord[] {
    return this.s.list.all() as JobRecord[];
  }

  /**
   * Registers the job on first sight and returns its current record. A read for a known job (the hot path): its
   * last_seen moves with the usage update, in the same transaction as the call's receipt.
   */
  touch(job: string, agent: string, policyHash: string, now: Date): JobRecord {
    const known = this.get(job);
    if (known) return known;
    const t = now.toISOString();
    this.s.touch.run(job, agent, policyHash, t, t);
    return this.get(job)!;
  }

  /** Counts a call (rows read, and whether it ran predicates on redacted columns) against the job's budgets. */
  recordUsage(job: string, rows: number, nowMs: number, redactedPredicates = false): void {
    this.s.usage.run(rows, redactedPredicates ? 1 : 0, new Date(nowMs).toISOString(), job);
    const list = this.recent.get(job) ?? [];
    list.push(nowMs);
    this.recent.set(job, list);
  }

  callsLastMinute(job: string, nowMs: number): number {
    const list = (this.recent.get(job) ?? []).filter((t) => t > nowMs - 60_000);
    this.recent.set(job, list);
    return list.length;
  }

  setStatus(job: string, status: JobStatus, reason: string): boolean {
    return this.s.status.run(status, reason, job).changes > 0;
  }

  /**
   * Keeps each authenticated token once, so a job's proof bundle can name the CST that authorized it: its claims,
   * header and sha256, never the JWS itself (a live token is a bearer credential; the store must not hold one).
   */
  recordToken(jti: string, job: string, jws: string, exp: number, now: Date): void {
    const t = tokenAtRest(jws);
    this.s.recordToken.run(jti, job, t.jws_sha256, t.header, t.claims, exp, now.toISOString());
  }

  tokens(job: string): StoredToken[] {
    return (
      this.s.tokens.all(job) as (Omit<StoredToken, "header" | "claims"> & { header: string; claims: string })[]
    ).map((t) => ({ ...t, header: JSON.parse(t.header), claims: JSON.parse(t.claims) }));
  }

  flag(job: string, flag: string, now: Date): void {
    this.s.flag.run(job, flag, now.toISOString());
  }

  flags(job: string): string[] {
    return (this.s.flags.all(job) as { flag: string }[]).map((r) => r.flag);
  }
}
