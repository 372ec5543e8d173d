import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { verifyStoredReceipts } from "../../src/cli/commands/receipts.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { receiptsOf, textOf } from "../helpers/state.js";

const run = promisify(execFile);
type Session = Awaited<ReturnType<typeof startSession>>;

function approvalIdOf(r: unknown): string {
  const m = /apr_[0-9a-f]{16}/.exec(textOf(r));
  if (!m) throw new Error(`no approval id in: ${textOf(r)}`);
  return m[0];
}

describe("approval gate, single use, and rollback under containment-with-approvals", () => {
  let h: TestHome;
  let s: Session;
  let incidentId: string;
  let statusBefore: string;
  const closeArgs = () => ({
    incidentId,
    classification: "TruePositive",
    classificationReason: "SuspiciousActivity",
    comment: "contained",
  });

  beforeAll(async () => {
    h = await makeHome();
    s = await startSession(h, { policy: "containment-with-approvals", job: "job-contain" });
    const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 3 } });
    const first = (list.structuredContent as { incidents: { id: string; status: string }[] }).incidents[0]!;
    incidentId = first.id;
    statusBefore = first.status;
  });
  afterAll(async () => {
    await s?.close();
  });

  it("a write without approval returns approval_required with an approval id, and does not execute", async () => {
    const r = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs() });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("approval_required");
    const again = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs() });
    expect(approvalIdOf(again)).toBe(approvalIdOf(r)); // the same pending request, not a new one
    const got = await s.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
    expect((got.structuredContent as { incident: { status: string } }).incident.status).toBe(statusBefore);
  });

  it("arguments changed after approval are refused (approval is bound to the argument hash)", async () => {
    const pending = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs() });
    await decideApproval(h.home, approvalIdOf(pending), "approved", "ok to close");
    const changed = await s.client.callTool({
      name: "sentinel_incidents_close",
      arguments: { ...closeArgs(), comment: "something else" },
    });
    expect(changed.isError).toBe(true);
    expect(textOf(changed)).toContain("approval_required");
    expect(approvalIdOf(changed)).not.toBe(approvalIdOf(pending));
  });

  it("the approved call executes once, with intent and outcome receipts; a replay is refused", async () => {
    const ok = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs() });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expect((ok.structuredContent as { incident: { status: string } }).incident.status).toBe("Closed");
    const rs = receiptsOf(h).filter((r) => r.op === "incidents.close" && r.phase !== "single");
    const intent = rs.find((r) => r.phase === "intent")!;
    const outcome = rs.find((r) => r.phase === "outcome")!;
    expect(intent.outcome.status).toBe("pending");
    expect(intent.rollback).toMatchObject({ posture: "revert", prior_state: { id: incidentId, status: statusBefore } });
    expect(outcome).toMatchObject({
      intent_receipt_id: intent.receipt_id,
      outcome: { status: "ok" },
      approval_id: intent.approval_id,
    });
    expect(intent.seq).toBeLessThan(outcome.seq);

    const replay = await s.client.callTool({ name: "sentinel_incidents_close", arguments: closeArgs() });
    expect(replay.isError).toBe(true);
    expect(textOf(replay)).toContain("approval_required");
    expect(approvalIdOf(replay)).not.toBe(intent.approval_id);
  });

  it("a denied approval is refused and says so", async () => {
    const other = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 3 } });
    const id = (other.structuredContent as { incidents: { id: string }[] }).incidents.find(
      (i) => i.id !== incidentId,
    )!.id;
    const args = { incidentId: id, classification: "FalsePositive", comment: "the incident told me to" };
    const pending = await s.client.callTool({ name: "sentinel_incidents_close", arguments: args });
    await decideApproval(h.home, approvalIdOf(pending), "denied", "not a false positive");
    const r = await s.client.callTool({ name: "sentinel_incidents_close", arguments: args });
    expect(textOf(r)).toContain("approval_invalid");
    expect(textOf(r)).toContain("not a false positive");
  });

  it("rollback restores the prior state, is receipted, and cannot run twice", async () => {
    const intent = receiptsOf(h).find((r) => r.op === "incidents.close" && r.phase === "intent")!;
    const cli = (args: string[]) =>
      run(process.execPath, [CLI, ...args], { env: { ...process.env, GSMCP_HOME: h.home } }).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
      );
    // Review defect: with the backend unreachable, rollback threw without a receipt. Now it is refused, receipted.
    const azureEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AZURE_")));
    const down = await run(process.execPath, [CLI, "rollback", intent.receipt_id], {
      env: { ...azureEnv, GSMCP_HOME: h.home, GSMCP_BACKEND: "azure" },
    }).then(
      () => ({ code: 0, err: "" }),
      (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
    );
    expect(down.code).toBe(1);
    expect(down.err).toContain("backend_error");
    const refused = receiptsOf(h).filter((r) => r.op === "rollback");
    expect(refused.map((r) => r.outcome.status)).toEqual(["refused"]);
    expect(refused[0]!.outcome.error?.code).toBe("backend_error");

    const first = await cli(["rollback", intent.receipt_id]);
    expect(first.code, first.err).toBe(0);
    const got = await s.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
    expect((got.structuredContent as { incident: { status: string } }).incident.status).toBe(statusBefore);
    expect(
      receiptsOf(h)
        .filter((r) => r.op === "rollback" && r.outcome.status !== "refused")
        .map((r) => r.phase),
    ).toEqual(["intent", "outcome"]);
    const second = await cli(["rollback", intent.receipt_id]);
    expect(second.code).toBe(1);
    expect(second.err).toContain("already rolled back");
    expect((await verifyStoredReceipts(h.home)).problems).toEqual([]);
  });
});
