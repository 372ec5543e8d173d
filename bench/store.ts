// The state store, measured (issue 18, "Performance (bench)"): governed reads and writes on PostgreSQL against SQLite
// in one process and one run (ratios); three `gsmcp serve` replicas on one PostgreSQL with concurrent jobs (total
// calls/s, p99) against one server process on SQLite with the same load; and approvals raced from every replica, with
// the executions counted twice — by the answers and by the outcome receipts in the shared log — and the doubles.
//
// PostgreSQL: GSMCP_BENCH_PG_URL when set (a fresh database is created on that server when the URL may create one,
// otherwise the URL's own database is used), else the throw-away server of scripts/pg-test-server.sh (stopped after).
// Without either, the area reports itself skipped with the reason.
//
// Writes: incidents.update under a policy signed for the bench where that write needs no approval (the containment
// example without the approval on incidents.update, budgets out of reach: see bench/home.ts); each write is a
// reservation, an intent and an outcome receipt around the embedded workspace's update. The race uses the containment
// example as signed (incidents.update behind an explicit approval), budgets out of reach.
//
// On a small machine the replicas, the database, the embedded workspaces and the load generator share the cores: the
// figures come with a profile (cores, load average, and the share of in-process call time spent in the store's
// methods, by method).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { decideApproval } from "../src/cli/commands/approvals.js";
import { initHome } from "../src/cli/commands/init.js";
import { issueCst } from "../src/cli/commands/token.js";
import { homePaths } from "../src/governance/home.js";
import { policyHash, readPolicyDocument, signPolicy, storePolicy } from "../src/governance/policy.js";
import { loadSigningKey } from "../src/governance/trust.js";
import { openRuntime, type Runtime } from "../src/server/runtime.js";
import { connectStdio, type StdioSession } from "../src/server/stdio-client.js";
import type { StateStore } from "../src/state/contract.js";
import { openPgStore } from "../src/state/pg-store.js";
import type { WorkPolicyContract } from "../src/types/wpc.js";
import { PG_SCRIPT, pgBinariesFound, startServer } from "../test/helpers/postgres-server.js";
import { BENCH_BUDGETS } from "./home.js";
import type { BenchResult } from "./types.js";

const AREA = "store";
/** In-process: alternating rounds per store and kind, each this long. */
const ROUNDS = 4;
const ROUND_MS = 1500;
/** Replicas: this long, with this many calls in flight per replica. */
const LOAD_MS = 8000;
const IN_FLIGHT = 4;
const REPLICAS = 3;
const RACE_ROUNDS = 10;
const WRITE_TARGET = 0.5;

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN;
}

interface Answer {
  isError?: boolean;
  content?: unknown;
}
const textOf = (r: unknown) => ((r as Answer).content as { text?: string }[] | undefined)?.[0]?.text ?? "";

/** Latencies and refusals of one measure, possibly gathered over several rounds. */
class Tally {
  lat: number[] = [];
  ms = 0;
  refused = 0;
  first = "";
  add(ms: number, r: unknown): void {
    this.lat.push(ms);
    if ((r as Answer)?.isError) {
      this.refused++;
      this.first ||= textOf(r).split(" — ")[0]!.slice(0, 120);
    }
  }
  stats() {
    const l = [...this.lat].sort((a, b) => a - b);
    return { n: l.length, perSec: (l.length / this.ms) * 1000, p50: pct(l, 50), p99: pct(l, 99) };
  }
  note(): string {
    const n = this.lat.length;
    return this.refused
      ? `⚠ ${this.refused} of ${n} calls refused/failed (first: ${this.first})`
      : `${n} calls, all answered`;
  }
}

/** `workers` loops calling fn for `ms` milliseconds; adds to the tally. */
async function load(ms: number, workers: number, tally: Tally, fn: (w: number, i: number) => Promise<unknown>) {
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const s = performance.now();
        const r = await fn(w, i);
        tally.add(performance.now() - s, r);
      }
    }),
  );
  tally.ms += performance.now() - t0;
}

