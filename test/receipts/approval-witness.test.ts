import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { homePaths } from "../../src/governance/home.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import { GENESIS_HASH, type Receipt, receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import { openStateDb } from "../../src/state/db.js";
import type { AgentSecurityEvent } from "../../src/types/agent-security-event.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { eventsOf, receiptsOf, textOf } from "../helpers/state.js";

const _run = promisify(execFile);

const gsmcp = (home: string, args: string[]) => runCli(args, { GSMCP_HOME: home });

const JOB = "job-witnessed-approval";

/**
 * The attacker owns the host and the receipt key: removes every receipt of `approvalId`'s write, renumbers, re-chains
 * and re-signs the whole log (job_prev_seq included), and drops the checkpoints file. Every local check passes.
 */
function hideWrite(home: string, approvalId: string): void {
  const paths = homePaths(home);
  const key = loadSigningKey(paths, "receiptSigner");
  const db = openStateDb(paths.stateDb);
  const kept = db
    .prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq")
    .all()
    .map((r) => JSON.parse(r.body) as Receipt)
    .filter((r) => !(r.approval_id === approvalId && (r.phase === "intent" || r.phase === "outcome")));
  db.exec("DELETE FROM receipts");
  let prev = GENESIS_HASH;
  const lastOfJob = new Map<string, number>();
  const insert = db.prepare("INSERT INTO receipts (seq, receipt_id, job, hash, body) VALUES (?, ?, ?, ?, ?)");
  kept.forEach((r, i) => {
    const { signature: _s, ...body } = r;
    const seq = i + 1;
    const signed = signReceipt(
      {
        ...body,
        seq,
        prev_hash: prev,
        ...(body.job_prev_seq !== undefined ? { job_prev_seq: lastOfJob.get(r.job) ?? 0 } : {}),
      },
      key,
    );
    prev = receiptHash(signed);
    lastOfJob.set(r.job, seq);
    insert.run(seq, signed.receipt_id, signed.job, prev, JSON.stringify(signed));
  });
  db.close();
  rmSync(join(home, "checkpoints.log"), { force: true });
}

