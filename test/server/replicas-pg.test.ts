// Three server processes on one PostgreSQL store (issue 18, "done when"): concurrent calls of one job from every
// replica, an approval raced by all three, then the shared log and the job's bundle verified.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, startSession } from "../helpers/home.js";
import { describePg, withPgDatabase } from "../helpers/postgres.js";
import { textOf } from "../helpers/state.js";

const _run = promisify(execFile);
const db = await withPgDatabase();

describePg("three replicas on one PostgreSQL store", db, (pg) => {
  const env = { GSMCP_STORE: pg.owner.url, GSMCP_CHECKPOINT_EVERY: "8" };
  const gsmcp = (home: string, args: string[]) => runCli(args, { ...env, GSMCP_HOME: home });

  it("one chain, one execution per approval, exact usage, and a bundle that verifies", async () => {
    const h = await makeHome();
    const migrated = await gsmcp(h.home, ["store", "migrate"]);
    expect(migrated.code, migrated.out).toBe(0);
    const job = "job-replicated";
    const replicas = await Promise.all(
      [0, 1, 2].map(() => startSession(h, { policy: "containment-with-approvals", job, env })),
    );
    try {
      let calls = 0;
      // Concurrent reads of one job from every replica.
      await Promise.all(
        replicas.flatMap((s) =>
          [0, 1, 2, 3, 4].map(async () => {
            calls++;
            const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 2 } });
            expect(r.isError, textOf(r)).toBeFalsy();
          }),
        ),
      );
      const list = await replicas[0]!.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
      calls++;
      const incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
      const args = { incidentId, severity: "Low" };
      const pending = await replicas[1]!.client.callTool({ name: "sentinel_incidents_update", arguments: args });
      calls++;
      const approvalId = /apr_[0-9a-f]{16}/.exec(textOf(pending))?.[0];
      expect(approvalId, textOf(pending)).toBeDefined();
      const before = process.env.GSMCP_STORE;
      process.env.GSMCP_STORE = pg.owner.url;
      try {
        await decideApproval(h.home, approvalId!, "approved", "raced by three replicas");
      } finally {
        if (before === undefined) delete process.env.GSMCP_STORE;
        else process.env.GSMCP_STORE = before;
      }
      // The approval raced from every replica: exactly one executes.
      const raced = await Promise.all(
        replicas.map((s) => s.client.callTool({ name: "sentinel_incidents_update", arguments: args })),
      );
      calls += raced.length;
      const executed = raced.filter((r) => !r.isError);
      expect(executed, raced.map(textOf).join("\n")).toHaveLength(1);
      for (const r of raced.filter((x) => x.isError)) expect(textOf(r)).toMatch(/approval_(invalid|required)/);

      // Usage counted in the store by every replica: exact.
      const jobs = await gsmcp(h.home, ["jobs", "list", "--json"]);
      const record = (JSON.parse(jobs.out) as { job: string; calls: number }[]).find((j) => j.job === job)!;
      expect(record.calls).toBe(calls);
    } finally {
      await Promise.all(replicas.map((s) => s.close()));
    }

    const verified = await gsmcp(h.home, ["receipts", "verify"]);
    expect(verified.code, verified.out).toBe(0);
    const bundle = join(h.home, "replicated.proof.json");
    const exported = await gsmcp(h.home, ["proof", "export", "--job", job, "-o", bundle]);
    expect(exported.code, exported.out).toBe(0);
    const v = await gsmcp(h.home, ["proof", "verify", bundle]);
    expect(v.code, v.out).toBe(0);
    expect(v.out).toContain("VALID");
    // Nothing of the store's connection string reached the outputs.
    for (const o of [migrated.out, verified.out, exported.out, v.out]) expect(o).not.toContain(pg.owner.password);
  }, 240_000);
});
