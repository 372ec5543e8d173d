// A replica killed between a write's intent and its outcome, on the shared PostgreSQL store (issue 18, faults): another
// replica (another host: a copy of the home) reports the dangling intent with Sentinel's true state, and the write is
// not executed twice (its approval was consumed by the intent).
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { openRuntime } from "../../src/server/runtime.js";
import type { StateStore } from "../../src/state/contract.js";
import { openPgStore } from "../../src/state/pg-store.js";
import { CLI, serveWithCallInFlight } from "../helpers/cli.js";
import { makeHome } from "../helpers/home.js";
import { describePg, withPgDatabase } from "../helpers/postgres.js";
import { textOf } from "../helpers/state.js";

const run = promisify(execFile);
const db = await withPgDatabase();

describePg("a replica killed mid-write on PostgreSQL", db, (pg) => {
  let store: StateStore;
  const before = process.env.GSMCP_STORE;
  beforeAll(async () => {
    process.env.GSMCP_STORE = pg.owner.url;
    store = await openPgStore({ url: pg.owner.url, migrate: true });
  });
  afterAll(async () => {
    await store?.close();
    if (before === undefined) delete process.env.GSMCP_STORE;
    else process.env.GSMCP_STORE = before;
  });

  it("any replica reports the dangling intent and the true state; a retry needs a new approval", async () => {
    const h = await makeHome();
    const policy = h.policyFile("containment-with-approvals");
    const job = "job-killed";
    const { token } = await issueCst(h.home, { policy, job, agent: "a" });
    const rt = await openRuntime({ home: h.home, tokenRef: token, policyRef: policy });
    try {
      const list = await rt.governor.call("sentinel_incidents_list", { status: "New", top: 1 });
      const incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
      const args = { incidentId, status: "Active" as const };
      const pending = await rt.governor.call("sentinel_incidents_update", args);
      await decideApproval(h.home, /apr_[0-9a-f]{16}/.exec(textOf(pending))![0], "approved", "ok");

      // Replica 1: a server process whose write is slowed in Sentinel, killed once its intent is in the store.
      const child = serveWithCallInFlight(
        {
          GSMCP_HOME: h.home,
          GSMCP_CST: token,
          GSMCP_POLICY: policy,
          GSMCP_STORE: pg.owner.url,
          GSMCP_WORKSPACE_FAULTS: JSON.stringify({ latencyMs: 1500 }),
        },
        "sentinel_incidents_update",
        args,
      );
      const deadline = Date.now() + 30_000;
      let intents = await store.receipts.danglingIntents();
      while (!intents.some((r) => r.job === job) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        intents = await store.receipts.danglingIntents();
      }
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const intent = intents.find((r) => r.job === job && r.op === "incidents.update");
      expect(intent).toBeDefined();

      // Replica 2, another host: its own copy of the home (keys, trust, policies), the same store.
      const other = join(mkdtempSync(join(tmpdir(), "gsmcp-replica2-")), "home");
      cpSync(h.home, other, { recursive: true });
      const report = await run(process.execPath, [CLI, "receipts", "dangling"], {
        env: { ...process.env, GSMCP_HOME: other, GSMCP_STORE: pg.owner.url },
      }).then(
        (x) => ({ code: 0, out: x.stdout }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
      expect(report.code).toBe(1);
      expect(report.out).toContain(intent!.receipt_id);
      expect(report.out).toMatch(/current state: \{.*"status":"New"/); // the PUT never reached Sentinel
      expect(report.out).not.toContain(pg.owner.password);

      // Not executed twice: the intent consumed the approval.
      const retry = await rt.governor.call("sentinel_incidents_update", args);
      expect(textOf(retry)).toContain("approval_required");
    } finally {
      await rt.close();
    }
  }, 120_000);
});
