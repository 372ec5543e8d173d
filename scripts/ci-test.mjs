#!/usr/bin/env node
// The test phase of .ci/run: `npm test` under a time budget, ending with the plain line "N passed, N failed".
//
// A test that blocks its worker's event loop is never timed out by vitest, and one CI run hung that way until CI's
// 90-minute limit, silently. Here the watchdog reporter (test/helpers/watchdog-reporter.ts) keeps a state file of the
// files still running; when the budget ends:
//   1. the run is stopped, and the files that had not finished are named (with the tests running in them, when their
//      worker said so before it blocked);
//   2. those files are run once more, one at a time, in a fresh vitest with their own budget. The hang is never
//      hidden: it is printed above the counts, and a file that does not pass its second run counts as failed.
//
// Environment: GSMCP_TEST_PHASE_SECONDS (budget of the whole run, default 1800), GSMCP_TEST_RERUN_SECONDS (budget of
// the second run, default 600). Exit code 0 when everything passed, 1 otherwise.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const CI_DIR = ".ci";
const budget = Number(process.env.GSMCP_TEST_PHASE_SECONDS ?? 1800);
const rerunBudget = Number(process.env.GSMCP_TEST_RERUN_SECONDS ?? 600);
const WATCHDOG = ["--reporter=./test/helpers/watchdog-reporter.ts"];

/** Runs `npm test -- ARGS` in its own process group under a budget; resolves with its exit code or "timeout". */
function runVitest(args, seconds, stateFile, jsonFile) {
  rmSync(stateFile, { force: true });
  rmSync(jsonFile, { force: true });
  const child = spawn(
    "npm",
    ["test", "--", "--reporter=default", "--reporter=json", `--outputFile=${jsonFile}`, ...WATCHDOG, ...args],
    {
      stdio: "inherit",
      detached: true,
      env: { ...process.env, GSMCP_WATCHDOG_FILE: stateFile },
    },
  );
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      printProcesses(child.pid);
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => killGroup(child.pid, "SIGKILL"), 10_000).unref();
      resolve("timeout");
    }, seconds * 1000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * The run's processes when its budget ended (vitest, its workers "node (vitest N)", the servers and CLIs tests
 * started): state R with high CPU is a loop that never yields, S a wait on something that never answered.
 */
function printProcesses(groupLeader) {
  const ps = spawnSync("ps", ["-eo", "pid=,ppid=,pgid=,stat=,etimes=,pcpu=,rss=,args="], { encoding: "utf8" });
  console.log("\n== test phase: processes of the run when its budget ended (pid ppid stat seconds %cpu rss command)");
  for (const line of (ps.stdout ?? "").split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!m || Number(m[3]) !== groupLeader) continue;
    console.log(`   ${m[1]} ${m[2]} ${m[4]} ${m[5]} ${m[6]} ${m[7]} ${m[8].slice(0, 160)}`);
  }
}

/** Every test file vitest runs (the include pattern of vitest.config.ts), relative to the repo. */
function testFiles() {
  const named = process.argv.slice(2).filter((a) => a.endsWith(".test.ts"));
  if (named.length) return named;
  return readdirSync("test", { recursive: true })
    .map((f) => join("test", String(f)))
    .filter((f) => f.endsWith(".test.ts"))
    .sort();
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** Counts from vitest's JSON report. */
function countsOf(json) {
  return { passed: json.numPassedTests, failed: json.numFailedTests || json.numFailedTestSuites || 0 };
}

const first = await runVitest(
  process.argv.slice(2),
  budget,
  join(CI_DIR, "watchdog.json"),
  join(CI_DIR, "vitest.json"),
);
let passed;
let failed;
if (first !== "timeout") {
  const json = readJson(join(CI_DIR, "vitest.json"));
  if (!json || json.numTotalTests === 0) {
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  ({ passed, failed } = countsOf(json));
  if (first !== 0) failed = Math.max(failed, 1);
} else {
  const state = readJson(join(CI_DIR, "watchdog.json")) ?? {
    passed: 0,
    failed: 0,
    finishedFiles: [],
    runningTests: [],
  };
  const done = new Set(state.finishedFiles);
  // Not finished: the files running when the run was stopped, and any never started (both workers blocked).
  const unfinished = testFiles().filter((f) => !done.has(f));
  console.log(`\n== test phase: stopped after ${budget} s; files that had not finished (run again below):`);
  for (const t of state.runningTests) console.log(`   still running (${t.seconds} s): ${t.test}`);
  for (const f of unfinished) console.log(`   not finished: ${f}`);
  passed = state.passed;
  failed = state.failed;
  if (unfinished.length === 0) {
    // Every file finished and reported: vitest itself did not exit (a worker or handle it waits on). The counts are
    // complete; the hang is printed below.
    console.log("== every test file finished; vitest did not exit");
  } else {
    // One file at a time: a hang that came from two files running together does not repeat.
    const second = await runVitest(
      ["--no-file-parallelism", ...unfinished],
      rerunBudget,
      join(CI_DIR, "watchdog-rerun.json"),
      join(CI_DIR, "vitest-rerun.json"),
    );
    const json = second === "timeout" ? undefined : readJson(join(CI_DIR, "vitest-rerun.json"));
    if (!json) {
      console.log(`== second run: ${second === "timeout" ? "hung again" : "no report"}; each unfinished file fails`);
      failed += unfinished.length;
    } else {
      const c = countsOf(json);
      console.log(`== second run of the unfinished files: ${c.passed} passed, ${c.failed} failed`);
      passed += c.passed;
      failed += c.failed;
    }
  }
  console.log(`== test phase: the first run did not finish: ${unfinished.join(", ") || "vitest's own shutdown"}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
