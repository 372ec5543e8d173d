import { describe, expect, it } from "vitest";
import { executeKql, KqlError } from "../../src/kql/index.js";
import {
  fires,
  runCount,
  SlideDeadlineError,
  type SlideOptions,
  slideRule,
  type TriggerOperator,
} from "../../src/kql/slide.js";
import type { KqlDataSource, KqlTable, KqlValue } from "../../src/kql/types.js";

const M = 60_000;
const H = 60 * M;
const END = Date.parse("2026-03-01T12:00:00Z");

/** One event table; `at` are offsets before END (ms). Expected answers below are counted by hand. */
function source(at: number[], extra: KqlValue[][] = []): KqlDataSource {
  const t: KqlTable = {
    name: "Events",
    columns: [
      { name: "TimeGenerated", type: "datetime" },
      { name: "Kind", type: "string" },
      { name: "N", type: "long" },
    ],
    rows: [...at.map((d, i) => [END - d, "burst", i] as KqlValue[]), ...extra],
  };
  const meta: KqlTable = { name: "Meta", columns: [{ name: "Name", type: "string" }], rows: [["a"], ["b"]] };
  return {
    table: (n) => (n === "Events" ? t : n === "Meta" ? meta : undefined),
    tableNames: () => ["Events", "Meta"],
    storedFunction: (n) => (n === "Bursts" ? "Events | where Kind == 'burst'" : undefined),
  };
}

const hourly: Omit<SlideOptions, "operator" | "threshold"> = {
  end: END,
  lookbackMs: 24 * H,
  frequencyMs: H,
  periodMs: H,
  sampleSize: 10,
};
const gt = (threshold: number) => ({ ...hourly, operator: "GreaterThan" as const, threshold });

