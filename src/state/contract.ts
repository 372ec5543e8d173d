// The state contract: everything the governed pipeline and the CLI keep between calls — the receipt log, approvals,
// jobs and their budgets, tokens seen, rollback state — behind one async interface with two implementations:
// SQLite in GSMCP_HOME (the embedded default, src/state/sqlite-store.ts) and PostgreSQL for many processes on many
// hosts (src/state/pg-store.ts), selected by GSMCP_STORE. One conformance suite (test/state/conformance.test.ts) runs
// against both. Every guarantee below holds across processes, not only within one.

import type { Approval } from "../types/approval.js";
import type { Receipt } from "../types/receipt.js";

/** A receipt before the log chains and signs it (seq, prev_hash, job_prev_seq and the signature are the log's). */
export type UnsealedReceipt = Omit<Receipt, "seq" | "prev_hash" | "job_prev_seq" | "signature">;

/** The log's position: the last receipt's seq and chain hash (seq 0 and the genesis hash when empty). */
export interface LogHead {
  seq: number;
  hash: string;
}

/**
 * Chains and signs a receipt at the head the store read under its append lock. Pure and synchronous: the store calls
 * it inside its transaction and persists exactly what it returns.
 */
export type SealReceipt = (
  draft: UnsealedReceipt,
  head: LogHead,
  jobPrevSeq: number,
) => { receipt: Receipt; hash: string };

/** Work committed in the same transaction as a receipt: all of it or none of it. */
export interface AppendEffects {
  /**
   * Consumes this approval, recording the receipt as its user. If it is already consumed (by any process) nothing is
   * committed and append throws ApprovalAlreadyUsed.
   */
  consumeApproval?: string;
  /**
   * Counts the call against its job's budgets: rows and predicate probes always; calls + 1 and the calls-per-minute
   * window unless `reserved` (the call already took its slot with reserveCall).
   */
  usage?: { job: string; rows: number; redactedPredicates: boolean; at: string; reserved?: boolean };
  /** Flags set on the job (e.g. suspicious_content) at the receipt's time. */
  flags?: { job: string; flags: string[]; at: string };
  /** The write's real arguments and prior state, kept for rollback under the receipt's id (never in the receipt). */
  rollbackState?: { args: unknown; prior: unknown };
}

/** Thrown by append when effects.consumeApproval names an approval that is already consumed: nothing was committed. */
export class ApprovalAlreadyUsed extends Error {
  constructor(readonly approvalId: string) {
    super(`approval ${approvalId} is already used`);
  }
}

/** Thrown when the store cannot be reached or refuses (pool exhausted, server down): the caller fails closed. */
export class StoreUnavailable extends Error {}

/** A receipt as the log stores it: its index columns and the body exactly as signed and hashed. */
export interface LogRow {
  seq: number;
  receipt_id: string;
  hash: string;
  body: string;
}

/** The append-only, hash-chained receipt log: one chain for every process on the store. */
export interface ReceiptRows {
  /**
   * Appends under the log's append lock: reads the head and the job's previous seq, calls `seal`, inserts, applies
   * `effects`, commits. Serialised across processes, so the log stays one chain.
   */
  append(
    draft: UnsealedReceipt,
    seal: SealReceipt,
    effects?: AppendEffects,
  ): Promise<{ receipt: Receipt; hash: string }>;
  head(): Promise<LogHead>;
  get(receiptId: string): Promise<Receipt | undefined>;
  /** Stored rows in seq order from `afterSeq` (exclusive), at most `limit`: raw bodies (a corrupt row is the verifier's to report). */
  range(afterSeq: number, limit: number): Promise<LogRow[]>;
  forJob(job: string): Promise<Receipt[]>;
  /** The job's stored rows in seq order after `afterSeq` (exclusive), at most `limit` (streaming a large job's export). */
  jobRange(job: string, afterSeq: number, limit: number): Promise<{ seq: number; body: string }[]>;
  /** Receipts whose intent_receipt_id is this intent (outcomes, rollbacks), in seq order. */
  followUps(intentReceiptId: string): Promise<Receipt[]>;
  /** Intent receipts with no receipt naming them as intent: the process stopped between the two phases. */
  danglingIntents(): Promise<Receipt[]>;
  /** Distinct policy hashes the job's receipts name, without "-" (no policy); order unspecified. */
  policyHashesOfJob(job: string): Promise<string[]>;
}

export type StoredApproval = Approval & { consumed_at?: string; consumed_by?: string };

export interface ApprovalRows {
  /** Inserts, or updates status and body of an existing approval (a decision). */
  save(a: Approval): Promise<void>;
  /**
   * Stores a decision only if the approval is still pending (compare-and-set across processes): false when another
   * process decided it first.
   */
  saveDecision(a: Approval): Promise<boolean>;
  get(id: string): Promise<StoredApproval | undefined>;
  /** Newest first. */
  list(filter?: { job?: string }): Promise<StoredApproval[]>;
  /** The newest unconsumed approval with exactly this binding. */
  findForBinding(job: string, op: string, argsHash: string, policyHash: string): Promise<Approval | undefined>;
  /** Marks it used by `by` (a receipt id, or "denied"); false if it was already consumed (single use, across processes). */
  consume(id: string, by: string, at: string): Promise<boolean>;
}

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

export interface JobRows {
  get(job: string): Promise<JobRecord | undefined>;
  list(): Promise<JobRecord[]>;
  /** Registers the job on first sight (no-op when known) and returns its record. */
  touch(job: string, agent: string, policyHash: string, at: string): Promise<JobRecord>;
  /** Calls counted for the job in the 60 s before `atMs` (every process's calls). */
  callsLastMinute(job: string, atMs: number): Promise<number>;
  /**
   * Takes one call slot atomically against the job's limits (across processes): counts the call (calls + 1, the
   * calls-per-minute window) only when calls < maxCalls and the last minute's calls < perMinute. Otherwise nothing is
   * counted and the numbers that refused it are returned. The job must exist (touch): an unknown job has no row to
   * count on, and PostgreSQL has none to lock.
   */
  reserveCall(job: string, at: string, limits: CallLimits): Promise<CallReservation>;
  setStatus(job: string, status: JobStatus, reason: string): Promise<boolean>;
  /** Keeps a token's hash, header and claims once (never the JWS). */
  recordToken(
    t: Omit<StoredToken, "header" | "claims"> & { job: string; header: string; claims: string },
  ): Promise<void>;
  tokens(job: string): Promise<StoredToken[]>;
  flag(job: string, flag: string, at: string): Promise<void>;
  flags(job: string): Promise<string[]>;
}

export interface CallLimits {
  maxCalls?: number;
  perMinute?: number;
}

export type CallReservation =
  | { ok: true; calls: number; lastMinute: number }
  | { ok: false; limit: "max_calls" | "calls_per_minute"; calls: number; lastMinute: number };

export interface RollbackStateRows {
  get(receiptId: string): Promise<{ args: Record<string, unknown>; prior: unknown } | undefined>;
}

export interface StateStore {
  readonly kind: "sqlite" | "postgres";
  /** Where it is, for messages: a path, or host/database — never a password or a full connection string. */
  readonly where: string;
  readonly receipts: ReceiptRows;
  readonly approvals: ApprovalRows;
  readonly jobs: JobRows;
  readonly rollbackState: RollbackStateRows;
  /** The schema version the store is at. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
