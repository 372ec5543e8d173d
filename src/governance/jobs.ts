import type { Db } from "../state/db.js";

export type JobStatus = "active" | "paused" | "completed";

export interface JobRecord {
  job: string;
  agent: string;
  policy_hash: string;
  status: JobStatus;
  calls: number;
  rows: number;
  first_seen: string;
  last_seen: string;
  reason: string | null;
}

/** Per-job state: status (pause/resume), usage counters for budgets, and flags such as suspicious content. */
export class JobStore {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly db: Db) {}

  get(job: string): JobRecord | undefined {
    return this.db.prepare<[string], JobRecord>("SELECT * FROM jobs WHERE job = ?").get(job);
  }

  list(): JobRecord[] {
    return this.db.prepare<[], JobRecord>("SELECT * FROM jobs ORDER BY last_seen DESC").all();
  }

  /** Registers the job on first sight; returns its record. */
  touch(job: string, agent: string, policyHash: string, now: Date): JobRecord {
    const t = now.toISOString();
    this.db
      .prepare(
        `INSERT INTO jobs (job, agent, policy_hash, status, calls, rows, first_seen, last_seen)
         VALUES (?, ?, ?, 'active', 0, 0, ?, ?) ON CONFLICT(job) DO UPDATE SET last_seen = excluded.last_seen`,
      )
      .run(job, agent, policyHash, t, t);
    return this.get(job)!;
  }

  /** Counts a call (and rows read) against the job's budgets. */
  recordUsage(job: string, rows: number, nowMs: number): void {
    this.db.prepare("UPDATE jobs SET calls = calls + 1, rows = rows + ? WHERE job = ?").run(rows, job);
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
    return this.db.prepare("UPDATE jobs SET status = ?, reason = ? WHERE job = ?").run(status, reason, job).changes > 0;
  }

  /** Keeps each authenticated token once, so a job's proof bundle can carry the CST that authorized it. */
  recordToken(jti: string, job: string, jws: string, exp: number, now: Date): void {
    this.db
      .prepare("INSERT OR IGNORE INTO tokens (jti, job, jws, exp, first_seen) VALUES (?, ?, ?, ?, ?)")
      .run(jti, job, jws, exp, now.toISOString());
  }

  tokens(job: string): { jti: string; jws: string; exp: number; first_seen: string }[] {
    return this.db
      .prepare<[string], { jti: string; jws: string; exp: number; first_seen: string }>(
        "SELECT jti, jws, exp, first_seen FROM tokens WHERE job = ? ORDER BY first_seen",
      )
      .all(job);
  }

  flag(job: string, flag: string, now: Date): void {
    this.db.prepare("INSERT INTO job_flags (job, flag, time) VALUES (?, ?, ?)").run(job, flag, now.toISOString());
  }

  flags(job: string): string[] {
    return this.db
      .prepare<[string], { flag: string }>("SELECT DISTINCT flag FROM job_flags WHERE job = ? ORDER BY flag")
      .all(job)
      .map((r) => r.flag);
  }
}