describe("slideRule: schedule and windows", () => {
  it("runs at end - k·frequency while after end - lookback", () => {
    expect(runCount(24 * H, H)).toBe(24);
    expect(runCount(7 * 24 * H, 5 * M)).toBe(2016);
    expect(runCount(60 * M, 25 * M)).toBe(3); // t = end, end-25m, end-50m
    expect(slideRule("Events", source([]), gt(0)).runs).toBe(24);
  });

  it("a burst inside one window fires only the run whose window holds it", () => {
    const r = slideRule("Events", source([90 * M, 91 * M, 95 * M]), gt(2));
    expect(r).toMatchObject({ runs: 24, fired: 1, firings: [{ runTime: END - H, count: 3 }] });
    expect(r.sample?.runTime).toBe(END - H);
    expect(r.sample?.rows.map((x) => x[2])).toEqual([0, 1, 2]);
  });

  it("window start is inclusive, end exclusive; nothing before the first window is seen", () => {
    // END itself is outside run 0 ([END-1h, END)); END-1h is in run 0, not run 1; END-24h is in the last run (k=23);
    // END-24h-1ms is before every window.
    const r = slideRule("Events", source([0, H, 24 * H, 24 * H + 1]), gt(0));
    expect(r.firings).toEqual([
      { runTime: END, count: 1 },
      { runTime: END - 23 * H, count: 1 },
    ]);
  });

  it("a burst across a run boundary: split by 1h windows, whole in an overlapping 2h window", () => {
    const at = [61 * M, 59 * M];
    expect(slideRule("Events", source(at), gt(1)).fired).toBe(0);
    const r = slideRule("Events", source(at), { ...gt(1), periodMs: 2 * H });
    // run 0 [END-2h, END): both; run 1 [END-3h, END-1h): only END-61m.
    expect(r.firings).toEqual([{ runTime: END, count: 2 }]);
  });

  it("overlapping windows count an event in every run that sees it", () => {
    const r = slideRule("Events", source([30 * M, 90 * M, 150 * M]), { ...gt(0), periodMs: 2 * H });
    expect(r.firings).toEqual([
      { runTime: END, count: 2 },
      { runTime: END - H, count: 2 },
      { runTime: END - 2 * H, count: 1 },
    ]);
    expect(r.sample?.rows.map((x) => x[0])).toEqual([END - 30 * M, END - 90 * M]);
  });

  it("each trigger operator", () => {
    // Counts per run over 4 hourly runs: [2, 1, 0, 0].
    const src = source([10 * M, 20 * M, 70 * M]);
    const go = (operator: TriggerOperator, threshold: number) =>
      slideRule("Events", src, { ...hourly, lookbackMs: 4 * H, operator, threshold });
    expect(go("GreaterThan", 0).firings.map((f) => f.count)).toEqual([2, 1]);
    expect(go("GreaterThan", 1).fired).toBe(1);
    expect(go("LessThan", 1).firings.map((f) => f.runTime)).toEqual([END - 2 * H, END - 3 * H]);
    expect(go("LessThan", 3).fired).toBe(4);
    expect(go("Equal", 1).firings).toEqual([{ runTime: END - H, count: 1 }]);
    expect(go("Equal", 0).fired).toBe(2);
    expect(go("NotEqual", 0).fired).toBe(2);
    expect(go("NotEqual", 2).fired).toBe(3);
    // A run that fires on no rows has an empty sample.
    expect(go("LessThan", 1).sample).toMatchObject({ runTime: END - 2 * H, rows: [] });
    expect([fires(3, "GreaterThan", 3), fires(3, "Equal", 3), fires(2, "LessThan", 3)]).toEqual([false, true, true]);
  });

  it("now() and ago() follow the run time, in the body and in lets", () => {
    // period 2h, but the query narrows to the last 30 minutes before its own now(): END-80m is seen by run 1 only
    // (END-1h: ago(30m) = END-90m < END-80m); run 0 has ago(30m) = END-30m.
    const src = source([80 * M]);
    const opts = { ...gt(0), periodMs: 2 * H };
    expect(slideRule("Events | where TimeGenerated > ago(30m)", src, opts).firings).toEqual([
      { runTime: END - H, count: 1 },
    ]);
    expect(slideRule("let since = ago(30m); Events | where TimeGenerated > since", src, opts).fired).toBe(1);
    const r = slideRule("Events | extend At = now(), Age = now() - TimeGenerated", src, opts);
    expect(r.sample?.rows[0]?.slice(3)).toEqual([END, 80 * M]);
    const p = slideRule("print t = now()", source([]), { ...gt(0), lookbackMs: 3 * H });
    expect(p.firings.map((f) => f.runTime)).toEqual([END, END - H, END - 2 * H]);
    expect(p.sample?.rows).toEqual([[END]]);
  });

  it("every path to a table is bounded to the run's window: lets, stored functions, union, join", () => {
    const src = source([30 * M, 90 * M]);
    for (const q of [
      "let E = Events; E",
      "Bursts",
      "union Events, (Events | where N < 0)",
      "Events | join kind=inner (Events | project N) on N",
    ]) {
      const r = slideRule(q, src, { ...gt(0), lookbackMs: 3 * H });
      expect(r.firings, q).toEqual([
        { runTime: END, count: 1 },
        { runTime: END - H, count: 1 },
      ]);
    }
    expect(slideRule("Bursts", src, gt(0)).reads).toEqual({ tables: ["Events"], storedFunctions: ["Bursts"] });
    // A table without TimeGenerated is not time-bounded (as with the API's timespan): 2 rows every run.
    expect(slideRule("Meta", src, { ...gt(1), lookbackMs: 2 * H }).fired).toBe(2);
  });

  it("equals evaluating every run on its own, for unsorted tables and order-sensitive queries", () => {
    // A pseudo-random table (LCG), rows out of time order, duplicate times and a null time.
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const at = Array.from({ length: 400 }, () => Math.floor(rnd() * 30) * 10 * M);
    const src = source(at, [[null, "burst", -1]]);
    const opts: SlideOptions = { ...gt(2), lookbackMs: 6 * H, periodMs: 90 * M, frequencyMs: 20 * M };
    for (const q of [
      "Events | take 5",
      "Events | where N % 3 == 0",
      "Events | summarize c = count() by bin(TimeGenerated, 30m)",
    ]) {
      const r = slideRule(q, src, { ...opts, sampleSize: 1000 });
      const naive: { runTime: number; count: number; rows: KqlValue[][] }[] = [];
      for (let k = 0; k < runCount(opts.lookbackMs, opts.frequencyMs); k++) {
        const t = END - k * opts.frequencyMs;
        const res = executeKql(q, src, { now: t, timespan: { start: t - opts.periodMs, end: t } });
        if (res.rows.length > 2) naive.push({ runTime: t, count: res.rows.length, rows: res.rows });
      }
      expect(naive.length, q).toBeGreaterThan(0);
      expect(r.firings, q).toEqual(naive.map(({ runTime, count }) => ({ runTime, count })));
      expect(r.sample?.rows, q).toEqual(naive[0]?.rows);
    }
  });
});

