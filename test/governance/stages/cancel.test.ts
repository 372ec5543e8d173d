import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KqlFacts } from "../../../src/governance/decide.js";
import type { JobStore } from "../../../src/governance/jobs.js";
import type { GovernorDeps, ToolCallResult } from "../../../src/governance/pipeline.js";
import { verifyChain } from "../../../src/receipts/verify-chain.js";
import { verifyEventsAgainstLog } from "../../../src/receipts/verify-events.js";
import type { SentinelBackend } from "../../../src/sentinel/backend.js";
import { createKqlFactsAnalyzer, type KqlFactsAnalyzer } from "../../../src/sentinel/kql-facts.js";
import { openBackend } from "../../../src/sentinel/open.js";
import { toolNameFor } from "../../../src/tools/types.js";
import type { Receipt } from "../../../src/types/receipt.js";
import type { WorkPolicyContract } from "../../../src/types/wpc.js";
import { makeHome } from "../../helpers/home.js";
import { type Harness, harness } from "./harness.js";

// Cancellation racing the pipeline, over the real embedded workspace (query workers, Azure SDK path) and the real
// language-service analyzer: batches of concurrent calls of one job, each cancelled at a stage boundary chosen by
// fast-check. The cancellation is fired from inside the stage (the dependency the stage calls fires it), so it lands
// exactly there. Whatever the interleaving: every call is sealed once, a read stopped anywhere before its result was
// sealed says `cancelled`, a write is `cancelled` only before execute (after that it ran: intent + outcome ok), the
// job's counted calls equal its sealed calls (no reservation leaked), no query worker is left running, the hash chain
// and the events verify.

const WPC = {
  wpc_version: "v1",
  policy_name: "cancel-tests",
  allow: [
    {
      tool: "sentinel.api",
      ops: ["kql.query", "huntingQueries.run", "entities.timeline", "incidents.get", "incidents.update"],
    },
  ],
  approvals: [{ name: "updates", required_for: ["incidents.update"], mode: "interactive", ttl_seconds: 600 }],
  token_requirements: { cst_ttl_seconds_max: 900 },
  constraints: { "*": { max_rows: 50, max_result_bytes: 200_000 } },
} as WorkPolicyContract;

/** A query that runs until it is stopped (the policy's 10 s limit is far away): CPU-bound hashing in a worker. */
const RUNAWAY = `range x from 1 to 1000000 step 1 | where ${"hash_sha256(".repeat(16)}tostring(x)${")".repeat(16)} == "nope" | count`;

type Kind = "slowRead" | "hunt" | "timeline" | "quickRead" | "write";
type Point = "none" | "beforeAdmit" | "decide" | "reserve" | "approval" | "execute" | "afterExecute";

interface Plan {
  kind: Kind;
  point: Point;
}

const POINTS: Record<Kind, Point[]> = {
  slowRead: ["beforeAdmit", "decide", "reserve", "execute"],
  hunt: ["none", "beforeAdmit", "decide", "reserve", "execute", "afterExecute"],
  timeline: ["none", "beforeAdmit", "decide", "reserve", "execute", "afterExecute"],
  quickRead: ["none", "beforeAdmit", "decide", "reserve", "execute", "afterExecute"],
  write: ["none", "beforeAdmit", "decide", "reserve", "approval", "execute", "afterExecute"],
};

// A runaway read that is not cancelled would only end at the policy's timeout: it is always cancelled somewhere.
// A saved hunting query is fetched in the decide stage and run as analysed: short, so it is also seen to finish.
const plan: fc.Arbitrary<Plan> = fc.oneof(
  ...(Object.keys(POINTS) as Kind[]).map((kind) =>
    fc.record({ kind: fc.constant(kind), point: fc.constantFrom(...POINTS[kind]) }),
  ),
);

/** At most one write per batch: two concurrent writes to one incident would race its etag, which is another test. */
const batch = fc
  .array(plan, { minLength: 1, maxLength: 4 })
  .filter((b) => b.filter((p) => p.kind === "write").length <= 1);

/** Every kind of call at every boundary it has, packed into batches of one write and two reads: run first, always. */
function everyBoundary(): Plan[][] {
  const reads = (["slowRead", "hunt", "timeline", "quickRead"] as const).flatMap((kind) =>
    POINTS[kind].map((point) => ({ kind, point })),
  );
  const writes = POINTS.write.map((point) => ({ kind: "write" as const, point }));
  const out: Plan[][] = writes.map((w, i) => [w, ...reads.slice(2 * i, 2 * i + 2)]);
  for (let i = 2 * writes.length; i < reads.length; i += 3) out.push(reads.slice(i, i + 3));
  return out;
}

/** Where the cancellation took effect, as the pipeline should report it. */
function expected(p: Plan, fired: Point | undefined): "ok" | "cancelled" {
  if (!fired) return "ok";
  if (p.kind === "write") return fired === "execute" || fired === "afterExecute" ? "ok" : "cancelled";
  return "cancelled";
}

