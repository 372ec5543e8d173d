// A vitest reporter for CI that makes a hung test visible instead of silent. A test whose worker blocks its event loop
// (a synchronous loop, a native call that never returns) is never timed out by vitest, and the run then waits until
// CI's own limit kills it with nothing said. This reporter, in the main process, keeps:
// - the test files and tests running now, with their start times, and prints each one that runs past
//   GSMCP_WATCHDOG_SECONDS (once). Files are the reliable signal: a blocked worker may never send its tests' start;
// - a state file (GSMCP_WATCHDOG_FILE) rewritten on every change: counts so far and the tests still running, so that
//   .ci/run, when its time budget for the test phase ends, can name what hung and still print "N passed, N failed".
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";

interface Running {
  name: string;
  since: number;
  warned: boolean;
}

export interface WatchdogState {
  passed: number;
  failed: number;
  skipped: number;
  /** Test files that finished (passed or not). */
  finishedFiles: string[];
  /** Test files started and not finished, with how long they have run. */
  runningFiles: { file: string; seconds: number }[];
  /** Tests started and not finished, with how long they have run. */
  runningTests: { test: string; seconds: number }[];
  updatedAt: string;
}

export default class WatchdogReporter implements Reporter {
  private readonly limitMs = Number(process.env.GSMCP_WATCHDOG_SECONDS ?? 300) * 1000;
  private readonly stateFile = process.env.GSMCP_WATCHDOG_FILE;
  private readonly tests = new Map<string, Running>();
  private readonly files = new Map<string, Running>();
  private readonly finished: string[] = [];
  private passed = 0;
  private failed = 0;
  private skipped = 0;
  private timer: NodeJS.Timeout | undefined;

  onTestRunStart(): void {
    this.timer = setInterval(() => this.check(), 15_000);
    this.timer.unref();
    this.save();
  }

  onTestModuleStart(m: TestModule): void {
    this.files.set(m.moduleId, { name: relative(process.cwd(), m.moduleId), since: Date.now(), warned: false });
    this.save();
  }

  onTestModuleEnd(m: TestModule): void {
    this.files.delete(m.moduleId);
    this.finished.push(relative(process.cwd(), m.moduleId));
    // A file that failed to load has no test results: count it once as a failure.
    if (m.state() === "failed" && [...m.children.allTests()].length === 0) this.failed++;
    this.save();
  }

  onTestCaseReady(t: TestCase): void {
    this.tests.set(t.id, {
      name: `${relative(process.cwd(), t.module.moduleId)} > ${t.fullName}`,
      since: Date.now(),
      warned: false,
    });
    this.save();
  }

  onTestCaseResult(t: TestCase): void {
    this.tests.delete(t.id);
    const state = t.result().state;
    if (state === "passed") this.passed++;
    else if (state === "failed") this.failed++;
    else this.skipped++;
    this.save();
  }

  onTestRunEnd(): void {
    if (this.timer) clearInterval(this.timer);
    this.save();
  }

  private check(): void {
    const now = Date.now();
    for (const r of [...this.files.values(), ...this.tests.values()]) {
      if (r.warned || now - r.since < this.limitMs) continue;
      r.warned = true;
      console.error(`watchdog: still running after ${Math.round((now - r.since) / 1000)} s: ${r.name}`);
    }
    this.save();
  }

  private save(): void {
    if (!this.stateFile) return;
    const now = Date.now();
    const state: WatchdogState = {
      passed: this.passed,
      failed: this.failed,
      skipped: this.skipped,
      finishedFiles: this.finished,
      runningFiles: [...this.files.values()].map((r) => ({
        file: r.name,
        seconds: Math.round((now - r.since) / 1000),
      })),
      runningTests: [...this.tests.values()].map((r) => ({
        test: r.name,
        seconds: Math.round((now - r.since) / 1000),
      })),
      updatedAt: new Date(now).toISOString(),
    };
    writeFileSync(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }
}