describe("slideRule: bounds", () => {
  it("caps the sample and the firings list, not the count", () => {
    const src = source([10 * M, 11 * M, 12 * M, 13 * M]);
    const r = slideRule("Events", src, { ...gt(-1), sampleSize: 2, maxFirings: 5 });
    expect(r.fired).toBe(24);
    expect(r.firings).toHaveLength(5);
    expect(r.sample?.rows).toHaveLength(2);
  });

  it("keeps the engine's row limits per run", () => {
    expect(() => slideRule("range x from 1 to 100 step 1", source([]), { ...gt(0), maxIntermediateRows: 10 })).toThrow(
      KqlError,
    );
    expect(() => slideRule("Events", source([1, 2, 3]), { ...gt(0), maxResultRows: 2 })).toThrow(/over the limit/);
  });

  it("parses once: a syntax error is thrown before any run", () => {
    expect(() => slideRule("Events | where", source([]), gt(0))).toThrow(KqlError);
  });

  it("refuses schedules that are not schedules", () => {
    expect(() => slideRule("Events", source([]), { ...gt(0), frequencyMs: 0 })).toThrow(RangeError);
    expect(() => slideRule("Events", source([]), { ...gt(0), frequencyMs: 1 })).toThrow(/runs, over the limit/);
    expect(() => slideRule("Events", source([]), { ...gt(0), operator: "Above" as TriggerOperator })).toThrow(
      /operator/,
    );
  });

  it("stops at its deadline between runs, with nothing partial", () => {
    expect(() => slideRule("Events", source([]), { ...gt(0), deadline: Date.now() - 1 })).toThrow(SlideDeadlineError);
    const heavy = 'range x from 1 to 3000 step 1 | where hash_sha256(tostring(x)) == "no"';
    const started = Date.now();
    let err: unknown;
    try {
      slideRule(heavy, source([]), { ...gt(0), lookbackMs: 7 * 24 * H, frequencyMs: 5 * M, deadline: started + 100 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlideDeadlineError);
    const d = err as SlideDeadlineError;
    expect(d.runs).toBe(2016);
    expect(d.runsEvaluated).toBeGreaterThan(0);
    expect(d.runsEvaluated).toBeLessThan(2016);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a 7-day slide at PT5M over 20,000 rows stays fast", () => {
    const at = Array.from({ length: 20_000 }, (_, i) => (i * 7 * 24 * H) / 20_000);
    const src = source(at.reverse());
    const started = performance.now();
    const r = slideRule("Events | where N % 1000 == 0", src, {
      ...gt(0),
      lookbackMs: 7 * 24 * H,
      frequencyMs: 5 * M,
    });
    const ms = performance.now() - started;
    expect(r.runs).toBe(2016);
    // 20 matching rows, 8.4 h apart; a 1h window every 5 minutes holds each in 12 runs.
    expect(r.fired).toBe(240);
    expect(ms).toBeLessThan(5000);
  });
});
