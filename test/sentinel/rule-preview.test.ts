import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KqlValue } from "../../src/kql/types.js";
import type { QueryTable, SentinelBackend } from "../../src/sentinel/backend.js";
import { BackendError } from "../../src/sentinel/errors.js";
import {
  CLIENT_SLIDE_CAVEAT,
  duration,
  previewRuleImpact,
  type RulePreviewRule,
} from "../../src/sentinel/rule-preview.js";
import { SdkBackend } from "../../src/sentinel/sdk-backend.js";
import { createLocalClients, initWorkspace, startWorkspace, type WorkspaceHandle } from "../../src/workspace/index.js";
import { QueryPool } from "../../src/workspace/query-pool.js";
import { LOG_TABLES } from "../../src/workspace/schemas.js";

const M = 60_000;
const H = 60 * M;
const USER = "rule-preview@contoso.com";
/** The rule's runs end here: a whole minute, so hand-counted windows are easy to read. */
const END = Math.floor(Date.now() / M) * M;

/** A SigninLogs row for USER at END - offset. */
function signin(offset: number, result = "50126"): KqlValue[] {
  const row: Record<string, KqlValue> = {
    TimeGenerated: END - offset,
    UserPrincipalName: USER,
    IPAddress: "203.0.113.9",
    ResultType: result,
  };
  return LOG_TABLES.SigninLogs!.map((c) => row[c.name] ?? null);
}

// Failed sign-ins placed by hand (offsets before END): a burst of 4 at 2h10m-2h (inside one 1h window), a pair
// across the END-5h run boundary (5h-1m and 5h+1m) and one 3 days back. With PT1H/PT1H the runs whose window holds
// more than 1 failure: only END-2h (4 rows). With PT1H/PT2H: END-1h and END-2h (the burst), END-4h (the pair, whole
// in [END-6h, END-4h)).
const EVENTS = [
  signin(2 * H + 10 * M),
  signin(2 * H + 8 * M),
  signin(2 * H + 5 * M),
  signin(2 * H + 1 * M),
  signin(5 * H - 1 * M),
  signin(5 * H + 1 * M),
  signin(72 * H),
  signin(30 * M, "0"), // a success: never counted
];

const rule = (over: Partial<RulePreviewRule> = {}): RulePreviewRule => ({
  query: `SigninLogs | where UserPrincipalName == "${USER}" and ResultType != "0"`,
  queryFrequency: "PT1H",
  queryPeriod: "PT1H",
  triggerOperator: "GreaterThan",
  triggerThreshold: 1,
  ...over,
});

let dir: string;
let ws: WorkspaceHandle;
let backend: SdkBackend;
/** A query pool of our own over the workspace's database (the handle exposes only its pool's stats). */
let pool: QueryPool | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gsmcp-preview-"));
  const { ids } = await initWorkspace(dir, { seed: 3 });
  ws = await startWorkspace(dir);
  ws.store.appendLogs(
    "SigninLogs",
    EVENTS.map((r) => [...r]),
  );
  pool = new QueryPool(join(dir, "workspace.db"), { workers: 1 });
  backend = new SdkBackend(
    {
      subscriptionId: ids.subscriptionId,
      resourceGroup: ids.resourceGroup,
      workspaceName: ids.workspaceName,
      workspaceId: ids.workspaceId,
    },
    createLocalClients(ws),
  );
}, 60_000);

afterAll(async () => {
  await pool?.close();
  await ws?.close();
});

