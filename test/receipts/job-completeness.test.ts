import { describe, expect, it } from "vitest";
import { exportJob, verifyFile } from "../../src/cli/commands/proof.js";
import { openStateDb } from "../../src/state/db.js";
import { makeHome, startSession } from "../helpers/home.js";
import { receiptsOf } from "../helpers/state.js";

// A job's receipts form their own chain (job_prev_seq, signed): a receipt of the job deleted from the middle of the
// log — which the job's bundle, its Merkle tree and its tree head alone cannot show — is a gap that proof verify names.

describe("per-job completeness", () => {
  it("a job's receipts chain through job_prev_seq; deleting one mid-log makes the job's bundle fail with job_gap", async () => {
    const h = await makeHome();
    const job = "job-complete";
    const s = await startSession(h, { job });
    const other = await startSession(h, { job: "job-other" });
    try {
      for (let i = 0; i < 3; i++) {
        await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
        await other.client.callTool({ name: "governance_whoami", arguments: {} });
      }
    } finally {
      await s.close();
      await other.close();
    }
    const mine = receiptsOf(h).filter((r) => r.job === job);
    expect(mine.map((r) => r.job_prev_seq)).toEqual([0, mine[0]!.seq, mine[1]!.seq]);

    const before = await verifyFile((await exportJob(h.home, job, {})).file, h.paths.trust);
    expect(before.verdict, JSON.stringify(before.steps.filter((x) => !x.ok))).toBe("valid");

    const db = openStateDb(h.paths.stateDb);
    db.prepare("DELETE FROM receipts WHERE seq = ?").run(mine[1]!.seq);
    db.close();
    const after = await verifyFile((await exportJob(h.home, job, {})).file, h.paths.trust);
    expect(after.verdict).toBe("invalid");
    const gap = after.steps.flatMap((x) => x.problems).find((p) => p.code === "job_gap");
    expect(gap?.message).toContain(`seq ${mine[1]!.seq} is missing`);
  }, 120_000);
});