describe("approval decisions as witnessed events, cross-checked with the receipts that used them", () => {
  let h: TestHome;
  let soc: string;
  let approvalId: string;

  beforeAll(async () => {
    h = await makeHome();
    const s = await startSession(h, { policy: "containment-with-approvals", job: JOB });
    try {
      const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 2 } });
      const incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
      const args = {
        incidentId,
        classification: "TruePositive",
        classificationReason: "SuspiciousActivity",
        comment: "contained",
      };
      const pending = await s.client.callTool({ name: "sentinel_incidents_close", arguments: args });
      const m = /apr_[0-9a-f]{16}/.exec(textOf(pending));
      if (!m) throw new Error(textOf(pending));
      approvalId = m[0];
      await decideApproval(h.home, approvalId, "approved", "contain it");
      const done = await s.client.callTool({ name: "sentinel_incidents_close", arguments: args });
      expect(done.isError, textOf(done)).toBeFalsy();
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    } finally {
      await s.close();
    }
    // The SOC's copy of the events (Log Analytics), outside the host.
    soc = join(mkdtempSync(join(tmpdir(), "gsmcp-soc-")), "events.jsonl");
    cpSync(join(h.paths.telemetry, "events.jsonl"), soc);
  }, 120_000);

  const copyHome = () => {
    const d = join(mkdtempSync(join(tmpdir(), "gsmcp-tamper-")), "home");
    cpSync(h.home, d, { recursive: true });
    return d;
  };

  it("the decision is published as an ApprovalDecision event; the call that used it names the approval", () => {
    const events = eventsOf(h);
    const decision = events.find((e) => e.EventType === "ApprovalDecision");
    expect(decision).toMatchObject({ ApprovalId: approvalId, JobId: JOB, Action: "incidents.close" });
    expect(decision!.ToolParameters).toMatchObject({ decision: "approved", approval_id: approvalId });
    expect((decision!.ToolParameters as { approval_hash: string }).approval_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const used = events.filter((e) => e.EventType === "ToolInvocation" && e.ApprovalId === approvalId);
    expect(used.map((e) => e.ToolResult)).toContain("ok");
    // The intent receipt records the use; the signed approval itself is never edited.
    const intent = receiptsOf(h).find((r) => r.approval_id === approvalId && r.phase === "intent");
    expect(intent).toBeDefined();
  });

  it("receipts verify --events and proof verify --events pass on the untouched log", async () => {
    const r = await gsmcp(h.home, ["receipts", "verify", "--events", soc]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("1 witnessed approval decision(s) checked");
    const bundle = join(h.home, "b.json");
    expect((await gsmcp(h.home, ["proof", "export", "--job", JOB, "-o", bundle])).code).toBe(0);
    const v = await gsmcp(h.home, ["proof", "verify", bundle, "--events", soc]);
    expect(v.code, v.out).toBe(0);
    expect(v.out).toContain("✓ events");
  });

  it("a write hidden with the receipt key (receipts removed, log re-signed) passes locally and is named by its approval", async () => {
    const home = copyHome();
    hideWrite(home, approvalId);
    const local = await gsmcp(home, ["receipts", "verify"]);
    expect(local.code, local.out).toBe(0); // the host alone cannot tell
    const r = await gsmcp(home, ["receipts", "verify", "--events", soc]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`approval_use_missing: incidents\\.close ran with approval ${approvalId}`));
    expect(r.out).toContain("event_receipt_missing");

    const bundle = join(home, "b.json");
    expect((await gsmcp(home, ["proof", "export", "--job", JOB, "-o", bundle])).code).toBe(0);
    const plain = await gsmcp(home, ["proof", "verify", bundle]);
    expect(plain.code, plain.out).toBe(0); // the bundle is self-consistent
    const v = await gsmcp(home, ["proof", "verify", bundle, "--events", soc]);
    expect(v.code).toBe(1);
    expect(v.out).toContain("approval_use_missing");
  });

  it("removing the approval too leaves its witnessed decision unaccounted for", async () => {
    const home = copyHome();
    hideWrite(home, approvalId);
    const db = openStateDb(homePaths(home).stateDb);
    db.prepare("DELETE FROM approvals WHERE approval_id = ?").run(approvalId);
    db.close();
    const r = await gsmcp(home, ["receipts", "verify", "--events", soc]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`approval_decision_missing: approval ${approvalId} \\(approved, job ${JOB}`));
  });

  it("an approval changed after its decision was witnessed, or used without a witnessed decision, is named", async () => {
    const home = copyHome();
    const db = openStateDb(homePaths(home).stateDb);
    const row = db.prepare("SELECT body FROM approvals WHERE approval_id = ?").get(approvalId) as { body: string };
    db.prepare("UPDATE approvals SET body = ? WHERE approval_id = ?").run(
      JSON.stringify({ ...JSON.parse(row.body), reason: "rewritten" }),
      approvalId,
    );
    db.close();
    const changed = await gsmcp(home, ["receipts", "verify", "--events", soc]);
    expect(changed.code).toBe(1);
    expect(changed.out).toContain(`approval_decision_mismatch: approval ${approvalId} hashes to`);

    // The SOC never saw the decision: the receipt that used it is named.
    const lines = readFileSync(soc, "utf8")
      .split("\n")
      .filter((l) => l && (JSON.parse(l) as AgentSecurityEvent).EventType !== "ApprovalDecision");
    const partial = join(home, "partial.jsonl");
    writeFileSync(partial, `${lines.join("\n")}\n`);
    const unwitnessed = await gsmcp(h.home, ["receipts", "verify", "--events", partial]);
    expect(unwitnessed.code).toBe(1);
    expect(unwitnessed.out).toMatch(
      new RegExp(`approval_unwitnessed: receipt seq \\d+ .* with approval ${approvalId}`),
    );
  });
});
