import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ProgressPhase } from "../../src/governance/pipeline.js";
import { PROGRESS_TIMING, type ProgressNote, ProgressReporter } from "../../src/server/progress.js";

// The rate limit of notifications/progress, over any sequence of phase reports (virtual time: fake timers).

const PHASES: ProgressPhase[] = ["analysing", "waiting for approval", "running", "rows"];
const { quietMs, minIntervalMs, heartbeatMs } = PROGRESS_TIMING;

describe("ProgressReporter", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never floods, never speaks first within the quiet period or after close, and delivers the latest phase", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ after: fc.integer({ min: 0, max: 3000 }), phase: fc.constantFrom(...PHASES) }), {
          maxLength: 40,
        }),
        fc.integer({ min: 0, max: 20_000 }),
        (updates, closeAfter) => {
          vi.setSystemTime(0);
          // Sends and reports in the order they happened (several may share a millisecond).
          const sent: (ProgressNote & { at: number; told: number })[] = [];
          const told: { at: number; phase: ProgressPhase }[] = [];
          const r = new ProgressReporter(
            (n) => sent.push({ ...n, at: Date.now(), told: told.length }),
            PROGRESS_TIMING,
            () => Date.now(),
          );
          for (const u of updates) {
            vi.advanceTimersByTime(u.after);
            told.push({ at: Date.now(), phase: u.phase });
            r.update(u.phase);
          }
          vi.advanceTimersByTime(closeAfter);
          const closedAt = Date.now();
          r.close();
          vi.advanceTimersByTime(60_000);

          for (const [i, n] of sent.entries()) {
            expect(n.progress).toBe(i + 1);
            expect(n.at).toBeGreaterThanOrEqual(quietMs);
            expect(n.at).toBeLessThanOrEqual(closedAt);
            if (i > 0) expect(n.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(minIntervalMs);
            // What is said is the phase the call is in at that moment.
            expect(n.message.startsWith(told[n.told - 1]!.phase)).toBe(true);
          }
          // A report of the phase the call is already in says nothing new (the heartbeat covers it).
          const changes = told.map((t, j) => j === 0 || told[j - 1]!.phase !== t.phase);
          const changedBetween = (a: number, b: number) => changes.slice(a, b).some(Boolean);
          // Liveness: the last phase is delivered when the call lasts long enough for the rate limit.
          const k = changes.lastIndexOf(true) + 1;
          if (k > 0) {
            const at = told[k - 1]!.at;
            const sentBefore = sent.filter((n) => n.told < k).at(-1)?.at ?? Number.NEGATIVE_INFINITY;
            if (closedAt >= Math.max(at, quietMs, sentBefore + minIntervalMs))
              expect(sent.some((n) => n.told >= k && n.message.startsWith(told[k - 1]!.phase))).toBe(true);
          }
          // A phase that lasts is repeated exactly at the heartbeat (a change in between resets it).
          for (let i = 1; i < sent.length; i++)
            if (!changedBetween(sent[i - 1]!.told, sent[i]!.told))
              expect(sent[i]!.at - sent[i - 1]!.at).toBe(heartbeatMs);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("says how long a phase has lasted in its heartbeats", () => {
    const sent: ProgressNote[] = [];
    const r = new ProgressReporter(
      (n) => sent.push(n),
      PROGRESS_TIMING,
      () => Date.now(),
    );
    r.update("waiting for approval", "approval apr_1 is asked in your client");
    vi.advanceTimersByTime(quietMs + 2 * heartbeatMs);
    r.close();
    expect(sent.map((n) => n.message)).toEqual([
      "waiting for approval: approval apr_1 is asked in your client (1 s)",
      "waiting for approval: approval apr_1 is asked in your client (6 s)",
      "waiting for approval: approval apr_1 is asked in your client (11 s)",
    ]);
  });
});
