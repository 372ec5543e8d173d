import { describe, expect, it } from "vitest";
import {
  type DetectionRule,
  detectionSource,
  replayDetection,
  shortDurationMs,
} from "../../src/telemetry/detections.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { alertsOver, CASES, DELAY, ev, MIN, place, prng, rule, spread as spreadIn } from "./harness.js";

// Window semantics, as a property: an attack placed anywhere — its start slid across the whole window and the run
// schedule in small steps, every event arriving with its own ingestion delay (up to the rule's expected delay), judged
// by consecutive scheduled runs that each see only what had arrived by then — raises exactly one alert; two separate
// bursts raise two; the same traffic at 90 % of the threshold raises none. Also used on events recorded from attacks
// driven through the real server (detections.test.ts).

describe("window semantics: one alert per burst, wherever it falls", () => {
  const T0 = Date.parse("2026-06-01T00:00:00Z");
  const tally: Record<string, { placements: number; runs: number }> = {};

  it.each(CASES)(
    "$file: every placement over the window and the run schedule alerts exactly once; 90 % is quiet",
    (c) => {
      const r = rule(c.file);
      const f = shortDurationMs(r.queryFrequency);
      const rand = prng(c.file.length * 7919);
      // Starts slid across a whole run period plus a whole window, in steps of a 16th of the smaller of the two.
      const step = Math.min(f, c.window) / 16;
      const failures: string[] = [];
      let placements = 0;
      let runs = 0;
      for (let s = T0; s < T0 + f + c.window; s += step) {
        const delay = () => Math.floor(rand() * DELAY);
        const attack = place(c.attack(rand), s);
        const got = alertsOver(r, attack, { from: s, to: s + c.window }, { delay });
        placements++;
        runs += got.runs;
        if (got.alerts !== 1) failures.push(`start +${(s - T0) / 1000}s: ${got.alerts} alerts`);
        const benign = place(c.benign(rand), s);
        const quiet = alertsOver(r, benign, { from: s, to: s + c.window }, { delay });
        runs += quiet.runs;
        if (quiet.alerts !== 0) failures.push(`benign at +${(s - T0) / 1000}s: ${quiet.alerts} alerts`);
      }
      tally[c.file] = { placements, runs };
      expect(failures).toEqual([]);
      expect(placements).toBeGreaterThanOrEqual(16);
    },
  );

  it.each(CASES)("$file: two bursts apart alert twice, and a burst twice as long still once", (c) => {
    const r = rule(c.file);
    const rand = prng(11);
    for (let k = 0; k < 6; k++) {
      const s = T0 + Math.floor(rand() * 30 * MIN);
      const gap = 2 * c.window + Math.floor(rand() * 10 * MIN);
      const events = [...place(c.attack(rand), s), ...place(c.attack(rand), s + gap)];
      const delay = () => Math.floor(rand() * DELAY);
      expect(alertsOver(r, events, { from: s, to: s + gap + c.window }, { delay }).alerts, `gap ${gap}`).toBe(2);
    }
    // A long burst: the threshold crossed again and again inside one continuous run of events is one alert.
    const dense = place(
      [
        ...c.attack(rand),
        ...c
          .attack(rand)
          .map((e) => ({ ...e, TimeGenerated: new Date(Date.parse(e.TimeGenerated) + c.window / 4).toISOString() })),
      ],
      T0,
    );
    expect(alertsOver(r, dense, { from: T0, to: T0 + 2 * c.window }).alerts).toBe(1);
  });

  it("call-rate spike (a per-agent threshold): 20 calls within any minute alert once wherever they fall; 18 do not", () => {
    const r = rule("agent-call-rate-spike.yaml");
    const rand = prng(20);
    const failures: string[] = [];
    let placements = 0;
    for (let s = T0; s < T0 + 6 * MIN; s += 15_000) {
      // An hour of 2 calls a minute before the burst: the agent's threshold is the floor, 20.
      const hist = Array.from({ length: 60 }, (_, m) => [s - (m + 2) * MIN, s - (m + 2) * MIN + 30_000]).flat();
      const call = (t: number) =>
        ev("ivan", t, { PolicyDecision: "ALLOW", ToolName: "sentinel_kql_query", ErrorCode: 0 });
      const burst = (n: number) => spreadIn(n, 0.95 * MIN * rand(), rand).map((t) => call(s + t));
      const delay = () => Math.floor(rand() * DELAY);
      const got = alertsOver(r, [...hist.map(call), ...burst(20)], { from: s, to: s + MIN }, { delay }).alerts;
      const quiet = alertsOver(r, [...hist.map(call), ...burst(18)], { from: s, to: s + MIN }, { delay }).alerts;
      placements++;
      if (got !== 1 || quiet !== 0) failures.push(`+${(s - T0) / 1000}s: ${got} and ${quiet} alerts`);
    }
    expect(failures).toEqual([]);
    expect(placements).toBe(24);
  });

  it("replayDetection (what `gsmcp demo` shows) agrees: one alert per burst, with its entity", () => {
    const rand = prng(77);
    for (const c of CASES) {
      const r = rule(c.file);
      const s = T0 + Math.floor(rand() * 10 * MIN);
      const burst = place(c.attack(rand), s);
      const replay = replayDetection(r, detectionSource(burst), { from: s, to: s + c.window });
      expect(replay.alerts, c.file).toBe(1);
      expect(replay.entities, c.file).toEqual([burst[0]!.AgentId]);
      expect(replayDetection(r, detectionSource(place(c.benign(rand), s)), { from: s, to: s + c.window }).fired).toBe(
        false,
      );
    }
  });

  it("the schedule's phase does not matter (runs at any offset of the clock)", () => {
    const c = CASES[0]!;
    const r = rule(c.file);
    const rand = prng(5);
    for (const phase of [0, 17_000, 59_000, 131_000, 299_000]) {
      const s = T0 + 40_000;
      expect(alertsOver(r, place(c.attack(rand), s), { from: s, to: s + c.window }, { phase }).alerts).toBe(1);
    }
  });

  it("a fixed-bin rule (the shipped rules before) misses or double-counts depending on placement; ours does not", () => {
    // The old blocked-tool rule grouped by bin(TimeGenerated, 1m): an attack straddling a minute boundary was missed.
    const old: DetectionRule = {
      ...rule("agent-blocked-tool-attempts.yaml"),
      query: [
        "AgentSecurityEvent",
        '| where EventType == "ToolInvocation" and PolicyDecision == "BLOCK" and ErrorCode != 401',
        "| summarize BlockedCalls = count() by AgentId, bin(TimeGenerated, 1m)",
        "| where BlockedCalls >= 3",
      ].join("\n"),
    };
    const straddling = place(
      [0, 20_000, 40_000].map((t) => ev("m", t)),
      T0 + 30_000,
    );
    expect(alertsOver(old, straddling, { from: T0, to: T0 + MIN * 2 }).alerts).not.toBe(1);
    expect(
      alertsOver(rule("agent-blocked-tool-attempts.yaml"), straddling, { from: T0, to: T0 + 2 * MIN }).alerts,
    ).toBe(1);
  });

  it("the property has teeth: without the delay, or without the slice, placements miss or repeat", () => {
    const base = rule("agent-blocked-tool-attempts.yaml");
    const noDelay = { ...base, query: base.query.replace("let Delay = 5m;", "let Delay = 0m;") };
    const noSlice = {
      ...base,
      query: base.query.replace("| where TimeGenerated >= ago(Frequency + Delay) and TimeGenerated < ago(Delay)\n", ""),
    };
    expect(noDelay.query).not.toBe(base.query);
    expect(noSlice.query).not.toBe(base.query);
    const rand = prng(3);
    const counts = { noDelay: new Set<number>(), noSlice: new Set<number>() };
    for (let s = T0; s < T0 + 6 * MIN; s += 7_500) {
      const attack = place(CASES[0]!.attack(rand), s);
      const delay = () => Math.floor(rand() * DELAY);
      counts.noDelay.add(alertsOver(noDelay, attack, { from: s, to: s + MIN }, { delay }).alerts);
      counts.noSlice.add(alertsOver(noSlice, attack, { from: s, to: s + MIN }, { delay }).alerts);
    }
    expect([...counts.noDelay].some((n) => n !== 1)).toBe(true);
    expect([...counts.noSlice].some((n) => n > 1)).toBe(true);
  });

  it("reports the numbers", () => {
    console.log(`window property: ${JSON.stringify(tally)}`);
  });
});

