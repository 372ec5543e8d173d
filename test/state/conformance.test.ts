// The state contract (src/state/contract.ts), one suite for both stores: SQLite (embedded) and PostgreSQL (shared).
// Properties, not lists: several store instances (separate connections, as separate processes would have) append,
// race approvals and count usage at once, and the log stays one chain, each approval is used once, budgets are exact.
// Last, the same random sequence of operations on both stores gives the same observable results.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { generateSigningKey } from "../../src/crypto/keys.js";
import { receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import { verifyChain } from "../../src/receipts/verify-chain.js";
import {
  type AppendEffects,
  ApprovalAlreadyUsed,
  type SealReceipt,
  type StateStore,
  type UnsealedReceipt,
} from "../../src/state/contract.js";
import { STATE_SCHEMA_VERSION, tokenAtRest } from "../../src/state/db.js";
import { PG_SCHEMA_VERSION } from "../../src/state/pg-migrations.js";
import { openPgStore } from "../../src/state/pg-store.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import type { Approval } from "../../src/types/approval.js";
import type { Receipt } from "../../src/types/receipt.js";
import { dropFreshPgDatabases, freshPgDatabase } from "../helpers/pg-fresh.js";
import { describePg, type PgAvailable, withPgDatabase } from "../helpers/postgres.js";

const pgdb = await withPgDatabase();
afterAll(dropFreshPgDatabases);

const key = generateSigningKey();
const keys = new Map([[key.keyid, key.publicKey]]);

/** The server's sealing: the next seq at the head, linked to it, and the job's previous seq; signed. */
const seal: SealReceipt = (draft, head, jobPrevSeq) => {
  const receipt = signReceipt({ ...draft, seq: head.seq + 1, prev_hash: head.hash, job_prev_seq: jobPrevSeq }, key);
  return { receipt, hash: receiptHash(receipt) };
};

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const rid = () => `rcpt_${randomBytes(8).toString("hex")}`;

function draft(job: string, over: Partial<UnsealedReceipt> = {}): UnsealedReceipt {
  return {
    receipt_id: rid(),
    time: iso(T0),
    server_id: "srv-test",
    job,
    agent: "agent-1",
    cst_jti: "jti-1",
    policy_hash: "sha256:policy-a",
    op: "kql.query",
    tool: "sentinel_query",
    args_hash: "sha256:args",
    args_redacted: { query: "SecurityEvent | take 1" },
    decision: { effect: "ALLOW", reasons: [] },
    constraints_applied: [],
    phase: "single",
    outcome: { status: "ok", rows: 1 },
    event_id: `evt_${randomBytes(4).toString("hex")}`,
    ...over,
  };
}

function approval(job: string, over: Partial<Approval> = {}): Approval {
  return {
    approval_id: `apr_${randomBytes(8).toString("hex")}`,
    job,
    op: "incident.update",
    args_hash: "sha256:write-args",
    policy_hash: "sha256:policy-a",
    rule: "writes",
    requested_at: iso(T0),
    expires_at: iso(T0 + 3_600_000),
    decision: "pending",
    ...over,
  };
}

interface Kind {
  name: string;
  schemaVersion: number;
  /** A new, empty store: `open` gives another instance (its own connection or pool) onto the same state. */
  fresh(): Promise<{ open(): Promise<StateStore> }>;
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const sqliteKind: Kind = {
  name: "sqlite",
  schemaVersion: STATE_SCHEMA_VERSION,
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-conformance-"));
    tmpDirs.push(dir);
    const path = join(dir, "state.db");
    return { open: async () => openSqliteStore(path) };
  },
};

const pgKind = (db: PgAvailable): Kind => ({
  name: "postgres",
  schemaVersion: PG_SCHEMA_VERSION,
  async fresh() {
    const url = await freshPgDatabase(db);
    return { open: () => openPgStore({ url, migrate: true }) };
  },
});

/** Every row of the log through range(), `page` at a time. */
async function allRows(s: StateStore, page = 17) {
  const rows: { seq: number; receipt_id: string; hash: string; body: string }[] = [];
  for (;;) {
    const next = await s.receipts.range(rows.at(-1)?.seq ?? 0, page);
    if (!next.length) return rows;
    expect(next.length).toBeLessThanOrEqual(page);
    rows.push(...next);
  }
}

/** The log is one chain: seq 1..n, signatures and links verify, stored hashes are the receipts', job links exact. */
async function expectOneChain(s: StateStore, n: number): Promise<Receipt[]> {
  const rows = await allRows(s);
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  const receipts = rows.map((r) => JSON.parse(r.body) as Receipt);
  expect(verifyChain(receipts, keys)).toEqual([]);
  rows.forEach((r, i) => {
    expect(r.hash).toBe(receiptHash(receipts[i]!));
    expect(r.receipt_id).toBe(receipts[i]!.receipt_id);
  });
  const lastOfJob = new Map<string, number>();
  for (const r of receipts) {
    expect(r.job_prev_seq, `job_prev_seq of seq ${r.seq}`).toBe(lastOfJob.get(r.job) ?? 0);
    lastOfJob.set(r.job, r.seq);
  }
  expect(await s.receipts.head()).toEqual({ seq: n, hash: rows.at(-1)?.hash ?? `sha256:${"0".repeat(64)}` });
  return receipts;
}

function conformance(kind: Kind): void {
  const open: StateStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  async function instances(n: number) {
    const f = await kind.fresh();
    const stores = await Promise.all(Array.from({ length: n }, () => f.open()));
    open.push(...stores);
    return stores;
  }

  it("is at the schema version this code knows, and an empty log is at the genesis head", async () => {
    const [s] = await instances(1);
    expect(await s!.schemaVersion()).toBe(kind.schemaVersion);
    expect(await s!.receipts.head()).toEqual({ seq: 0, hash: `sha256:${"0".repeat(64)}` });
    expect(s!.kind).toBe(kind.name);
    expect(s!.where).not.toMatch(/:[^/@:]*@/);
  });

  it("keeps one chain when 4 instances append 50 receipts each at once", async () => {
    const stores = await instances(4);
    const per = 50;
    const t = performance.now();
    await Promise.all(
      stores.map(async (s, i) => {
        for (let k = 0; k < per; k++) await s.receipts.append(draft(`job-${(i * 7 + k) % 5}`), seal);
      }),
    );
    const ms = performance.now() - t;
    console.info(
      `${kind.name}: ${stores.length * per} appends from ${stores.length} instances in ${ms.toFixed(0)} ms (${((stores.length * per * 1000) / ms).toFixed(0)}/s)`,
    );
    const receipts = await expectOneChain(stores[3]!, stores.length * per);
    // Every instance sees the same log, and forJob is the job's own chain.
    for (const s of stores) expect(await s.receipts.head()).toEqual(await stores[0]!.receipts.head());
    const job2 = await stores[1]!.receipts.forJob("job-2");
    expect(job2).toEqual(receipts.filter((r) => r.job === "job-2"));
    expect(await stores[2]!.receipts.get(job2[3]!.receipt_id)).toEqual(job2[3]);
  });

  it("consumes an approval raced by 8 appends from 4 instances exactly once; the losers commit nothing", async () => {
    const stores = await instances(4);
    for (let round = 0; round < 4; round++) {
      const job = `job-race-${round}`;
      await stores[0]!.jobs.touch(job, "agent-1", "sha256:policy-a", iso(T0));
      const a = approval(job, { decision: "approved", approver: "ed25519:approver" });
      await stores[round % 4]!.approvals.save(a);
      const before = await stores[0]!.receipts.head();
      const settled = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          stores[i % 4]!.receipts.append(draft(job, { approval_id: a.approval_id, op: "incident.update" }), seal, {
            consumeApproval: a.approval_id,
            usage: { job, rows: 1, redactedPredicates: false, at: iso(T0) },
            flags: { job, flags: [`loser-${i}`], at: iso(T0) },
            rollbackState: { args: { i }, prior: { i } },
          }),
        ),
      );
      const won = settled.filter((r) => r.status === "fulfilled");
      const lost = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      for (const l of lost) expect(l.reason).toBeInstanceOf(ApprovalAlreadyUsed);
      const winner = (won[0] as PromiseFulfilledResult<{ receipt: Receipt; hash: string }>).value.receipt;
      expect(await stores[1]!.receipts.head()).toEqual({ seq: before.seq + 1, hash: receiptHash(winner) });
      expect((await stores[2]!.receipts.forJob(job)).map((r) => r.receipt_id)).toEqual([winner.receipt_id]);
      const rec = await stores[3]!.jobs.get(job);
      expect({ calls: rec!.calls, rows: rec!.rows }).toEqual({ calls: 1, rows: 1 });
      expect(await stores[0]!.jobs.callsLastMinute(job, T0 + 1000)).toBe(1);
      // Only the winner's flags and rollback state.
      const winnerIndex = settled.findIndex((r) => r.status === "fulfilled");
      expect(await stores[0]!.jobs.flags(job)).toEqual([`loser-${winnerIndex}`]);
      expect(await stores[1]!.rollbackState.get(winner.receipt_id)).toEqual({
        args: { i: winnerIndex },
        prior: { i: winnerIndex },
      });
      const stored = await stores[2]!.approvals.get(a.approval_id);
      expect(stored).toMatchObject({ consumed_by: winner.receipt_id, consumed_at: winner.time });
      expect(await stores[3]!.approvals.findForBinding(job, a.op, a.args_hash, a.policy_hash)).toBeUndefined();
      expect(await stores[0]!.approvals.consume(a.approval_id, "denied", iso(T0))).toBe(false);
    }
    await expectOneChain(stores[0]!, 4);
  });

  it("counts usage exactly under concurrency, and the calls-per-minute window is the same from every instance", async () => {
    const stores = await instances(4);
    const job = "job-usage";
    await Promise.all(stores.map((s) => s.jobs.touch(job, "agent-1", "sha256:policy-a", iso(T0))));
    const per = 25;
    await Promise.all(
      stores.map(async (s, i) => {
        for (let k = 0; k < per; k++) {
          await s.receipts.append(draft(job), seal, {
            usage: { job, rows: k, redactedPredicates: k % 3 === 0, at: iso(T0 + i * 1000 + k * 100) },
          });
          // Receipts without usage (a refusal) do not count.
          if (k % 10 === 0) await s.receipts.append(draft(job, { outcome: { status: "refused" } }), seal);
        }
      }),
    );
    const rec = await stores[0]!.jobs.get(job);
    expect({ calls: rec!.calls, rows: rec!.rows, redacted: rec!.redacted_predicate_queries }).toEqual({
      calls: 4 * per,
      rows: 4 * ((per * (per - 1)) / 2),
      redacted: 4 * Math.ceil(per / 3),
    });
    expect(rec!.status).toBe("active");
    for (const s of stores) expect(await s.jobs.callsLastMinute(job, T0 + 30_000)).toBe(4 * per);
    // The window moves: calls at T0 + 0..5.4 s; at T0 + 63 s only those after T0 + 3 s are in the last minute.
    const after3s = stores.reduce(
      (n, _s, i) => n + Array.from({ length: per }, (_, k) => i * 1000 + k * 100).filter((t) => t > 3000).length,
      0,
    );
    expect(await stores[1]!.jobs.callsLastMinute(job, T0 + 63_000)).toBe(after3s);
    expect(await stores[2]!.jobs.callsLastMinute(job, T0 + 200_000)).toBe(0);
    expect(await stores[3]!.jobs.callsLastMinute("job-none", T0)).toBe(0);
    await expectOneChain(stores[0]!, 4 * per + 4 * Math.ceil(per / 10));
  });

  it("reserves call slots atomically across instances: exactly the limit, then refusals with the numbers", async () => {
    const stores = await instances(4);
    for (const [job, limits, granted, limit] of [
      ["job-max", { maxCalls: 10, perMinute: 1000 }, 10, "max_calls"],
      ["job-rate", { maxCalls: 1000, perMinute: 7 }, 7, "calls_per_minute"],
    ] as const) {
      await stores[0]!.jobs.touch(job, "agent-1", "sha256:policy-a", iso(T0));
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => stores[i % 4]!.jobs.reserveCall(job, iso(T0 + i), limits)),
      );
      const ok = results.filter((r) => r.ok);
      expect(ok).toHaveLength(granted);
      expect(ok.map((r) => (job === "job-max" ? r.calls : r.lastMinute)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: granted }, (_, i) => i + 1),
      );
      for (const r of results.filter((x) => !x.ok)) expect(r).toMatchObject({ ok: false, limit });
      expect((await stores[1]!.jobs.get(job))!.calls).toBe(granted);
      expect(await stores[2]!.jobs.callsLastMinute(job, T0 + 100)).toBe(granted);
      // A reserved call's receipt counts its rows, not a second call.
      await stores[3]!.receipts.append(draft(job), seal, {
        usage: { job, rows: 5, redactedPredicates: false, at: iso(T0 + 50), reserved: true },
      });
      expect(await stores[0]!.jobs.get(job)).toMatchObject({ calls: granted, rows: 5 });
      expect(await stores[2]!.jobs.callsLastMinute(job, T0 + 100)).toBe(granted);
    }
    // The window moves on: a minute later the rate limit has room again.
    expect(await stores[0]!.jobs.reserveCall("job-rate", iso(T0 + 61_000), { perMinute: 7 })).toEqual({
      ok: true,
      calls: 8,
      lastMinute: 1,
    });
  });

  it("stores a decision only while the approval is pending: of two deciders one wins", async () => {
    const stores = await instances(2);
    for (let round = 0; round < 5; round++) {
      const a = approval(`job-decide-${round}`);
      await stores[0]!.approvals.save(a);
      const approved: Approval = { ...a, decision: "approved", approver: "ed25519:alice", decided_at: iso(T0 + 1) };
      const denied: Approval = { ...a, decision: "denied", approver: "ed25519:bob", decided_at: iso(T0 + 2) };
      const [x, y] = await Promise.all([
        stores[0]!.approvals.saveDecision(approved),
        stores[1]!.approvals.saveDecision(denied),
      ]);
      expect([x, y].filter(Boolean)).toHaveLength(1);
      const stored = await stores[1]!.approvals.get(a.approval_id);
      expect(stored).toEqual(x ? approved : denied);
      expect(await stores[0]!.approvals.saveDecision({ ...a, decision: "approved" })).toBe(false);
    }
    expect(await stores[0]!.approvals.saveDecision(approval("job-x", { decision: "approved" }))).toBe(false);
  });

  it("finds the newest unconsumed approval for a binding, consumes once, lists newest first", async () => {
    const [s, s2] = await instances(2);
    const job = "job-approvals";
    const older = approval(job, { requested_at: iso(T0), decision: "approved" });
    const newer = approval(job, { requested_at: iso(T0 + 5000), decision: "approved" });
    const other = approval("job-other", { requested_at: iso(T0 + 2000) });
    for (const a of [older, newer, other]) await s!.approvals.save(a);
    expect(await s2!.approvals.findForBinding(job, older.op, older.args_hash, older.policy_hash)).toEqual(newer);
    expect(await s2!.approvals.findForBinding(job, older.op, "sha256:other", older.policy_hash)).toBeUndefined();
    expect(await s!.approvals.consume(newer.approval_id, "rcpt_x", iso(T0 + 6000))).toBe(true);
    expect(await s2!.approvals.consume(newer.approval_id, "rcpt_y", iso(T0 + 7000))).toBe(false);
    expect(await s2!.approvals.findForBinding(job, older.op, older.args_hash, older.policy_hash)).toEqual(older);
    expect(await s2!.approvals.get(newer.approval_id)).toEqual({
      ...newer,
      consumed_at: iso(T0 + 6000),
      consumed_by: "rcpt_x",
    });
    expect(await s2!.approvals.get(older.approval_id)).toEqual(older);
    expect(await s2!.approvals.get("apr_missing")).toBeUndefined();
    expect((await s2!.approvals.list()).map((a) => a.approval_id)).toEqual([
      newer.approval_id,
      other.approval_id,
      older.approval_id,
    ]);
    expect((await s2!.approvals.list({ job })).map((a) => a.approval_id)).toEqual([
      newer.approval_id,
      older.approval_id,
    ]);
    // save() of an existing approval updates its decision and body.
    const decided = { ...older, decision: "denied" as const, reason: "no" };
    await s!.approvals.save(decided);
    expect(await s2!.approvals.get(older.approval_id)).toEqual(decided);
  });

  it("reports dangling intents and the follow-ups of an intent", async () => {
    const [s, s2] = await instances(2);
    const a = await s!.receipts.append(draft("job-w", { phase: "intent", op: "incident.update" }), seal);
    const b = await s2!.receipts.append(draft("job-w", { phase: "intent", op: "incident.update" }), seal);
    await s!.receipts.append(draft("job-r"), seal);
    const outcome = await s2!.receipts.append(
      draft("job-w", { phase: "outcome", intent_receipt_id: a.receipt.receipt_id }),
      seal,
    );
    const rollback = await s!.receipts.append(
      draft("job-w", { phase: "single", op: "rollback", intent_receipt_id: a.receipt.receipt_id }),
      seal,
    );
    expect((await s!.receipts.danglingIntents()).map((r) => r.receipt_id)).toEqual([b.receipt.receipt_id]);
    expect(await s2!.receipts.followUps(a.receipt.receipt_id)).toEqual([outcome.receipt, rollback.receipt]);
    expect(await s2!.receipts.followUps(b.receipt.receipt_id)).toEqual([]);
    await s!.receipts.append(draft("job-w", { phase: "outcome", intent_receipt_id: b.receipt.receipt_id }), seal);
    expect(await s2!.receipts.danglingIntents()).toEqual([]);
  });

  it("names the distinct policy hashes of a job's receipts (not the '-' of an unverified policy)", async () => {
    const [s] = await instances(1);
    for (const p of ["sha256:p2", "sha256:p1", "sha256:p2", "-"])
      await s!.receipts.append(draft("job-p", { policy_hash: p }), seal);
    await s!.receipts.append(draft("job-q", { policy_hash: "sha256:p3" }), seal);
    expect((await s!.receipts.policyHashesOfJob("job-p")).sort()).toEqual(["sha256:p1", "sha256:p2"]);
    expect(await s!.receipts.policyHashesOfJob("job-none")).toEqual([]);
  });

  it("keeps tokens as hash, header and claims once, never the JWS", async () => {
    const [s, s2] = await instances(2);
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const sig = randomBytes(64).toString("base64url");
    const jws = `${part({ alg: "EdDSA", kid: "k1" })}.${part({ jti: "tok-1", job: "job-t", exp: 2000000000 })}.${sig}`;
    const at = tokenAtRest(jws);
    await s!.jobs.recordToken({ jti: "tok-1", job: "job-t", exp: 2000000000, first_seen: iso(T0), ...at });
    await s2!.jobs.recordToken({ jti: "tok-1", job: "job-t", exp: 2000000000, first_seen: iso(T0 + 5), ...at });
    const tokens = await s2!.jobs.tokens("job-t");
    expect(tokens).toEqual([
      {
        jti: "tok-1",
        jws_sha256: at.jws_sha256,
        header: { alg: "EdDSA", kid: "k1" },
        claims: { jti: "tok-1", job: "job-t", exp: 2000000000 },
        exp: 2000000000,
        first_seen: iso(T0),
      },
    ]);
    expect(JSON.stringify(tokens)).not.toContain(sig);
    expect(await s!.jobs.tokens("job-none")).toEqual([]);
  });

  it("pages the log with range() and stores each body exactly as sealed", async () => {
    const [s] = await instances(1);
    const sealed: { receipt: Receipt; hash: string }[] = [];
    for (let i = 0; i < 23; i++) sealed.push(await s!.receipts.append(draft(`job-${i % 3}`), seal));
    for (const page of [1, 5, 23, 100]) {
      const rows = await allRows(s!, page);
      expect(rows.map((r) => r.body)).toEqual(sealed.map((x) => JSON.stringify(x.receipt)));
      expect(rows.map((r) => r.hash)).toEqual(sealed.map((x) => x.hash));
    }
    // A job's rows, paged the same way.
    const job1 = sealed.filter((x) => x.receipt.job === "job-1");
    const paged: { seq: number; body: string }[] = [];
    for (;;) {
      const next = await s!.receipts.jobRange("job-1", paged.at(-1)?.seq ?? 0, 3);
      if (!next.length) break;
      paged.push(...next);
    }
    expect(paged).toEqual(job1.map((x) => ({ seq: x.receipt.seq, body: JSON.stringify(x.receipt) })));
    expect(await s!.receipts.jobRange("job-none", 0, 10)).toEqual([]);
    expect(await s!.receipts.range(23, 10)).toEqual([]);
    expect((await s!.receipts.range(20, 10)).map((r) => r.seq)).toEqual([21, 22, 23]);
    expect(await s!.receipts.get("rcpt_missing")).toBeUndefined();
  });

  it("commits nothing of an append whose sealing or approval fails", async () => {
    const [s, s2] = await instances(2);
    const job = "job-atomic";
    await s!.jobs.touch(job, "agent-1", "sha256:policy-a", iso(T0));
    await s!.receipts.append(draft(job), seal);
    const head = await s!.receipts.head();
    const a = approval(job, { decision: "approved" });
    await s!.approvals.save(a);
    const effects: AppendEffects = {
      consumeApproval: a.approval_id,
      usage: { job, rows: 7, redactedPredicates: true, at: iso(T0) },
      flags: { job, flags: ["suspicious_content"], at: iso(T0) },
      rollbackState: { args: { x: 1 }, prior: null },
    };
    const d = draft(job);
    await expect(
      s2!.receipts.append(
        d,
        () => {
          throw new Error("key outside its window");
        },
        effects,
      ),
    ).rejects.toThrow("key outside its window");
    expect(await s!.receipts.head()).toEqual(head);
    expect(await s!.approvals.get(a.approval_id)).toEqual(a);
    expect(await s!.jobs.get(job)).toMatchObject({ calls: 0, rows: 0, redacted_predicate_queries: 0 });
    expect(await s!.jobs.flags(job)).toEqual([]);
    expect(await s!.rollbackState.get(d.receipt_id)).toBeUndefined();
    expect(await s!.jobs.callsLastMinute(job, T0)).toBe(0);
    // The same store goes on working after a failed append, and a consumed approval fails the next one cleanly.
    const ok = await s2!.receipts.append(d, seal, effects);
    expect(ok.receipt.seq).toBe(head.seq + 1);
    expect(await s!.rollbackState.get(d.receipt_id)).toEqual({ args: { x: 1 }, prior: null });
    const again = draft(job);
    await expect(s!.receipts.append(again, seal, effects)).rejects.toBeInstanceOf(ApprovalAlreadyUsed);
    expect(await s!.receipts.get(again.receipt_id)).toBeUndefined();
    expect(await s!.jobs.get(job)).toMatchObject({ calls: 1, rows: 7, redacted_predicate_queries: 1 });
    await expectOneChain(s2!, 2);
  });

  it("registers a job once, keeps its status and flags", async () => {
    const [s, s2] = await instances(2);
    const first = await s!.jobs.touch("job-j", "agent-1", "sha256:policy-a", iso(T0));
    expect(first).toEqual({
      job: "job-j",
      agent: "agent-1",
      policy_hash: "sha256:policy-a",
      status: "active",
      calls: 0,
      rows: 0,
      redacted_predicate_queries: 0,
      first_seen: iso(T0),
      last_seen: iso(T0),
      reason: null,
    });
    expect(await s2!.jobs.touch("job-j", "agent-2", "sha256:policy-b", iso(T0 + 9))).toEqual(first);
    expect(await s2!.jobs.setStatus("job-j", "paused", "paused by operator")).toBe(true);
    expect(await s!.jobs.get("job-j")).toMatchObject({ status: "paused", reason: "paused by operator" });
    expect(await s!.jobs.setStatus("job-none", "paused", "x")).toBe(false);
    expect(await s!.jobs.get("job-none")).toBeUndefined();
    await s!.jobs.flag("job-j", "suspicious_content", iso(T0));
    await s2!.jobs.flag("job-j", "suspicious_content", iso(T0 + 1));
    await s2!.jobs.flag("job-j", "budget_near", iso(T0 + 2));
    expect(await s!.jobs.flags("job-j")).toEqual(["budget_near", "suspicious_content"]);
    await s2!.jobs.touch("job-k", "agent-1", "sha256:policy-a", iso(T0 + 100));
    expect((await s!.jobs.list()).map((j) => j.job)).toEqual(["job-k", "job-j"]);
  });
}

