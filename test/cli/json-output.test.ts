import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/main.js";
import { generateSigningKey, privateKeyPem } from "../../src/crypto/keys.js";
import type { Receipt } from "../../src/receipts/receipt.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { textOf } from "../helpers/state.js";
import { CLI_SCHEMAS, gsmcpInProcess, schemaErrors } from "./in-process.js";

// Every command that prints a result takes --json and prints one document valid against schemas/cli/<command>.schema.json
// (receipts list: one receipt per line). Run against a real home with receipts, approvals, a checkpoint and a bundle.

/** Commands that print no result of their own: servers and the scripted demo. */
const NO_RESULT = new Set(["serve", "console", "demo"]);
/** Commands that print a result but have no --json yet (none). */
const JSON_PENDING = new Set<string>();

/** Command paths run with --json below, and the schemas used. */
const covered = new Set<string>();
const usedSchemas = new Set<string>();

function approvalIdOf(r: unknown): string {
  const m = /apr_[0-9a-f]{16}/.exec(textOf(r));
  if (!m) throw new Error(`no approval id in: ${textOf(r)}`);
  return m[0];
}

describe("--json outputs match schemas/cli/*.schema.json", () => {
  let h: TestHome;
  let dir: string;
  let approvalA: string;
  let approvalB: string;
  let bundle: string;
  const JOB = "job-json";

  /** Runs `gsmcp --home H <cmd...> <args...> --json`, checks exit code and schema, returns the parsed output. */
  async function json(cmd: string, args: string[], schema: string, exit = 0): Promise<unknown> {
    const r = await gsmcpInProcess(["--home", h.home, ...cmd.split(" "), ...args, "--json"]);
    expect(r.code, `${cmd}: ${r.stderr}${r.stdout}`).toBe(exit);
    const doc = JSON.parse(r.stdout) as unknown;
    expect(schemaErrors(schema, doc), `${cmd} output: ${r.stdout.slice(0, 2000)}`).toBe("");
    covered.add(cmd);
    usedSchemas.add(schema);
    return doc;
  }

  beforeAll(async () => {
    h = await makeHome();
    dir = mkdtempSync(join(tmpdir(), "gsmcp-json-"));
    const s = await startSession(h, { policy: "containment-with-approvals", job: JOB });
    try {
      const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 3 } });
      const ids = (list.structuredContent as { incidents: { id: string }[] }).incidents.map((i) => i.id);
      const close = (id: string, comment: string) =>
        s.client.callTool({
          name: "sentinel_incidents_close",
          arguments: {
            incidentId: id,
            classification: "TruePositive",
            classificationReason: "SuspiciousActivity",
            comment,
          },
        });
      approvalA = approvalIdOf(await close(ids[0]!, "contained"));
      approvalB = approvalIdOf(await close(ids[1]!, "also contained"));
      // Decided from the CLI with --json (checked below), then executed once.
      const a = await gsmcpInProcess(["--home", h.home, "approvals", "approve", approvalA, "--json"]);
      expect(a.code, a.stderr + a.stdout).toBe(0);
      expect(schemaErrors("approvals-decide", JSON.parse(a.stdout))).toBe("");
      expect(JSON.parse(a.stdout)).toMatchObject({ approval_id: approvalA, status: "approved", decision: "approved" });
      covered.add("approvals approve");
      usedSchemas.add("approvals-decide");
      const done = await close(ids[0]!, "contained");
      expect(done.isError, textOf(done)).toBeFalsy();
    } finally {
      await s.close();
    }
  });

  it("approvals list | show | deny", async () => {
    const list = (await json("approvals list", [], "approvals-list")) as { approval_id: string; status: string }[];
    expect(list.map((a) => a.approval_id).sort()).toEqual([approvalA, approvalB].sort());
    expect(list.find((a) => a.approval_id === approvalA)!.status).toBe("consumed");
    expect(await json("approvals list", ["--status", "pending"], "approvals-list")).toHaveLength(1);
    expect(await json("approvals show", [approvalB], "approvals-show")).toMatchObject({ status: "pending" });
    expect(await json("approvals deny", [approvalB, "--reason", "no"], "approvals-decide")).toMatchObject({
      status: "denied",
      reason: "no",
    });
  });

  it("jobs list | pause | resume | complete", async () => {
    const jobs = (await json("jobs list", [], "jobs-list")) as { job: string; calls: number }[];
    expect(jobs.find((j) => j.job === JOB)!.calls).toBeGreaterThan(0);
    expect(await json("jobs pause", [JOB], "jobs-status")).toMatchObject({ job: JOB, status: "paused" });
    expect(await json("jobs resume", [JOB], "jobs-status")).toMatchObject({ job: JOB, status: "active" });
    expect(await json("jobs complete", ["job-never-seen"], "error", 1)).toMatchObject({ error: { code: "not_found" } });
  });

  it("receipts list (JSON Lines) | verify | dangling | cosign", async () => {
    const r = await gsmcpInProcess(["--home", h.home, "receipts", "list", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(schemaErrors("receipts-list", JSON.parse(l)), l).toBe("");
    covered.add("receipts list");
    usedSchemas.add("receipts-list");
    const v = (await json("receipts verify", [], "receipts-verify")) as { valid: boolean; receipts: number };
    expect(v).toMatchObject({ valid: true, receipts: lines.length });
    expect(await json("receipts dangling", [], "receipts-dangling")).toEqual({ dangling: [] });
    // The server wrote a checkpoint when the session closed: co-sign it with a key held elsewhere.
    expect(existsSync(join(h.home, "checkpoints.log"))).toBe(true);
    const key = join(dir, "cosigner.pem");
    writeFileSync(key, privateKeyPem(generateSigningKey()));
    const witness = join(dir, "witness.log");
    const c = await json("receipts cosign", ["--key", key, "--name", "auditor", "--out", witness], "receipts-cosign");
    expect((c as { cosigned: number }).cosigned).toBeGreaterThan(0);
    expect(await json("receipts verify", ["--witness", witness], "receipts-verify")).toMatchObject({ valid: true });
  });

  it("rollback", async () => {
    const r = await gsmcpInProcess(["--home", h.home, "receipts", "list", "--job", JOB, "--json"]);
    const intent = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Receipt)
      .find((x) => x.op === "incidents.close" && x.phase === "intent")!;
    expect(await json("rollback", [intent.receipt_id], "rollback")).toMatchObject({
      receipt_id: intent.receipt_id,
      op: "incidents.close",
      job: JOB,
    });
  });

  it("proof export | verify | report", async () => {
    bundle = join(dir, "job.proof.json");
    const e = (await json("proof export", ["--job", JOB, "-o", bundle], "proof-export")) as { receipts: number };
    expect(e.receipts).toBeGreaterThan(0);
    expect(await json("proof verify", [bundle, "--workers", "1"], "proof-verify")).toMatchObject({ verdict: "valid" });
    expect(await json("proof report", [bundle, "--out", dir], "proof-report")).toMatchObject({ verdict: "valid" });
    // A comment without a forensics digest does not match: the check's result on stdout, exit 1.
    writeFileSync(join(dir, "comment.txt"), "no digest here");
    expect(await json("proof check-comment", [bundle, join(dir, "comment.txt")], "proof-check-comment", 1)).toEqual({
      ok: false,
      problems: ["the comment has no gsmcp-forensics/v1 digest line"],
    });
  });

  it("policy hash | sign | verify | lint | explain", async () => {
    const src = "examples/policies/triage-readonly.wpc.json";
    const hash = (await json("policy hash", [src], "policy-hash")) as { hash: string };
    const mine = join(dir, "mine.wpc.json");
    writeFileSync(mine, JSON.stringify({ ...JSON.parse(readFileSync(src, "utf8")), policy_name: "mine" }));
    const signed = (await json("policy sign", [mine], "policy-sign")) as { envelope: string; hash: string };
    expect(signed.hash).not.toBe(hash.hash);
    expect(await json("policy verify", [signed.envelope], "policy-verify")).toMatchObject({ hash: signed.hash });
    expect(await json("policy lint", [src], "policy-lint")).toMatchObject({ errors: 0 });
    const role = (await json(
      "policy role",
      [
        "examples/policies/containment-with-approvals.wpc.json",
        "--scope",
        `/subscriptions/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`,
      ],
      "policy-role",
    )) as { roles: { kind: string }[] };
    expect(role.roles.map((r) => r.kind)).toEqual(["read", "write"]);
    expect(await json("policy explain", [src, "--op", "incidents.close"], "policy-explain")).toMatchObject({
      op: "incidents.close",
      effect: "BLOCK",
    });
  });

  it("token issue, to stdout and to a file", async () => {
    const base = ["--policy", h.policyFile("triage-readonly"), "--job", "j2", "--agent", "a"];
    const t = (await json("token issue", base, "token-issue")) as { token?: string; ttl: number };
    expect(t.token?.split(".")).toHaveLength(3);
    const file = join(dir, "j2.jwt");
    const f = (await json("token issue", [...base, "-o", file], "token-issue")) as { token?: string; file?: string };
    expect(f).toMatchObject({ file });
    expect(f.token).toBeUndefined();
  });

  it("workspace list | add | remove | seed | reset, store status | migrate, keys list, manifest, doctor", async () => {
    const ws = (await json("workspace list", [], "workspace-list")) as { workspaces: { name: string }[] };
    expect(ws.workspaces.map((w) => w.name)).toEqual(["contoso", "fabrikam"]);
    const guid = "11111111-2222-4333-8444-555555555555";
    const add = [
      ...["--tenant", guid, "--subscription", guid, "--resource-group", "rg-soc"],
      ...["--workspace-name", "law-soc", "--workspace-id", guid],
    ];
    expect(await json("workspace add", ["azsoc", ...add], "workspace-add")).toMatchObject({
      workspace: { name: "azsoc", backend: "azure", default: false },
    });
    expect(await json("workspace remove", ["azsoc"], "workspace-remove")).toEqual({
      removed: "azsoc",
      default: "contoso",
    });
    expect(
      await json("workspace seed", ["--workspace", "fabrikam", "--size", "100", "--quiet"], "workspace-seed"),
    ).toMatchObject({ workspace: "fabrikam", size: 100 });
    expect(await json("workspace reset", ["--workspace", "fabrikam"], "workspace-reset")).toEqual({
      workspace: "fabrikam",
    });
    expect(await json("store migrate", [], "store-migrate")).toMatchObject({ kind: "sqlite" });
    expect(await json("store status", [], "store-status")).toMatchObject({ kind: "sqlite" });
    expect(((await json("keys list", [], "keys-list")) as unknown[]).length).toBeGreaterThan(4);
    const m = (await json("manifest", ["--dir", join(dir, "tools")], "manifest")) as { files: string[] };
    expect(m.files).toContain("README.md");
    // Warnings (the live token file written above) exit 0; the array is every check.
    const checks = (await json("doctor", [], "doctor")) as { status: string }[];
    expect(checks.some((c) => c.status === "unsafe")).toBe(false);
  });

  it("jobs complete, keys rotate (last: they end the job and change the receipt key)", async () => {
    expect(await json("jobs complete", [JOB], "jobs-status")).toMatchObject({ job: JOB, status: "completed" });
    expect(await json("keys rotate", ["receipt", "--grace", "1m"], "keys-rotate")).toMatchObject({
      role: "receipt_signers",
    });
  });

  it("init", async () => {
    const r = await gsmcpInProcess(["--home", join(dir, "fresh-home"), "init", "--seed", "3", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { workspaces: { default: boolean }[] };
    expect(schemaErrors("init", doc)).toBe("");
    expect(doc.workspaces.filter((w) => w.default)).toHaveLength(1);
    covered.add("init");
    usedSchemas.add("init");
  });

  it("workspace start prints where it listens as JSON, then runs", async () => {
    const child = spawn(process.execPath, [CLI, "--home", h.home, "workspace", "start", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let buf = "";
      const doc = await new Promise<unknown>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          buf += c.toString("utf8");
          try {
            resolve(JSON.parse(buf));
          } catch {}
        });
        child.on("exit", (code) => reject(new Error(`exited ${code} before printing JSON: ${buf}`)));
      });
      expect(schemaErrors("workspace-start", doc)).toBe("");
      expect(doc).toMatchObject({ workspace: "contoso", url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+/) });
      covered.add("workspace start");
      usedSchemas.add("workspace-start");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("every result-printing command takes --json, and each is covered above; every schema is used", async () => {
    const program = new Command("gsmcp");
    for (const lazy of Object.values(COMMANDS)) (await lazy.load())(program, () => "");
    const leaves: { path: string; json: boolean }[] = [{ path: "init", json: true }];
    const walk = (c: Command, prefix: string) => {
      for (const sub of c.commands) {
        const path = `${prefix}${sub.name()}`;
        if (sub.commands.length) walk(sub, `${path} `);
        else leaves.push({ path, json: sub.options.some((o) => o.long === "--json") });
      }
    };
    walk(program, "");
    const needJson = leaves.filter((l) => !NO_RESULT.has(l.path) && !JSON_PENDING.has(l.path));
    expect(needJson.filter((l) => !l.json).map((l) => l.path)).toEqual([]);
    expect(needJson.map((l) => l.path).filter((p) => !covered.has(p))).toEqual([]);
    // The error schema is used by the error tests (json-errors.test.ts).
    expect(CLI_SCHEMAS.filter((s) => s !== "error" && !usedSchemas.has(s))).toEqual([]);
  });
});
