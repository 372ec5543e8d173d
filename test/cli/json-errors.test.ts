import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { gsmcpInProcess, schemaErrors } from "./in-process.js";

// Failures with --json: one error object {"error": {code, message, fix}} on stdout, nothing else, and the exit code of
// the table in docs/cli-json.md (0 ok, 1 check failed / refused / not found, 2 usage or unreadable input; doctor:
// 2 when unsafe). A check that fails after printing its result (proof verify, receipts verify, policy lint, doctor)
// keeps stdout the result and says why on stderr.

interface ErrorDoc {
  error: { code: string; message: string; fix: string | null };
}

/** The one JSON error object a failed --json command printed; fails the test unless stdout is exactly that. */
function errorOf(r: CliRun): ErrorDoc {
  const doc = JSON.parse(r.stdout) as ErrorDoc;
  expect(schemaErrors("error", doc), r.stdout).toBe("");
  return doc;
}

describe("--json errors and exit codes", () => {
  let h: TestHome;
  let dir: string;
  let bundle: string;
  const JOB = "job-errors";

  beforeAll(async () => {
    h = await makeHome();
    dir = mkdtempSync(join(tmpdir(), "gsmcp-jsonerr-"));
    const s = await startSession(h, { job: JOB });
    try {
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 2 } });
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    } finally {
      await s.close();
    }
    bundle = join(dir, "job.proof.json");
    const e = await gsmcpInProcess(["--home", h.home, "proof", "export", "--job", JOB, "-o", bundle]);
    expect(e.code, e.stderr).toBe(0);
  });

  it("spawned: usage errors, not found, unreadable input and a failed check, each with its exit code", async () => {
    const tampered = join(dir, "tampered.proof.json");
    const b = JSON.parse(readFileSync(bundle, "utf8"));
    b.receipts[0].op = "incidents.close";
    writeFileSync(tampered, JSON.stringify(b));
    const env = { GSMCP_HOME: h.home };
    const [unknown, missing, notFound, unreadable, invalid, human] = await Promise.all([
      runCli(["jobs", "list", "--bogus", "--json"], env),
      runCli(["proof", "export", "--json"], env),
      runCli(["approvals", "show", "apr_0000000000000000", "--json"], env),
      runCli(["proof", "verify", join(dir, "nope.json"), "--json"], env),
      runCli(["proof", "verify", tampered, "--json"], env),
      runCli(["approvals", "show", "apr_0000000000000000"], env),
    ]);

    expect(unknown.code).toBe(2);
    expect(errorOf(unknown).error).toEqual({
      code: "usage",
      message: "unknown option '--bogus'",
      fix: "see gsmcp jobs --help",
    });
    expect(unknown.stderr).toBe("");

    expect(missing.code).toBe(2);
    expect(errorOf(missing).error).toMatchObject({ code: "usage", message: expect.stringContaining("--job") });
    expect(missing.stderr).toBe("");

    expect(notFound.code).toBe(1);
    expect(errorOf(notFound).error).toEqual({
      code: "not_found",
      message: 'no approval "apr_0000000000000000"',
      fix: "see gsmcp approvals list",
    });

    expect(unreadable.code).toBe(2);
    expect(errorOf(unreadable).error).toMatchObject({
      code: "unreadable_input",
      message: expect.stringContaining("does not exist"),
      fix: expect.any(String),
    });

    // A failed check prints its result (the report), exits 1, and says why on stderr, not as a second document.
    expect(invalid.code).toBe(1);
    const report = JSON.parse(invalid.stdout) as { verdict: string };
    expect(schemaErrors("proof-verify", report)).toBe("");
    expect(report.verdict).toBe("invalid");
    expect(invalid.stderr).toContain("gsmcp: proof bundle is NOT valid");

    // Without --json: one line on stderr, nothing on stdout, the same exit code.
    expect(human.code).toBe(1);
    expect(human.stdout).toBe("");
    expect(human.stderr).toBe('gsmcp: no approval "apr_0000000000000000" — see gsmcp approvals list\n');
  });

  const cases: [string, string[], number, Partial<ErrorDoc["error"]> & { mentions?: string }][] = [
    ["an approval id that is not one", ["approvals", "show", "x'; drop", "--json"], 2, { code: "invalid_argument" }],
    [
      "an unknown approval status",
      ["approvals", "list", "--status", "maybe", "--json"],
      2,
      { code: "invalid_argument", mentions: "--status" },
    ],
    ["a job that does not exist", ["jobs", "pause", "nobody", "--json"], 1, { code: "not_found" }],
    [
      "a size that is not one",
      ["workspace", "seed", "--size", "huge", "--json"],
      2,
      { code: "invalid_argument", mentions: "--size" },
    ],
    [
      "a seed that is not an integer",
      ["workspace", "seed", "--seed", "1.5", "--json"],
      2,
      { code: "invalid_argument", mentions: "--seed" },
    ],
    [
      "a workspace not in the registry",
      ["workspace", "seed", "--workspace", "nowhere", "--json"],
      2,
      { code: "invalid_argument", mentions: "--workspace" },
    ],
    ["a port that is not one", ["workspace", "start", "--port", "http", "--json"], 2, { mentions: "--port" }],
    [
      "workers that are not a count",
      ["proof", "verify", "BUNDLE", "--workers", "2x", "--json"],
      2,
      { code: "invalid_argument", mentions: "--workers" },
    ],
    ["a job without receipts", ["proof", "export", "--job", "ghost", "--json"], 1, { code: "not_found" }],
    [
      "an attachment that is not JSON",
      ["proof", "export", "--job", "job-errors", "--attach", "ATTACH", "--json"],
      2,
      { code: "unreadable_input", mentions: "--attach" },
    ],
    [
      "a TTL that is not a number",
      ["token", "issue", "--policy", "POLICY", "--job", "j", "--agent", "a", "--ttl", "1e3", "--json"],
      2,
      { code: "invalid_argument", mentions: "--ttl" },
    ],
    [
      "a scope naming an unknown op",
      [
        "policy",
        "explain",
        "examples/policies/triage-readonly.wpc.json",
        "--op",
        "incidents.list",
        "--scope",
        "x.y",
        "--json",
      ],
      2,
      { code: "invalid_argument", mentions: "--scope" },
    ],
    [
      "a grace that is not a duration",
      ["keys", "rotate", "receipt", "--grace", "soon", "--json"],
      2,
      { mentions: "--grace" },
    ],
    [
      "a governance refusal (policy not signed)",
      ["policy", "verify", "POLICY_SRC", "--json"],
      1,
      { code: "policy_unsigned" },
    ],
    [
      "an init seed that is not an integer",
      ["init", "--seed", "abc", "--json"],
      2,
      { code: "usage", mentions: "--seed" },
    ],
  ];

  for (const [what, args, exit, expected] of cases)
    it(`${what}: exit ${exit}, ${expected.code ?? "an error object"}`, async () => {
      const attach = join(dir, "not.json");
      writeFileSync(attach, "{nope");
      const src = join(dir, "unsigned.wpc.json");
      const wpc = JSON.parse(readFileSync("examples/policies/triage-readonly.wpc.json", "utf8"));
      writeFileSync(src, JSON.stringify({ ...wpc, policy_name: "never-signed" }));
      const subst: Record<string, string> = {
        BUNDLE: bundle,
        ATTACH: attach,
        POLICY: h.policyFile("triage-readonly"),
        POLICY_SRC: src,
      };
      const r = await gsmcpInProcess(["--home", h.home, ...args.map((a) => subst[a] ?? a)]);
      expect(r.code, r.stdout + r.stderr).toBe(exit);
      const { error } = errorOf(r);
      const { mentions, ...fields } = expected;
      expect(error).toMatchObject(fields);
      if (mentions) expect(error.message).toContain(mentions);
      expect(r.stderr).toBe("");
    });

  it("a home that is not initialised: home_missing, exit 1", async () => {
    const r = await gsmcpInProcess(["--home", join(dir, "no-home"), "jobs", "list", "--json"]);
    expect(r.code).toBe(1);
    expect(errorOf(r).error).toMatchObject({ code: "home_missing", fix: expect.stringContaining("gsmcp init") });
  });

  it("doctor on an unsafe home: the checks on stdout, exit 2, the summary on stderr", async () => {
    const home = await makeHome();
    chmodSync(join(home.home, "config.json"), 0o644);
    const r = await gsmcpInProcess(["--home", home.home, "doctor", "--json"]);
    expect(r.code).toBe(2);
    const checks = JSON.parse(r.stdout) as { check: string; status: string }[];
    expect(schemaErrors("doctor", checks)).toBe("");
    expect(checks.find((c) => c.check === "permissions")?.status).toBe("unsafe");
    expect(r.stderr).toMatch(/^gsmcp: \d+ unsafe finding\(s\) in .* — apply the fixes above\n$/);
  });

  it("receipts verify on a tampered log: the result with valid false, exit 1", async () => {
    const home = await makeHome();
    const s = await startSession(home, { job: "j" });
    await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    await s.close();
    const { openStateDb } = await import("../../src/state/db.js");
    const db = openStateDb(home.paths.stateDb);
    const row = db
      .prepare<[], { seq: number; body: string }>("SELECT seq, body FROM receipts ORDER BY seq LIMIT 1")
      .get()!;
    db.prepare("UPDATE receipts SET body = ? WHERE seq = ?").run(row.body.replace('"job":"j"', '"job":"k"'), row.seq);
    db.close();
    const r = await gsmcpInProcess(["--home", home.home, "receipts", "verify", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { valid: boolean; problems: { code: string }[] };
    expect(schemaErrors("receipts-verify", doc)).toBe("");
    expect(doc.valid).toBe(false);
    expect(doc.problems.map((p) => p.code)).toContain("bad_signature");
    expect(r.stderr).toContain("gsmcp: receipt log is NOT valid");
  });
});
