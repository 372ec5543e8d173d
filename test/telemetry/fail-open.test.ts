import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeHome, startSession } from "../helpers/home.js";
import { receiptsOf, textOf } from "../helpers/state.js";

// Under a fail-open telemetry policy a failed write does not stop the call, but it is counted and reported
// (review defect: failures were swallowed without a counter or a log line).
describe.skipIf(!existsSync("/dev/full"))("fail-open telemetry", () => {
  it("counts failed writes, reports them in whoami, and still answers with a receipt", async () => {
    const h = await makeHome();
    mkdirSync(h.paths.telemetry, { recursive: true });
    const events = join(h.paths.telemetry, "events.jsonl");
    rmSync(events, { force: true });
    symlinkSync("/dev/full", events); // every write fails with ENOSPC
    const s = await startSession(h, { job: "job-full" });
    try {
      const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
      expect(list.isError, textOf(list)).toBeFalsy();
      const who = await s.client.callTool({ name: "governance_whoami", arguments: {} });
      expect((who.structuredContent as { telemetry: { failures: number } }).telemetry.failures).toBeGreaterThanOrEqual(
        1,
      );
      expect(receiptsOf(h).filter((r) => r.job === "job-full").length).toBe(2);
    } finally {
      await s.close();
    }
  });
});