/** Every method of `real`, with `hooks` run around the named ones. */
function around<T extends object>(
  real: T,
  hooks: Partial<Record<string, { before?: () => void; after?: () => void }>>,
): T {
  return new Proxy(real, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== "function") return v;
      const h = hooks[String(key)];
      if (!h) return v.bind(target);
      return async (...args: unknown[]) => {
        h?.before?.();
        const out = await (v as (...a: unknown[]) => unknown).apply(target, args);
        h?.after?.();
        return out;
      };
    },
  });
}

describe("cancellation at every stage boundary (property, real workspace)", () => {
  let h: Harness;
  let backend: SentinelBackend;
  let analyzer: KqlFactsAnalyzer;
  let incidentId: string;
  let savedSearchId: string;
  let entityId: string;
  let run = 0;

  beforeAll(async () => {
    const home = await makeHome();
    backend = await openBackend(home.paths, "local");
    analyzer = createKqlFactsAnalyzer(async () => backend);
    h = await harness(WPC);
    incidentId = (await backend.listIncidents({ top: 1 }))[0]!.id;
    entityId = (await backend.incidentEntities(incidentId))[0]!.id;
    savedSearchId = (await backend.listSavedSearches()).find((x) => x.category === "Hunting Queries")!.id;
  }, 120_000);
  afterAll(async () => {
    await analyzer?.close();
    await backend?.close();
  });

  async function callOne(job: string, token: string, p: Plan, i: number) {
    const ac = new AbortController();
    let fired: Point | undefined;
    let done = false;
    const fire = (at: Point) => () => {
      if (p.point !== at || fired) return;
      fired = at;
      ac.abort(`test cancels at ${at}`);
    };
    const jobs = around(h.deps.jobs, {
      callsLastMinute: { before: fire("decide") },
      reserveCall: { after: fire("reserve") },
    }) as JobStore;
    const wrapped = around(backend, {
      // The read's backend work, once started: a query is stopped in its worker; an incident read runs on.
      queryLogs: {
        before: () => {
          // The runaway is cancelled once a worker runs it; the hunting query as its request leaves.
          if (p.kind === "slowRead" && p.point === "execute") {
            const whenRunning = () => {
              if (done) return;
              if (backend.queryWorkers!().running > 0) fire("execute")();
              else setTimeout(whenRunning, 10);
            };
            whenRunning();
          }
          if (p.kind === "hunt") fire("execute")();
        },
        after: fire("afterExecute"),
      },
      getIncident: { before: fire("execute"), after: p.kind === "write" ? undefined : fire("afterExecute") },
      updateIncident: { after: fire("afterExecute") },
      // The timeline's ARM request leaves with the call's signal already fired: the SDK aborts it at once.
      entityTimeline: { before: fire("execute"), after: fire("afterExecute") },
    });
    const deps: GovernorDeps = {
      ...h.deps,
      token,
      jobs,
      backend: async () => wrapped,
      analyzeKql: (q: string, o?: { redactedColumns?: string[] }): Promise<KqlFacts> => analyzer(q, o),
    };
    const { Governor } = await import("../../../src/governance/pipeline.js");
    const g = new Governor(deps);
    // The user in the MCP client: answers yes at once, or — where this call is cancelled — is still deciding.
    g.setElicitor((_message, signal) => {
      if (p.point !== "approval") return Promise.resolve({ approve: true });
      return new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(new Error("elicitation cancelled")), { once: true });
        fire("approval")();
      });
    });
    if (p.point === "beforeAdmit") fire("beforeAdmit")();
    const [name, args] =
      p.kind === "slowRead"
        ? ["kql.query", { query: RUNAWAY, timespan: "P1D" }]
        : p.kind === "hunt"
          ? ["huntingQueries.run", { savedSearchId, timespan: "P7D" }]
          : p.kind === "timeline"
            ? ["entities.timeline", { entityId, buckets: 4 }]
            : p.kind === "quickRead"
              ? ["incidents.get", { incidentId }]
              : ["incidents.update", { incidentId, labels: [`cancel-run-${run}-${i}`] }];
    const result = await g.call(toolNameFor(name), args, { signal: ac.signal });
    done = true;
    return { plan: p, result, fired, job };
  }

  it("seals every call once and consistently, whatever the interleaving", async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(batch, async (plans) => {
        run++;
        const job = `cancel-${run}`;
        const token = await h.token({ job });
        const before = (await h.deps.receipts.all()).length;
        // The job exists before the batch (a call cancelled before admission seals a receipt for a job it never
        // touched; the job's counters start with its first admitted call, as for any refusal before admission).
        const first = await callOne(job, token, { kind: "quickRead", point: "none" }, -1);
        const outcomes = [first, ...(await Promise.all(plans.map((p, i) => callOne(job, token, p, i))))];

        const log = await h.deps.receipts.all();
        const mine = log.slice(before).filter((r) => r.job === job);
        const byId = new Map(mine.map((r) => [r.receipt_id, r]));
        for (const o of outcomes) {
          // Every planned cancellation is reachable and fired where planned (the test cannot pass vacuously).
          expect(o.fired, JSON.stringify(o.result.content)).toBe(o.plan.point === "none" ? undefined : o.plan.point);
          seen.add(`${o.plan.kind}@${o.plan.point}`);
          const id = receiptIdOf(o.result);
          const r = byId.get(id!);
          expect(r, `${o.plan.kind}@${o.plan.point}: its receipt`).toBeDefined();
          const want = expected(o.plan, o.fired);
          expect(
            r!.outcome.status,
            `${o.plan.kind}@${o.plan.point} fired=${o.fired}: ${JSON.stringify(r!.outcome)}`,
          ).toBe(want);
          if (want === "cancelled") {
            expect(r!.outcome.error?.code).toBe("cancelled");
            expect(r!.outcome.result_hash).toBeUndefined();
            expect(r!.phase).toBe("single");
          }
          if (o.plan.kind === "write" && want === "ok") {
            expect(r!.phase).toBe("outcome");
            expect(byId.get(r!.intent_receipt_id!)?.phase).toBe("intent");
          }
        }
        // One sealed receipt per call; an intent only for each write that executed.
        const sealed = mine.filter((r) => r.phase !== "intent");
        expect(sealed.length).toBe(outcomes.length);
        const executedWrites = outcomes.filter((o) => o.plan.kind === "write" && expected(o.plan, o.fired) === "ok");
        expect(mine.filter((r) => r.phase === "intent").length).toBe(executedWrites.length);
        // The job counted exactly its sealed calls: no slot reserved and left, none counted twice; rows only for ok.
        const rec = await h.deps.jobs.get(job);
        expect(rec?.calls).toBe(sealed.length);
        expect(rec?.rows).toBe(sumRows(sealed.filter((r) => r.outcome.status === "ok")));
        // Approvals: only an executed write consumed one (a cancelled one left it for an approver or a retry).
        const approvals = await h.deps.approvals.list({ job });
        expect(approvals.filter((a) => a.consumed_at).length).toBe(executedWrites.length);
        // No query worker is left running or waiting for these calls.
        await until(() => {
          const w = backend.queryWorkers!();
          return w.running === 0 && w.queued === 0;
        });
        // The chain verifies, and the SOC's events match the receipts and approvals both ways.
        expect(verifyChain(log, h.keys.trust.keys("receipt_signers"))).toEqual([]);
        const events = h.sink.events.filter((e) => e.JobId === job);
        for (const r of sealed.filter((x) => x.outcome.status === "cancelled"))
          expect(events.find((e) => e.ReceiptId === r.receipt_id && e.EventType === "ToolInvocation")?.ToolResult).toBe(
            "cancelled:cancelled",
          );
        const ev = verifyEventsAgainstLog(
          events.map((e) => JSON.stringify(e)),
          mine,
          approvals,
          { job },
        );
        expect(ev.problems).toEqual([]);
      }),
      {
        numRuns: 24,
        seed: Number(process.env.FC_SEED ?? 2412),
        endOnFailure: true,
        examples: everyBoundary().map((b) => [b] as [Plan[]]),
      },
    );
    // The runs covered every kind of call at every boundary it has (4 + 6 + 6 + 6 + 7).
    expect(seen.size).toBe(29);
  }, 240_000);

  it("a cancelled runaway query terminates its worker: the pool reports it running no more", async () => {
    const start = backend.queryWorkers!();
    const token = await h.token({ job: "cancel-worker" });
    const out = await callOne("cancel-worker", token, { kind: "slowRead", point: "execute" }, 0);
    expect(out.fired, JSON.stringify(out.result.content)).toBe("execute");
    await until(() => backend.queryWorkers!().running === 0);
    const end = backend.queryWorkers!();
    expect(end.terminated).toBe(start.terminated + 1);
    expect(end.queued).toBe(0);
    const r = (await h.deps.receipts.all()).find((x) => x.receipt_id === receiptIdOf(out.result))!;
    expect(r.outcome).toMatchObject({ status: "cancelled", error: { code: "cancelled" } });
    expect(r.outcome.error!.message).toMatch(/while running.*backend work was stopped/);
    // The decision was made and stays recorded: a verifier re-evaluates it like any other.
    expect(r.decision.effect).not.toBe("BLOCK");
    expect(r.decision_input).toBeDefined();
  }, 60_000);
});

function receiptIdOf(r: ToolCallResult): string | undefined {
  const m = r._meta as Record<string, unknown> | undefined;
  return (
    (m?.["gsmcp/receipt_id"] as string | undefined) ?? (m?.["gsmcp/refusal"] as { receipt_id?: string })?.receipt_id
  );
}

function sumRows(rs: Receipt[]): number {
  return rs.reduce((n, r) => n + (r.outcome.rows ?? 0), 0);
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}
