import type { CallLimits, CallReservation, JobRecord, JobRows, JobStatus, StoredToken } from "../state/contract.js";
import { tokenAtRest } from "../state/db.js";

export type { JobRecord, JobStatus, StoredToken };

/**
 * Per-job state over the state store: status (pause/resume), usage for budgets (counted by the store in each call's
 * receipt transaction, so every process sees the same numbers), tokens seen, and flags such as suspicious content.
 */
export class JobStore {
  constructor(readonly rows: JobRows) {}

  get(job: string): Promise<JobRecord | undefined> {
    return this.rows.get(job);
  }

  list(): Promise<JobRecord[]> {
    return this.rows.list();
  }

  /** Registers the job on first sight and returns its current record. */
  touch(job: string, agent: string, policyHash: string, now: Date): Promise<JobRecord> {
    return this.rows.touch(job, agent, policyHash, now.toISOString());
  }

  /** Calls of the job in the last 60 s, across every process on the store. */
  callsLastMinute(job: string, nowMs: number): Promise<number> {
    return this.rows.callsLastMinute(job, nowMs);
  }

  /** Takes one call slot against the job's call budgets, atomically across processes (see JobRows.reserveCall). */
  reserveCall(job: string, now: Date, limits: CallLimits): Promise<CallReservation> {
    return this.rows.reserveCall(job, now.toISOString(), limits);
  }

  setStatus(job: string, status: JobStatus, reason: string): Promise<boolean> {
    return this.rows.setStatus(job, status, reason);
  }

  /**
   * Keeps each authenticated token once, so a job's proof bundle can name the CST that authorized it: its claims,
   * header and sha256, never the JWS itself (a live token is a bearer credential; the store must not hold one).
   */
  recordToken(jti: string, job: string, jws: string, exp: number, now: Date): Promise<void> {
    return this.rows.recordToken({ jti, job, ...tokenAtRest(jws), exp, first_seen: now.toISOString() });
  }

  tokens(job: string): Promise<StoredToken[]> {
    return this.rows.tokens(job);
  }

  flag(job: string, flag: string, now: Date): Promise<void> {
    return this.rows.flag(job, flag, now.toISOString());
  }

  flags(job: string): Promise<string[]> {
    return this.rows.flags(job);
  }
}