describe("state contract: SQLite", () => conformance(sqliteKind));
describePg("state contract: PostgreSQL", pgdb, (db) => conformance(pgKind(db)));

/** A small seeded PRNG (mulberry32): the differential run is reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

/** Runs `steps` random operations (from `seed`) on a store; returns everything observable, in order. */
async function script(s: StateStore, seed: number, steps: number): Promise<unknown[]> {
  const r = rng(seed);
  const log: unknown[] = [];
  const jobs = ["job-a", "job-b", "job-c"];
  const policies = ["sha256:p1", "sha256:p2", "-"];
  const receiptIds: string[] = [];
  const intents: string[] = [];
  const approvals: Approval[] = [];
  let clock = T0;
  let n = 0;
  const record = async (what: string, f: () => Promise<unknown>) => {
    try {
      log.push([what, await f()]);
    } catch (e) {
      log.push([what, "threw", (e as Error).constructor.name, (e as Error).message]);
    }
  };
  for (let step = 0; step < steps; step++) {
    clock += r.int(20_000);
    const at = iso(clock);
    const job = r.pick(jobs);
    switch (r.int(12)) {
      case 0:
        await record("touch", () => s.jobs.touch(job, r.pick(["agent-1", "agent-2"]), r.pick(policies), at));
        break;
      case 1:
      case 2:
      case 3: {
        const id = `rcpt_${seed}_${n++}`;
        const phase = r.pick(["single", "single", "intent", "outcome"] as const);
        const over: Partial<UnsealedReceipt> = { receipt_id: id, time: at, phase, policy_hash: r.pick(policies) };
        if (phase === "outcome" && intents.length) over.intent_receipt_id = r.pick(intents);
        const effects: AppendEffects = {};
        if (r.next() < 0.6)
          effects.usage = { job, rows: r.int(50), redactedPredicates: r.next() < 0.3, at, reserved: r.next() < 0.3 };
        if (r.next() < 0.2) effects.flags = { job, flags: [r.pick(["suspicious_content", "budget_near"])], at };
        if (r.next() < 0.3 && approvals.length) effects.consumeApproval = r.pick(approvals).approval_id;
        if (r.next() < 0.2) effects.rollbackState = { args: { step }, prior: r.next() < 0.5 ? { step } : undefined };
        const d = draft(job, over);
        d.event_id = `evt_${seed}_${step}`;
        await record("append", async () => (await s.receipts.append(d, seal, effects)).hash);
        receiptIds.push(id);
        if (phase === "intent") intents.push(id);
        break;
      }
      case 4: {
        const a = approval(job, {
          approval_id: `apr_${seed}_${n++}`,
          requested_at: at,
          args_hash: r.pick(["sha256:x", "sha256:y"]),
          decision: r.pick(["pending", "approved"] as const),
        });
        approvals.push(a);
        await record("approval.save", () => s.approvals.save(a));
        break;
      }
      case 5:
        if (approvals.length) {
          const a = r.pick(approvals);
          await record("approval.decide", () =>
            s.approvals.saveDecision({ ...a, decision: r.pick(["approved", "denied"] as const), decided_at: at }),
          );
        }
        break;
      case 6:
        if (approvals.length)
          await record("approval.consume", () => s.approvals.consume(r.pick(approvals).approval_id, "denied", at));
        break;
      case 7:
        await record("flag", () => s.jobs.flag(job, r.pick(["a", "b", "c"]), at));
        break;
      case 10:
        await record("reserve", () =>
          s.jobs.reserveCall(job, at, { maxCalls: r.pick([undefined, 5, 40]), perMinute: r.pick([undefined, 2, 6]) }),
        );
        break;
      case 8:
        await record("status", () => s.jobs.setStatus(job, r.pick(["active", "paused", "completed"] as const), "why"));
        break;
      case 9: {
        const jws = `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}.${Buffer.from(JSON.stringify({ job, step })).toString("base64url")}.c2ln`;
        await record("token", () =>
          s.jobs.recordToken({
            jti: `tok-${r.int(5)}`,
            job,
            exp: clock / 1000 + 600,
            first_seen: at,
            ...tokenAtRest(jws),
          }),
        );
        break;
      }
      default:
        break;
    }
    // Observe after every step.
    await record("head", () => s.receipts.head());
    await record("job", () => s.jobs.get(job));
    await record("calls/min", () => s.jobs.callsLastMinute(job, clock));
    if (step % 5 === 0) {
      await record("forJob", () => s.receipts.forJob(job));
      await record("jobRange", () => s.receipts.jobRange(job, r.int(n + 1), 1 + r.int(4)));
      await record("dangling", () => s.receipts.danglingIntents());
      if (intents.length) await record("followUps", () => s.receipts.followUps(r.pick(intents)));
      await record("policies", async () => (await s.receipts.policyHashesOfJob(job)).sort());
      await record("approvals", () => s.approvals.list({ job }));
      await record("binding", () => s.approvals.findForBinding(job, "incident.update", "sha256:x", "sha256:policy-a"));
      await record("jobs", async () => (await s.jobs.list()).sort((x, y) => x.job.localeCompare(y.job)));
      await record("tokens", () => s.jobs.tokens(job));
      await record("flags", () => s.jobs.flags(job));
      if (receiptIds.length) {
        const id = r.pick(receiptIds);
        await record("get", () => s.receipts.get(id));
        await record("rollback", () => s.rollbackState.get(id));
      }
      await record("range", () => s.receipts.range(r.int(n + 1), 1 + r.int(7)));
    }
  }
  return log;
}

describePg("state contract: SQLite and PostgreSQL agree", pgdb, (db) => {
  for (const seed of [1, 2, 3]) {
    it(`gives the same observable results for the same random operations (seed ${seed})`, async () => {
      const stores = [await (await sqliteKind.fresh()).open(), await (await pgKind(db).fresh()).open()];
      try {
        const [a, b] = await Promise.all(stores.map((s) => script(s, seed, 250)));
        expect(a!.length).toBeGreaterThan(250 * 3);
        expect(b).toEqual(a);
      } finally {
        for (const s of stores) await s.close();
      }
    });
  }
});