/** Time spent in the store's methods, by method, while `on` (in-process calls are sequential: a share of wall time). */
class StoreProfile {
  on = false;
  acc = new Map<string, number>();
  instrument(store: StateStore): void {
    for (const part of ["receipts", "jobs", "approvals", "rollbackState"] as const) {
      const obj = store[part] as unknown as Record<string, unknown>;
      const names = new Set<string>();
      for (let p: object | null = obj; p && p !== Object.prototype; p = Object.getPrototypeOf(p))
        for (const k of Object.getOwnPropertyNames(p)) if (k !== "constructor") names.add(k);
      for (const k of names) {
        const desc =
          Object.getOwnPropertyDescriptor(obj, k) ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(obj), k);
        if (!desc || typeof desc.value !== "function") continue;
        const f = desc.value as unknown;
        const key = `${part}.${k}`;
        const add = (s: number) => {
          if (this.on) this.acc.set(key, (this.acc.get(key) ?? 0) + performance.now() - s);
        };
        const wrapped = (...a: unknown[]) => {
          const s = performance.now();
          const r = (f as (...x: unknown[]) => unknown).apply(obj, a);
          if (r && typeof (r as Promise<unknown>).then === "function")
            return (r as Promise<unknown>).finally(() => add(s));
          add(s);
          return r;
        };
        try {
          obj[k] = wrapped;
        } catch {
          // a frozen object: that method goes unprofiled
        }
      }
    }
  }
  /** "store 62 % of call time (receipts.append 40 %, jobs.reserveCall 15 %, …)" and resets. */
  take(wallMs: number): { share: number; text: string } {
    const total = [...this.acc.values()].reduce((a, b) => a + b, 0);
    const top = [...this.acc.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${((v / wallMs) * 100).toFixed(0)} %`);
    this.acc.clear();
    const share = total / wallMs;
    return { share, text: `store ${(share * 100).toFixed(0)} % of call time (${top.join(", ")})` };
  }
}

interface BenchHomeOf {
  home: string;
  /** Writes without approval (incidents.update open), budgets out of reach. */
  openPolicy: string;
  /** The containment example as signed (incidents.update behind approval), budgets out of reach. */
  approvalPolicy: string;
  token(policy: string, job: string): Promise<string>;
}

async function makeHome(label: string): Promise<BenchHomeOf> {
  const home = mkdtempSync(join(tmpdir(), `gsmcp-bench-store-${label}-`));
  await initHome(home, { seed: 1 });
  const paths = homePaths(home);
  const { wpc } = readPolicyDocument(join(paths.policies, "containment-with-approvals.dsse.json"));
  const sign = (w: WorkPolicyContract) =>
    storePolicy(paths, signPolicy(w, [loadSigningKey(paths, "policySigner")]), policyHash(w));
  const openWpc: WorkPolicyContract = {
    ...wpc,
    policy_name: `${wpc.policy_name}-bench-open`,
    budgets: BENCH_BUDGETS,
    approvals: (wpc.approvals ?? [])
      .map((a) => ({
        ...a,
        required_for: a.required_for.filter((op) => op !== "incidents.update") as [string, ...string[]],
      }))
      .filter((a) => a.required_for.length > 0),
  };
  const approvalWpc: WorkPolicyContract = { ...wpc, policy_name: `${wpc.policy_name}-bench`, budgets: BENCH_BUDGETS };
  return {
    home,
    openPolicy: sign(openWpc),
    approvalPolicy: sign(approvalWpc),
    token: async (policy, job) => (await issueCst(home, { policy, job, agent: "bench" })).token,
  };
}

/** A PostgreSQL database for this run, or why there is none. */
async function pgDatabase(): Promise<{ url: string; where: string; done: () => Promise<void> } | { reason: string }> {
  let admin = process.env.GSMCP_BENCH_PG_URL;
  let stopDir: string | undefined;
  if (!admin) {
    if (!pgBinariesFound())
      return { reason: "PostgreSQL not found: install Debian's postgresql or set GSMCP_BENCH_PG_URL" };
    try {
      const { env } = await startServer();
      admin = env.GSMCP_TEST_PG_URL!;
      stopDir = env.GSMCP_TEST_PG_DIR;
    } catch (e) {
      return { reason: (e as Error).message };
    }
  }
  const stop = async () => {
    if (!stopDir) return;
    await new Promise<void>((resolve) => {
      const c = spawn("bash", [PG_SCRIPT, "stop", stopDir!], { stdio: "ignore" });
      c.on("close", () => resolve());
      c.on("error", () => resolve());
    });
  };
  const u = new URL(admin);
  const where = `${u.hostname}:${u.port || 5432}${stopDir ? " (throw-away server)" : ""}`;
  const database = `gsmcp_bench_${randomBytes(6).toString("hex")}`;
  const c = new pg.Client({ connectionString: admin });
  try {
    await c.connect();
    await c.query(`CREATE DATABASE ${database}`);
  } catch (e) {
    await c.end().catch(() => {});
    if (stopDir) {
      await stop();
      return { reason: `PostgreSQL at ${where}: ${(e as Error).message}` };
    }
    // The URL may not create databases: use its own database.
    return { url: admin, where, done: async () => {} };
  }
  await c.end().catch(() => {});
  const mine = new URL(admin);
  mine.pathname = `/${database}`;
  return {
    url: mine.toString(),
    where,
    done: async () => {
      const d = new pg.Client({ connectionString: admin });
      try {
        await d.connect();
        await d.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } catch {
        // the server goes away with stop() anyway
      } finally {
        await d.end().catch(() => {});
      }
      await stop();
    },
  };
}

/** Opens a runtime on the store GSMCP_STORE names (unset: SQLite in the home); restores the environment. */
async function runtimeOn(store: string | undefined, h: BenchHomeOf, job: string): Promise<Runtime> {
  const tokenRef = await h.token(h.openPolicy, job);
  return withStoreEnv(store, () => openRuntime({ home: h.home, tokenRef, policyRef: h.openPolicy }));
}

async function withStoreEnv<T>(store: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.GSMCP_STORE;
  if (store) process.env.GSMCP_STORE = store;
  else delete process.env.GSMCP_STORE;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.GSMCP_STORE;
    else process.env.GSMCP_STORE = before;
  }
}

async function incidentIds(call: (name: string, args: unknown) => Promise<unknown>, n: number): Promise<string[]> {
  const r = (await call("sentinel_incidents_list", { top: n })) as Answer & { structuredContent?: unknown };
  if (r.isError) throw new Error(`bench: sentinel_incidents_list refused: ${textOf(r)}`);
  return (r.structuredContent as { incidents: { id: string }[] }).incidents.map((i) => i.id);
}

const severity = (i: number) => (i % 2 ? "Low" : "High");

export async function bench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const load0 = loadavg()[0]!;
  const db = await pgDatabase();
  if ("reason" in db) {
    return [{ area: AREA, name: "skipped", value: Number.NaN, unit: "", notes: `skipped: ${db.reason}` }];
  }
  const sessions: StdioSession[] = [];
  try {
    const { migratePgStore } = await import("../src/state/pg-store.js");
    await migratePgStore({ url: db.url });
    const hs = await makeHome("sqlite");
    const hp = await makeHome("pg");
    const profile = new StoreProfile();

    // 1. In-process, one runtime per store, alternating rounds so drift on a busy machine hits both alike.
    const rs = await runtimeOn(undefined, hs, "bench-inproc");
    const rp = await runtimeOn(db.url, hp, "bench-inproc");
    profile.instrument(rs.store);
    profile.instrument(rp.store);
    const sides = [
      {
        name: "SQLite",
        rt: rs,
        read: new Tally(),
        write: new Tally(),
        prof: { read: "", write: "" },
        share: { read: 0, write: 0 },
      },
      {
        name: "PostgreSQL",
        rt: rp,
        read: new Tally(),
        write: new Tally(),
        prof: { read: "", write: "" },
        share: { read: 0, write: 0 },
      },
    ];
    const ids = new Map<Runtime, string>();
    for (const s of sides) {
      const call = (n: string, a: unknown) => s.rt.governor.call(n, a);
      const [id] = await incidentIds(call, 1);
      ids.set(s.rt, id!);
      // Warm-up: JIT, statement caches, the pool, the token cache.
      for (let i = 0; i < 50; i++) {
        await s.rt.governor.call("sentinel_incidents_get", { incidentId: id });
        await s.rt.governor.call("sentinel_incidents_update", { incidentId: id, severity: severity(i) });
      }
    }
    for (const kind of ["read", "write"] as const) {
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 ? [...sides].reverse() : sides;
        for (const s of order) {
          const incidentId = ids.get(s.rt)!;
          profile.on = true;
          const t0 = performance.now();
          await load(ROUND_MS, 1, s[kind], (_w, i) =>
            kind === "read"
              ? s.rt.governor.call("sentinel_incidents_get", { incidentId })
              : s.rt.governor.call("sentinel_incidents_update", { incidentId, severity: severity(i) }),
          );
          profile.on = false;
          // Keep each side's profile apart: take() after each round, summed by side below.
          const p = profile.take(performance.now() - t0);
          s.share[kind] += p.share / ROUNDS;
          if (r === ROUNDS - 1) s.prof[kind] = p.text;
        }
      }
    }
    await rs.close();
    await rp.close();
    const [sq, pq] = sides as [(typeof sides)[0], (typeof sides)[0]];
    for (const kind of ["read", "write"] as const) {
      for (const s of sides) {
        const st = s[kind].stats();
        out.push({
          area: AREA,
          name: `in-process governed ${kind} (${kind === "read" ? "incidents.get" : "incidents.update"}) on ${s.name}`,
          value: st.perSec,
          unit: "calls/s",
          p50Ms: st.p50,
          p99Ms: st.p99,
          notes: `${s[kind].note()}; store ${(s.share[kind] * 100).toFixed(0)} % of call time (last round: ${s.prof[kind]})`,
        });
      }
      const ratio = pq[kind].stats().perSec / sq[kind].stats().perSec;
      out.push({
        area: AREA,
        name: `in-process governed ${kind}s PostgreSQL/SQLite`,
        headline: `in-process governed ${kind}s PostgreSQL/SQLite throughput`,
        value: ratio,
        unit: "ratio",
        notes: `${Math.round(pq[kind].stats().perSec)} vs ${Math.round(sq[kind].stats().perSec)} calls/s; p99 ${pq[kind].stats().p99.toFixed(2)} vs ${sq[kind].stats().p99.toFixed(2)} ms`,
      });
    }

    // 2. Load over stdio: one server process on SQLite, then three replicas on PostgreSQL, each replica its own job,
    // IN_FLIGHT calls in flight per process; governed writes, each worker on its own incident.
    const stdioLoad = async (h: BenchHomeOf, store: string | undefined, n: number, label: string) => {
      const procs = await Promise.all(
        Array.from({ length: n }, async (_, k) =>
          connectStdio({
            GSMCP_HOME: h.home,
            GSMCP_CST: await h.token(h.openPolicy, `bench-${label}-${k}`),
            GSMCP_POLICY: h.openPolicy,
            ...(store ? { GSMCP_STORE: store } : {}),
          }),
        ),
      );
      sessions.push(...procs);
      const call = (p: StdioSession, name: string, args: Record<string, unknown>) =>
        p.client.callTool({ name, arguments: args });
      const incs = await incidentIds((nm, a) => call(procs[0]!, nm, a as Record<string, unknown>), n * IN_FLIGHT);
      const incOf = (p: number, w: number) => incs[(p * IN_FLIGHT + w) % incs.length]!;
      // Warm-up.
      await Promise.all(
        procs.map(async (p, k) => {
          for (let i = 0; i < 30; i++)
            await call(p, "sentinel_incidents_update", { incidentId: incOf(k, 0), severity: severity(i) });
        }),
      );
      const tally = new Tally();
      const l0 = loadavg()[0]!;
      await load(LOAD_MS, n * IN_FLIGHT, tally, (w, i) => {
        const k = w % n;
        return call(procs[k]!, "sentinel_incidents_update", {
          incidentId: incOf(k, Math.floor(w / n)),
          severity: severity(i),
        });
      });
      const l1 = loadavg()[0]!;
      await Promise.all(procs.map((p) => p.close()));
      for (const p of procs) sessions.splice(sessions.indexOf(p), 1);
      return { tally, load: `load ${l0.toFixed(1)}→${l1.toFixed(1)}` };
    };
    const single = await stdioLoad(hs, undefined, 1, "sqlite1");
    const repl = await stdioLoad(hp, db.url, REPLICAS, "pg3");
    const s1 = single.tally.stats();
    const r3 = repl.tally.stats();
    out.push({
      area: AREA,
      name: `stdio governed writes, 1 server on SQLite, ${IN_FLIGHT} in flight`,
      value: s1.perSec,
      unit: "calls/s",
      p50Ms: s1.p50,
      p99Ms: s1.p99,
      notes: `${single.tally.note()}; ${single.load}`,
    });
    out.push({
      area: AREA,
      name: `stdio governed writes, ${REPLICAS} replicas on PostgreSQL, ${REPLICAS} jobs × ${IN_FLIGHT} in flight`,
      headline: `${REPLICAS} replicas on PostgreSQL, concurrent jobs: governed writes`,
      value: r3.perSec,
      unit: "calls/s",
      p50Ms: r3.p50,
      p99Ms: r3.p99,
      notes: `${repl.tally.note()}; ${repl.load}`,
    });
    const fair = single.tally.refused === 0 && repl.tally.refused === 0;
    const inProcSqlWrite = sq.write.stats().perSec;
    out.push({
      area: AREA,
      name: `${REPLICAS} replicas on PostgreSQL / 1 server on SQLite, write throughput`,
      headline: `${REPLICAS} PostgreSQL replicas / single-process SQLite, write throughput`,
      value: r3.perSec / s1.perSec,
      unit: "ratio",
      target: `≥ ${WRITE_TARGET.toFixed(2)}`,
      holds: r3.perSec / s1.perSec >= WRITE_TARGET && fair,
      notes: `${Math.round(r3.perSec)} vs ${Math.round(s1.perSec)} calls/s over stdio; vs in-process SQLite (${Math.round(inProcSqlWrite)} calls/s): ${(r3.perSec / inProcSqlWrite).toFixed(2)}`,
    });

    // 3. Approvals raced from every replica: one job served by three replicas, RACE_ROUNDS approvals.
    const job = "bench-race";
    const raceToken = await hp.token(hp.approvalPolicy, job);
    const racers = await Promise.all(
      Array.from({ length: REPLICAS }, () =>
        connectStdio({
          GSMCP_HOME: hp.home,
          GSMCP_CST: raceToken,
          GSMCP_POLICY: hp.approvalPolicy,
          GSMCP_STORE: db.url,
        }),
      ),
    );
    sessions.push(...racers);
    const [raceInc] = await incidentIds(
      (nm, a) => racers[0]!.client.callTool({ name: nm, arguments: a as Record<string, unknown> }),
      1,
    );
    let answered = 0;
    let doubleByAnswers = 0;
    let missing = 0;
    const approvals: string[] = [];
    for (let round = 0; round < RACE_ROUNDS; round++) {
      // Each round its own arguments, so each approval binds a call of its own.
      const args = { incidentId: raceInc!, severity: ["Low", "Medium", "High"][round % 3]!, labels: [`race-${round}`] };
      const first = await racers[round % REPLICAS]!.client.callTool({
        name: "sentinel_incidents_update",
        arguments: args,
      });
      const approvalId = /apr_[0-9a-f]{16}/.exec(textOf(first))?.[0];
      if (!approvalId) throw new Error(`bench: no approval requested: ${textOf(first).slice(0, 200)}`);
      approvals.push(approvalId);
      await withStoreEnv(db.url, () => decideApproval(hp.home, approvalId, "approved", `bench race ${round}`));
      const raced = await Promise.all(
        racers.map((p) => p.client.callTool({ name: "sentinel_incidents_update", arguments: args })),
      );
      const ok = raced.filter((r) => !r.isError).length;
      answered += ok;
      if (ok > 1) doubleByAnswers += ok - 1;
      if (ok === 0) missing++;
    }
    await Promise.all(racers.map((p) => p.close()));
    for (const p of racers) sessions.splice(sessions.indexOf(p), 1);
    // The shared log's word: outcome receipts citing each approval, status ok.
    const st = await openPgStore({ url: db.url });
    let byReceipts = 0;
    let doubleByReceipts = 0;
    try {
      const receipts = await st.receipts.forJob(job);
      for (const id of approvals) {
        const n = receipts.filter(
          (r) => r.approval_id === id && r.phase === "outcome" && r.outcome?.status === "ok",
        ).length;
        byReceipts += n;
        if (n > 1) doubleByReceipts += n - 1;
      }
    } finally {
      await st.close();
    }
    const doubles = Math.max(doubleByAnswers, doubleByReceipts);
    out.push({
      area: AREA,
      name: `approvals raced from ${REPLICAS} replicas: double executions`,
      headline: `approvals raced from ${REPLICAS} replicas on PostgreSQL: double executions`,
      value: doubles,
      unit: "doubles",
      target: "0",
      holds: doubles === 0 && missing === 0 && byReceipts === RACE_ROUNDS,
      notes: `${RACE_ROUNDS} rounds × ${REPLICAS} racers: ${answered} executed by the answers, ${byReceipts} outcome receipts (ok) citing the approvals${missing ? `; ⚠ ${missing} rounds executed nothing` : ""}`,
    });

    out.push({
      area: AREA,
      name: "profile",
      value: cpus().length,
      unit: "cores",
      notes: `load average ${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end; replicas, PostgreSQL (${db.where}), embedded workspaces and load generator on one machine; PostgreSQL write: ${pq.prof.write}; SQLite write: ${sq.prof.write}`,
    });
    return out;
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
    await db.done();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