describe("previewRuleImpact on a local workspace (engine-slide)", () => {
  it("replays the rule run by run in a query pool worker", async () => {
    const p = await previewRuleImpact(dir, rule(), { now: END, pool: pool! });
    expect(p).toMatchObject({
      method: "engine-slide",
      runs: 168,
      fired: 1,
      firings: [{ runTime: new Date(END - 2 * H).toISOString(), count: 4 }],
      reads: { tables: ["SigninLogs"], storedFunctions: [] },
      frequency: "PT1H",
      period: "PT1H",
      window: { from: new Date(END - 168 * H).toISOString(), to: new Date(END).toISOString() },
    });
    expect(p.caveat).toBeUndefined();
    // The sample is the firing run's rows, serialised as the query API does.
    const s = p.sample!;
    expect(s.runTime).toBe(new Date(END - 2 * H).toISOString());
    const tg = s.columns.findIndex((c) => c.name === "TimeGenerated");
    expect(s.rows.map((r) => r[tg])).toEqual([10, 8, 5, 1].map((m) => new Date(END - 2 * H - m * M).toISOString()));
  });

  it("overlapping windows, other operators, and a one-off pool when no running workspace is given", async () => {
    const p = await previewRuleImpact(dir, rule({ queryPeriod: "PT2H" }), { now: END });
    expect(p.firings).toEqual([
      { runTime: new Date(END - H).toISOString(), count: 4 },
      { runTime: new Date(END - 2 * H).toISOString(), count: 4 },
      { runTime: new Date(END - 4 * H).toISOString(), count: 2 },
    ]);
    // Equal 1 with PT1H: the END-5h run ([END-6h, END-5h) holds 5h+1m) and END-4h (5h-1m), END-71h (72h).
    const eq = await previewRuleImpact(dir, rule({ triggerOperator: "Equal" }), { now: END, pool: pool! });
    expect(eq.firings.map((f) => (END - Date.parse(f.runTime)) / H)).toEqual([4, 5, 72 - 1]);
    expect(eq.fired).toBe(3);
  });

  it("now() inside the query follows each run", async () => {
    const p = await previewRuleImpact(
      dir,
      rule({
        query: `SigninLogs | where UserPrincipalName == "${USER}" and TimeGenerated > ago(5m)`,
        queryPeriod: "PT2H",
        triggerThreshold: 0,
      }),
      { now: END, pool: pool! },
    );
    // Only the runs at END-2h (END-2h-1m) and END-5h (END-5h-1m) see a sign-in in their last 5 minutes; with the
    // run's own window alone (no ago) every run holding any of them would fire.
    expect(p.firings).toEqual([
      { runTime: new Date(END - 2 * H).toISOString(), count: 1 },
      { runTime: new Date(END - 5 * H).toISOString(), count: 1 },
    ]);
  });

  it("a 7-day slide at PT5M is one request; its time limit terminates it", async () => {
    const started = performance.now();
    const p = await previewRuleImpact(dir, rule({ queryFrequency: "PT5M" }), { now: END, pool: pool! });
    const ms = performance.now() - started;
    expect(p.runs).toBe(2016);
    // The newest firing: [END-2h5m, END-65m) holds 2h5m and 2h1m; the 11 runs at END-70m … END-2h hold all 4.
    expect(p.firings[0]).toEqual({ runTime: new Date(END - 65 * M).toISOString(), count: 2 });
    expect(p.firings.filter((f) => f.count === 4).map((f) => (END - Date.parse(f.runTime)) / M)).toEqual([
      70, 75, 80, 85, 90, 95, 100, 105, 110, 115, 120,
    ]);
    console.log(`7-day PT5M slide over the seeded workspace: ${p.runs} runs in ${ms.toFixed(0)} ms`);
    // Many cheap runs: the slide stops itself between runs at its deadline (the worker survives). Each run must stay
    // well under the 5 % margin before the hard limit (100 ms of 2 s) even on a loaded machine, so runs are small.
    const slow = `range x from 1 to 3000 step 1 | where hash_sha256(tostring(x)) == "no"`;
    const terminated = pool!.stats().terminated;
    const soft = await previewRuleImpact(dir, rule({ query: slow, queryFrequency: "PT5M" }), {
      now: END,
      pool: pool!,
      timeoutSeconds: 2,
    }).catch((e: unknown) => e);
    expect(soft).toBeInstanceOf(BackendError);
    expect((soft as BackendError).failure).toBe("timeout");
    expect(pool!.stats().terminated).toBe(terminated);
    // One run longer than the limit: the pool terminates the worker.
    const runaway = `range x from 1 to 1000000 step 1 | where ${"hash_sha256(".repeat(12)}tostring(x)${")".repeat(12)} == "no"`;
    const hard = await previewRuleImpact(dir, rule({ query: runaway }), {
      now: END,
      pool: pool!,
      timeoutSeconds: 1,
    }).catch((e: unknown) => e);
    expect((hard as BackendError).failure).toBe("timeout");
    expect(pool!.stats().terminated).toBe(terminated + 1);
  }, 30_000);

  it("an unknown directory or a bad schedule is refused before anything runs", async () => {
    await expect(previewRuleImpact(join(dir, "nope"), rule())).rejects.toThrow(/no local workspace/);
    await expect(previewRuleImpact(dir, rule({ queryFrequency: "PT1M" }))).rejects.toThrow(RangeError);
    await expect(previewRuleImpact(dir, rule({ queryPeriod: "P15D" }))).rejects.toThrow(RangeError);
  });
});

