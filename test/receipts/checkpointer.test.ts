import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Checkpointer,
  logLeaf,
  parseCheckpoint,
  parseCheckpointsFile,
  verifiedSigners,
} from "../../src/receipts/checkpoint.js";
import { merkleRoot } from "../../src/receipts/merkle.js";
import type { ReceiptDraft } from "../../src/receipts/receipt.js";
import { ReceiptStore } from "../../src/receipts/store.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import type { AgentSecurityEvent, TelemetrySink } from "../../src/telemetry/sink.js";
import { makeKeys } from "../helpers/keys.js";

const draft = (job: string): ReceiptDraft => ({
  receipt_id: randomUUID(),
  time: new Date().toISOString(),
  server_id: "s",
  job,
  agent: "a",
  cst_jti: "j",
  policy_hash: `sha256:${"1".repeat(64)}`,
  op: "incidents.list",
  tool: "sentinel_incidents_list",
  args_hash: `sha256:${"2".repeat(64)}`,
  args_redacted: {},
  decision: { effect: "ALLOW", reasons: [] },
  constraints_applied: [],
  phase: "single",
  outcome: { status: "ok" },
  event_id: randomUUID(),
});

describe("Checkpointer", () => {
  it("signs a C2SP checkpoint every N receipts and at close over the whole log, to the file and telemetry", async () => {
    const k = makeKeys();
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-cp-"));
    const state = openSqliteStore(join(dir, "state.db"));
    const store = new ReceiptStore(state.receipts, k.receiptSigner);
    const events: AgentSecurityEvent[] = [];
    const sink: TelemetrySink = { emit: (e) => void events.push(e), flush: async () => {}, close: async () => {} };
    const file = join(dir, "checkpoints.log");
    const cp = new Checkpointer({
      log: state.receipts,
      key: k.receiptSigner,
      serverId: "srv 1",
      file,
      telemetry: sink,
      every: 4,
      intervalMs: 0,
    });
    store.onAppended((r) => cp.appended(r));
    for (let i = 0; i < 6; i++) await store.append(draft(`j${i % 2}`));
    // Another process appending to the same log: its receipts are read in when next seen.
    const other = new ReceiptStore(openSqliteStore(join(dir, "state.db")).receipts, k.receiptSigner);
    await other.append(draft("x"));
    for (let i = 0; i < 3; i++) await store.append(draft("j0"));
    await cp.close();

    const { checkpoints, errors } = parseCheckpointsFile(readFileSync(file, "utf8"));
    expect(errors).toEqual([]);
    expect(checkpoints.map((c) => c.size)).toEqual([4, 8, 10]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const leaves = (await store.all()).map(logLeaf);
    for (const c of checkpoints) {
      expect(c.origin).toBe("gsmcp/srv_1");
      expect(c.root.equals(merkleRoot(leaves.slice(0, c.size)))).toBe(true);
      expect(verifiedSigners(c, [k.receiptSigner.publicKey])).toEqual(["gsmcp/srv_1"]);
      expect(verifiedSigners(c, [makeKeys().receiptSigner.publicKey])).toEqual([]);
      expect(c.text).toMatch(
        /^gsmcp\/srv_1\n\d+\n[A-Za-z0-9+/]{43}=\ntime \S+Z\n\n\u2014 gsmcp\/srv_1 [A-Za-z0-9+/]{91}=?\n$/,
      );
    }
    expect(events.map((e) => [e.EventType, (e.ToolParameters as { tree_size: number }).tree_size])).toEqual([
      ["Checkpoint", 4],
      ["Checkpoint", 8],
      ["Checkpoint", 10],
    ]);
    expect((events[2]!.ToolParameters as { checkpoint: string }).checkpoint).toBe(checkpoints[2]!.text);
    // A tampered body no longer verifies.
    const tampered = parseCheckpoint(checkpoints[0]!.text.replace("\n4\n", "\n5\n"));
    expect(verifiedSigners(tampered, [k.receiptSigner.publicKey])).toEqual([]);
  });
});
