import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyStoredReceipts } from "../../src/cli/commands/receipts.js";
import { type ProgressReport, progressEnabled } from "../../src/cli/progress.js";
import { parseBundle, verifyBundle } from "../../src/receipts/verify-bundle.js";
import { seedWorkspace } from "../../src/workspace/index.js";
import { CLI, runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { gsmcpInProcess } from "./in-process.js";

const run = promisify(execFile);

// Progress bars for the long commands: drawn on a terminal (a pseudo-terminal from util-linux `script` here), on
// stderr only, and never when stderr is not a terminal, with --quiet, or under CI=true.

const SCRIPT = ["/usr/bin/script", "/bin/script"].find((p) => existsSync(p));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Any terminal control sequence: a bar draws with them; plain output has none. */
const ESC = "\x1b";

/** Runs `gsmcp ARGS` on a pseudo-terminal (stdout and stderr both the terminal, unless `redirect` sends stdout to a file). */
async function onTerminal(
  args: string[],
  env: Record<string, string | undefined> = {},
  redirect?: string,
): Promise<{ code: number; tty: string }> {
  const cmd = `${[process.execPath, CLI, ...args].map(q).join(" ")}${redirect ? ` > ${q(redirect)}` : ""}`;
  const e = { ...process.env, TERM: "xterm", ...env } as Record<string, string | undefined>;
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  try {
    const r = await run(SCRIPT!, ["-qfec", cmd, "/dev/null"], { env: e as NodeJS.ProcessEnv, maxBuffer: 64 << 20 });
    return { code: 0, tty: r.stdout };
  } catch (err) {
    const x = err as { code: number; stdout: string };
    return { code: x.code, tty: x.stdout };
  }
}

describe("progressEnabled", () => {
  it("only on a TTY, not TERM=dumb, not with --quiet, not under CI (any value but empty, 0, false)", () => {
    const tty = { isTTY: true };
    expect(progressEnabled({}, tty, {})).toBe(true);
    expect(progressEnabled({}, { isTTY: false }, {})).toBe(false);
    expect(progressEnabled({}, {}, {})).toBe(false);
    expect(progressEnabled({ quiet: true }, tty, {})).toBe(false);
    expect(progressEnabled({}, tty, { TERM: "dumb" })).toBe(false);
    for (const ci of ["true", "1", "yes", "TRUE"]) expect(progressEnabled({}, tty, { CI: ci })).toBe(false);
    for (const ci of ["", "0", "false"]) expect(progressEnabled({}, tty, { CI: ci })).toBe(true);
  });
});

/** Per phase: the reports in order; checks each phase's done never goes down and stays within its total. */
function byPhase(reports: ProgressReport[]): Map<string, ProgressReport[]> {
  const m = new Map<string, ProgressReport[]>();
  for (const r of reports) {
    const list = m.get(r.phase) ?? [];
    const last = list.at(-1);
    if (last) expect(r.done, `${r.phase} went back`).toBeGreaterThanOrEqual(last.done);
    expect(r.done).toBeLessThanOrEqual(r.total);
    list.push(r);
    m.set(r.phase, list);
  }
  return m;
}

describe("onProgress hooks count real work", () => {
  let h: TestHome;
  beforeAll(async () => {
    h = await makeHome();
    const s = await startSession(h, { job: "job-hooks" });
    try {
      for (let i = 0; i < 3; i++)
        await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    } finally {
      await s.close();
    }
  });

  it("workspace seed: 7 generators, then every stored log row, then entities; the data do not depend on it", async () => {
    const reports: ProgressReport[] = [];
    const dir = join(h.home, "workspace-fabrikam");
    const r = await seedWorkspace(dir, {
      seed: 5,
      size: 500,
      now: 1_700_000_000_000,
      onProgress: (p) => reports.push(p),
    });
    const phases = byPhase(reports);
    expect([...phases.keys()]).toEqual(["generating", "storing", "entities"]);
    expect(phases.get("generating")!.at(-1)).toEqual({ phase: "generating", done: 7, total: 7 });
    expect(phases.get("storing")!.at(-1)).toEqual({ phase: "storing", done: r.logRows, total: r.logRows });
    expect(phases.get("entities")!.at(-1)).toEqual({ phase: "entities", done: 1, total: 1 });
    const again = await seedWorkspace(dir, { seed: 5, size: 500, now: 1_700_000_000_000 });
    expect(again).toEqual(r);
  });

  it("receipts verify and proof verify: each phase ends at the number of receipts", async () => {
    const chain: ProgressReport[] = [];
    const { count } = await verifyStoredReceipts(h.home, undefined, (p) => chain.push(p));
    expect(count).toBeGreaterThan(2);
    expect(byPhase(chain).get("receipts")!.at(-1)).toEqual({ phase: "receipts", done: count, total: count });

    const file = join(h.home, "hooks.proof.json");
    const e = await gsmcpInProcess(["--home", h.home, "proof", "export", "--job", "job-hooks", "-o", file]);
    expect(e.code, e.stderr).toBe(0);
    const bundle = parseBundle(readFileSync(file, "utf8"));
    const reports: ProgressReport[] = [];
    const report = await verifyBundle(bundle, undefined, { workers: 1, onProgress: (p) => reports.push(p) });
    expect(report.verdict).toBe("valid");
    const n = bundle.receipts.length;
    const phases = byPhase(reports);
    for (const phase of ["signatures", "receipts", "decisions"])
      expect(phases.get(phase)?.at(-1), phase).toEqual({ phase, done: n, total: n });
  });
});

describe.skipIf(!SCRIPT && !process.env.CI)("progress bars on a pseudo-terminal", () => {
  let h: TestHome;
  let dir: string;
  let bundle: string;
  const JOB = "job-progress";

  beforeAll(async () => {
    if (!SCRIPT) throw new Error("util-linux script is not installed: the pseudo-terminal tests cannot run");
    h = await makeHome();
    dir = mkdtempSync(join(tmpdir(), "gsmcp-progress-"));
    const s = await startSession(h, { job: JOB });
    try {
      for (let i = 0; i < 5; i++)
        await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 2 } });
    } finally {
      await s.close();
    }
    bundle = join(dir, "job.proof.json");
    const e = await gsmcpInProcess(["--home", h.home, "proof", "export", "--job", JOB, "-o", bundle]);
    expect(e.code, e.stderr).toBe(0);
  });

  const noCi = { CI: undefined, GITHUB_ACTIONS: undefined };

  it("proof verify: a bar on stderr while --json goes to stdout untouched", async () => {
    const out = join(dir, "verify.json");
    const r = await onTerminal(["--home", h.home, "proof", "verify", bundle, "--json"], noCi, out);
    expect(r.code, r.tty).toBe(0);
    expect(r.tty).toContain(ESC);
    expect(r.tty).toMatch(/proof verify (signatures|receipts|decisions) \[.*\] \d+% \d+\/\d+/);
    // stdout held exactly the JSON report: no escape sequences, no bar.
    const text = readFileSync(out, "utf8");
    expect(text).not.toContain("\x1b");
    expect(JSON.parse(text)).toMatchObject({ verdict: "valid", job: JOB });
  });

  it("proof export, receipts verify and workspace seed draw their bars, then print their result", async () => {
    const exp = await onTerminal(
      ["--home", h.home, "proof", "export", "--job", JOB, "-o", join(dir, "again.proof.json")],
      noCi,
    );
    expect(exp.code, exp.tty).toBe(0);
    expect(exp.tty).toMatch(/proof export (log|checkpoint) \[.*\] \d+%/);
    expect(exp.tty).toContain(`exported`);
    const rv = await onTerminal(["--home", h.home, "receipts", "verify"], noCi);
    expect(rv.code, rv.tty).toBe(0);
    expect(rv.tty).toMatch(/receipts verify (reading|checkpoints|receipts) \[.*\] \d+%/);
    expect(rv.tty).toMatch(/OK \d+ receipts/);
    const seed = await onTerminal(
      ["--home", h.home, "workspace", "seed", "--workspace", "fabrikam", "--size", "2000"],
      noCi,
    );
    expect(seed.code, seed.tty).toBe(0);
    expect(seed.tty).toMatch(/workspace seed generating \[.*\] \d+% \d+\/7/);
    expect(seed.tty).toMatch(/workspace seed storing \[.*\] 100% (\d+)\/\1/);
    expect(seed.tty).toContain("seeded workspace fabrikam");
  });

  it("no bar under CI=true or with --quiet, even on a terminal", async () => {
    const ci = await onTerminal(["--home", h.home, "receipts", "verify"], { CI: "true" });
    expect(ci.code, ci.tty).toBe(0);
    expect(ci.tty).not.toContain("receipts verify ");
    expect(ci.tty).not.toContain(ESC);
    expect(ci.tty).toMatch(/OK \d+ receipts/);
    const quiet = await onTerminal(["--home", h.home, "proof", "verify", bundle, "--quiet"], noCi);
    expect(quiet.code, quiet.tty).toBe(0);
    expect(quiet.tty).not.toContain("proof verify ");
    expect(quiet.tty).not.toContain(ESC);
    expect(quiet.tty).toContain("VALID");
  });

  it("Ctrl+C while a bar is drawn ends the command at once (exit 130), with no terminal mode left changed", async () => {
    const cmd = [process.execPath, CLI, "--home", h.home, "workspace", "seed", "--workspace", "fabrikam"];
    const child = spawn(SCRIPT!, ["-qfec", [...cmd, "--size", "1000000"].map(q).join(" "), "/dev/null"], {
      env: { ...process.env, TERM: "xterm", CI: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let tty = "";
    let sentAt = 0;
    const exit = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (c: Buffer) => {
        tty += c.toString("utf8");
        if (!sentAt && tty.includes("workspace seed generating")) {
          sentAt = Date.now();
          child.stdin.write("\x03"); // the terminal's interrupt character: SIGINT to the foreground process
        }
      });
      child.on("exit", (code) => resolve(code));
    });
    expect(sentAt, tty).toBeGreaterThan(0);
    expect(exit).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    // No private mode set (cursor hidden, line wrap off) that an interrupted bar could leave behind.
    expect(tty).not.toMatch(new RegExp(`${ESC}\\[\\?\\d+[hl]`));
    expect(tty).not.toContain("seeded workspace");
  });

  it("no bar when stderr is not a terminal", async () => {
    const env: Record<string, string> = { GSMCP_HOME: h.home, TERM: "xterm" };
    const r = await runCli(["workspace", "seed", "--workspace", "fabrikam", "--size", "1000"], {
      ...env,
      CI: "",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^seeded workspace fabrikam \(seed \d+, size 1000\)\n$/);
  });
});
