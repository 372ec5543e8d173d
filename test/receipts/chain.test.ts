import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReceiptDraft } from "../../src/receipts/receipt.js";
import { ReceiptStore } from "../../src/receipts/store.js";
import { verifyChain } from "../../src/receipts/verify-chain.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import { makeKeys } from "../helpers/keys.js";

const draft = (job: string, op: string): ReceiptDraft => ({
  receipt_id: randomUUID(),
  time: new Date().toISOString(),
  server_id: "s",
  job,
  agent: "a",
  cst_jti: "j",
  policy_hash: `sha256:${"1".repeat(64)}`,
  op,
  tool: `sentinel_${op}`,
  args_hash: `sha256:${"2".repeat(64)}`,
  args_redacted: {},
  decision: { effect: "ALLOW", reasons: [] },
  constraints_applied: [],
  phase: "single",
  outcome: { status: "ok" },
  event_id: randomUUID(),
});

describe("receipt chain", () => {
  const k = makeKeys();
  const keys = k.trust.keys("receipt_signers");
  const state = openSqliteStore(join(mkdtempSync(join(tmpdir(), "gsmcp-r-")), "state.db"));
  const store = new ReceiptStore(state.receipts, k.receiptSigner);
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) await store.append(draft(i % 2 ? "j1" : "j2", "incidents.list"));
  });

  it("signs, numbers and links every receipt", async () => {
    const all = await store.all();
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(verifyChain(all, keys)).toEqual([]);
    expect(await store.forJob("j1")).toHaveLength(2);
  });

  it("detects an edited, removed, reordered or foreign-signed receipt", async () => {
    const all = await store.all();
    const edited = all.map((r, i) => (i === 2 ? { ...r, op: "incidents.close" } : r));
    expect(verifyChain(edited, keys).map((p) => p.code)).toEqual(["bad_signature", "broken_link"]);
    const removed = all.filter((_, i) => i !== 1);
    expect(verifyChain(removed, keys).map((p) => p.code)).toContain("broken_link");
    const swapped = [all[0]!, all[2]!, all[1]!, all[3]!, all[4]!];
    expect(verifyChain(swapped, keys).length).toBeGreaterThan(0);
    const foreign = makeKeys();
    expect(verifyChain(all, foreign.trust.keys("receipt_signers")).every((p) => p.code === "bad_signature")).toBe(true);
  });
});
