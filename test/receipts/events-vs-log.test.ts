import { execFile } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { openStateDb } from "../../src/state/db.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, startSession } from "../helpers/home.js";
import { eventsOf, receiptsOf } from "../helpers/state.js";

const run = promisify(execFile);

async function verify(home: string, events: string): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(process.execPath, [CLI, "--home", home, "receipts", "verify", "--events", events]);
    return { code: 0, stdout: r.stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout + err.stderr };
  }
}

// The SOC's copy of the events carries each receipt's hash: a receipt cut from the log or rewritten after its event
// was sent is caught by matching that copy against the log.

describe("receipts verify --events", () => {
  it("matches every event to its receipt; a deleted or rewritten receipt is named with the event's line", async () => {
    const h = await makeHome();
    const s = await startSession(h, { job: "job-events" });
    try {
      for (let i = 0; i < 3; i++) await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    } finally {
      await s.close();
    }
    const events = eventsOf(h).filter((e) => e.EventType === "ToolInvocation");
    const receipts = receiptsOf(h);
    for (const e of events) {
      const r = receipts.find((x) => x.receipt_id === e.ReceiptId)!;
      expect(e.ReceiptHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(r).toBeDefined();
    }
    // The SOC's copy, taken now.
    const soc = join(h.home, "soc-events.jsonl");
    copyFileSync(join(h.paths.telemetry, "events.jsonl"), soc);
    const ok = await verify(h.home, soc);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/events: \d+ matched/);

    const victim = receipts.find((r) => r.op === "incidents.list")!;
    const db = openStateDb(h.paths.stateDb);
    const body = JSON.parse(
      (db.prepare("SELECT body FROM receipts WHERE seq = ?").get(victim.seq) as { body: string }).body,
    );
    body.outcome.rows = 999; // rewritten after the event left
    db.prepare("UPDATE receipts SET body = ? WHERE seq = ?").run(JSON.stringify(body), victim.seq);
    db.close();
    const changed = await verify(h.home, soc);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain("event_receipt_mismatch");
    expect(changed.stdout).toContain(`seq ${victim.seq}`);

    const db2 = openStateDb(h.paths.stateDb);
    db2.prepare("DELETE FROM receipts WHERE seq = ?").run(victim.seq);
    db2.close();
    const cut = await verify(h.home, soc);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain(`event_receipt_missing`);
    expect(cut.stdout).toContain(victim.receipt_id);
    const line = readFileSync(soc, "utf8")
      .split("\n")
      .findIndex((l) => l.includes(victim.receipt_id));
    expect(cut.stdout).toContain(`event line ${line + 1}`);
  }, 120_000);
});