describe("checkpoint stream: stopped, shrunk or forked, once each", () => {
  const r = rule("agent-checkpoint-stream-stopped.yaml");
  const T0 = Date.parse("2026-06-01T00:00:00Z");
  const cp = (t: number, size: number, root = `sha256:${size}`) =>
    ev("-", t, {
      EventType: "Checkpoint",
      PolicyDecision: "LOG",
      ToolName: "-",
      ErrorCode: 0,
      Severity: 1,
      ToolParameters: { checkpoint: "note", origin: "gsmcp/receipts", tree_size: size, root_hash: root },
    });
  const calls = (from: number, to: number) => {
    const out: AgentSecurityEvent[] = [];
    for (let t = from; t < to; t += 30_000) out.push(ev("carol", t, { PolicyDecision: "ALLOW", ErrorCode: 0 }));
    return out;
  };
  const checkpoints = (from: number, to: number, size0: number) => {
    const out: AgentSecurityEvent[] = [];
    for (let t = from, n = size0; t < to; t += 10_000, n += 3) out.push(cp(t, n));
    return out;
  };
  const kinds = (events: AgentSecurityEvent[], from: number, to: number, delay?: () => number) => {
    const got = alertsOver(r, events, { from, to }, delay ? { delay } : {});
    return { alerts: got.alerts, runs: got.runs };
  };

  it("a healthy stream is quiet; a stop alerts once wherever it falls, with ingestion delay", () => {
    const rand = prng(8);
    const delay = () => Math.floor(rand() * DELAY);
    expect(
      kinds([...checkpoints(T0, T0 + 60 * MIN, 1), ...calls(T0, T0 + 60 * MIN)], T0, T0 + 60 * MIN, delay).alerts,
    ).toBe(0);
    // The stop slid across a whole run period (15 min) in 1-minute steps.
    for (let stop = T0 + 10 * MIN; stop < T0 + 26 * MIN; stop += MIN) {
      const events = [...checkpoints(T0, stop, 1), ...calls(T0, stop + 40 * MIN)];
      expect(kinds(events, T0, stop + 40 * MIN, delay).alerts, `stop at +${(stop - T0) / MIN} min`).toBe(1);
    }
  });

  it("stop, resume, stop again: two alerts; a pause without calls is not a stop", () => {
    const events = [
      ...checkpoints(T0, T0 + 10 * MIN, 1),
      ...calls(T0, T0 + 40 * MIN),
      ...checkpoints(T0 + 40 * MIN, T0 + 50 * MIN, 500),
      ...calls(T0 + 40 * MIN, T0 + 90 * MIN),
    ];
    expect(kinds(events, T0, T0 + 90 * MIN).alerts).toBe(2);
    const idle = [...checkpoints(T0, T0 + 10 * MIN, 1), ...calls(T0, T0 + 10 * MIN)];
    expect(kinds(idle, T0, T0 + 60 * MIN).alerts).toBe(0);
    // Idle for hours, then calls with no checkpoint at all: a stop, seen against the checkpoint hours before.
    const morning = [...idle, ...calls(T0 + 5 * 60 * MIN, T0 + 5 * 60 * MIN + 30 * MIN)];
    expect(kinds(morning, T0 + 4 * 60 * MIN, T0 + 6 * 60 * MIN).alerts).toBe(1);
  });

  it("a smaller checkpoint (rollback) or the same size with another root (fork) alerts once", () => {
    const base = [...checkpoints(T0, T0 + 10 * MIN, 100), ...calls(T0, T0 + 12 * MIN)];
    const shrunk = [...base, cp(T0 + 10 * MIN + 5_000, 50), ...checkpoints(T0 + 10 * MIN + 15_000, T0 + 12 * MIN, 51)];
    expect(kinds(shrunk, T0, T0 + 12 * MIN).alerts).toBe(1);
    const last = base.filter((e) => e.EventType === "Checkpoint").at(-1)!;
    const size = (last.ToolParameters as { tree_size: number }).tree_size;
    const forked = [...base, cp(T0 + 10 * MIN + 5_000, size, "sha256:other")];
    expect(kinds(forked, T0, T0 + 12 * MIN).alerts).toBe(1);
    const same = [...base, cp(T0 + 10 * MIN + 5_000, size)];
    expect(kinds(same, T0, T0 + 12 * MIN).alerts).toBe(0);
  });
});
