import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import type { SqliteStore } from "../../src/state/sqlite-store.js";
import { CLI, serveWithCallInFlight } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { receiptsOf, textOf } from "../helpers/state.js";

const run = promisify(execFile);

describe("fault injection", () => {
  let h: TestHome;
  let rt: Runtime;
  let incidentId: string;
  const contain = () => h.policyFile("containment-with-approvals");

  beforeAll(async () => {
    h = await makeHome();
    const { token } = await issueCst(h.home, { policy: contain(), job: "job-faults", agent: "a" });
    rt = await openRuntime({ home: h.home, tokenRef: token, policyRef: contain() });
    const list = await rt.governor.call("sentinel_incidents_list", { status: "New", top: 1 });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
  });
  afterAll(async () => {
    await rt?.close();
  });

  it("backend 500 and connection resets become backend_error results with receipts; 429 with Retry-After is retried", async () => {
    const { token } = await issueCst(h.home, { policy: contain(), job: "job-500", agent: "a" });
    const faulty = await openRuntime({ home: h.home, tokenRef: token, policyRef: contain() });
    try {
      process.env.GSMCP_WORKSPACE_FAULTS = JSON.stringify({ status500: { count: 20 } });
      const r = await faulty.governor.call("sentinel_incidents_get", { incidentId });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("backend_error");
      expect(receiptsOf(h).at(-1)).toMatchObject({
        job: "job-500",
        outcome: { status: "error", error: { code: "backend_error" } },
      });
    } finally {
      delete process.env.GSMCP_WORKSPACE_FAULTS;
      await faulty.close();
    }
    const { token: t2 } = await issueCst(h.home, { policy: contain(), job: "job-429", agent: "a" });
    process.env.GSMCP_WORKSPACE_FAULTS = JSON.stringify({ status429: { count: 1, retryAfterSeconds: 1 } });
    const limited = await openRuntime({ home: h.home, tokenRef: t2, policyRef: contain() });
    try {
      const r = await limited.governor.call("sentinel_incidents_get", { incidentId });
      expect(r.isError, textOf(r)).toBeFalsy();
    } finally {
      delete process.env.GSMCP_WORKSPACE_FAULTS;
      await limited.close();
    }
    const { token: t3 } = await issueCst(h.home, { policy: contain(), job: "job-reset", agent: "a" });
    process.env.GSMCP_WORKSPACE_FAULTS = JSON.stringify({ resetConnection: { count: 20 } });
    const reset = await openRuntime({ home: h.home, tokenRef: t3, policyRef: contain() });
    try {
      const r = await reset.governor.call("sentinel_incidents_get", { incidentId });
      expect(textOf(r)).toContain("backend_error");
    } finally {
      delete process.env.GSMCP_WORKSPACE_FAULTS;
      await reset.close();
    }
  });

  it("a receipt store that cannot be written fails closed: no result for reads, no execution for writes", async () => {
    const { token } = await issueCst(h.home, { policy: contain(), job: "job-ro", agent: "a" });
    const ro = await openRuntime({ home: h.home, tokenRef: token, policyRef: contain() });
    try {
      const args = { incidentId, severity: "Low" as const };
      const pending = await ro.governor.call("sentinel_incidents_update", args);
      await decideApproval(h.home, /apr_[0-9a-f]{16}/.exec(textOf(pending))![0], "approved", "ok");
      (ro.store as SqliteStore).db.pragma("query_only = ON");
      const read = await ro.governor.call("sentinel_incidents_get", { incidentId });
      expect(read.isError).toBe(true);
      expect(textOf(read)).toContain("receipt_persist_failed");
      expect(read.structuredContent).toBeUndefined();
      const write = await ro.governor.call("sentinel_incidents_update", args);
      expect(textOf(write)).toContain("receipt_persist_failed");
      (ro.store as SqliteStore).db.pragma("query_only = OFF");
      const after = await rt.governor.call("sentinel_incidents_get", { incidentId });
      expect((after.structuredContent as { incident: { severity: string } }).incident.severity).not.toBe("Low");
    } finally {
      await ro.close();
    }
  });

  it("a server killed between intent and outcome receipt: the next start reports the dangling intent and the true state", async () => {
    const args = { incidentId, status: "Active" as const };
    const pending = await rt.governor.call("sentinel_incidents_update", args);
    expect(textOf(pending)).toContain("approval_required");
    const pendingId = /apr_[0-9a-f]{16}/.exec(textOf(pending))![0];
    // The approval is bound to job-faults; the child server runs the write under that job's token.
    await decideApproval(h.home, pendingId, "approved", "ok");
    const { token: jobToken } = await issueCst(h.home, { policy: contain(), job: "job-faults", agent: "a" });
    const child = serveWithCallInFlight(
      {
        GSMCP_HOME: h.home,
        GSMCP_CST: jobToken,
        GSMCP_POLICY: contain(),
        GSMCP_WORKSPACE_FAULTS: JSON.stringify({ latencyMs: 1500 }),
      },
      "sentinel_incidents_update",
      args,
    );
    const deadline = Date.now() + 20_000;
    while (
      !receiptsOf(h).some((r) => r.job === "job-faults" && r.phase === "intent" && r.op === "incidents.update") &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const intent = receiptsOf(h).find(
      (r) => r.job === "job-faults" && r.phase === "intent" && r.op === "incidents.update",
    )!;
    expect(intent).toBeDefined();
    expect(receiptsOf(h).some((r) => r.intent_receipt_id === intent.receipt_id)).toBe(false);
    const report = await run(process.execPath, [CLI, "receipts", "dangling"], {
      env: { ...process.env, GSMCP_HOME: h.home },
    }).then(
      (x) => ({ code: 0, out: x.stdout }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(report.code).toBe(1);
    expect(report.out).toContain(intent.receipt_id);
    expect(report.out).toMatch(/current state: \{.*"status":"New"/); // the PUT never reached Sentinel
    // Nothing executed twice: the approval was consumed by the intent, so a retry needs a new one.
    const retry = await rt.governor.call("sentinel_incidents_update", args);
    expect(textOf(retry)).toContain("approval_required");
  });
});