describe("previewRuleImpact against a Sentinel backend (single-query-client-slide)", () => {
  it("one queryLogs over 7 days + period, windows slid over its TimeGenerated (real SDK path to the workspace)", async () => {
    const now = Date.now();
    const calls: string[] = [];
    const spy = new Proxy(backend, {
      get(t, k) {
        if (k === "queryLogs")
          return (q: string, ts: string, o: unknown) => {
            calls.push(ts);
            return t.queryLogs(q, ts, o as never);
          };
        return Reflect.get(t, k);
      },
    });
    const p = await previewRuleImpact(spy, rule(), { now });
    expect(calls).toEqual(["P7DT1H"]);
    expect(p.method).toBe("single-query-client-slide");
    expect(p.caveat).toBe(CLIENT_SLIDE_CAVEAT);
    // END was taken before `now`; the burst's window relative to `now` still holds all 4 (they span 9 minutes and
    // the runs are on the hour from now).
    expect(p.runs).toBe(168);
    expect(p.fired).toBeGreaterThanOrEqual(1);
    expect(p.firings.reduce((n, f) => n + f.count, 0)).toBeGreaterThanOrEqual(4);
    expect(p.sample?.rows.length).toBeGreaterThan(1);
  }, 30_000);

  it("no TimeGenerated in the output: unavailable, with the reason", async () => {
    const p = await previewRuleImpact(
      backend,
      rule({ query: "SigninLogs | summarize n = count() by UserPrincipalName" }),
    );
    expect(p).toMatchObject({ method: "unavailable", fired: 0, firings: [] });
    expect(p.reason).toMatch(/no TimeGenerated column/);
  }, 30_000);

  it("client-side slicing, hand-checked over a fake queryLogs", async () => {
    const end = Date.parse("2026-03-01T12:00:00Z");
    const rows: unknown[][] = [
      [new Date(end - 30 * M).toISOString(), "a"],
      [new Date(end - 70 * M).toISOString(), "b"],
      [new Date(end - 60 * M).toISOString(), "c"], // run 0's window start: in run 0, not run 1
      [end - 61 * M, "d"], // epoch ms also read
      [null, "e"],
      [new Date(end).toISOString(), "f"], // the newest run's end: in no window
    ];
    let asked = "";
    const fake = {
      ids: { subscriptionId: "s", resourceGroup: "g", workspaceName: "w", workspaceId: "i" },
      queryLogs: async (_q: string, ts: string): Promise<QueryTable> => {
        asked = ts;
        return {
          columns: [
            { name: "TimeGenerated", type: "datetime" },
            { name: "X", type: "string" },
          ],
          rows,
        };
      },
    } as unknown as SentinelBackend;
    const p = await previewRuleImpact(fake, rule({ queryPeriod: "PT1H", triggerThreshold: 0 }), {
      now: end,
      lookback: "PT3H",
    });
    expect(asked).toBe("PT4H");
    expect(p.firings).toEqual([
      { runTime: new Date(end).toISOString(), count: 2 },
      { runTime: new Date(end - H).toISOString(), count: 2 },
    ]);
    expect(p.sample?.rows).toEqual([rows[0], rows[2]]);
    const lt = await previewRuleImpact(fake, rule({ triggerOperator: "LessThan", triggerThreshold: 1 }), {
      now: end,
      lookback: "PT3H",
    });
    expect(lt.firings).toEqual([{ runTime: new Date(end - 2 * H).toISOString(), count: 0 }]);
    expect(lt.sample?.rows).toEqual([]);
  });

  it("durations for the query API", () => {
    expect([duration(7 * 24 * H + H), duration(90 * M), duration(1500), duration(0)]).toEqual([
      "P7DT1H",
      "PT1H30M",
      "PT2S",
      "PT0S",
    ]);
  });
});
