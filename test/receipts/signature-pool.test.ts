import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { jcs } from "../../src/crypto/jcs.js";
import { generateSigningKey } from "../../src/crypto/keys.js";
import { type Receipt, signReceipt } from "../../src/receipts/receipt.js";
import { badSignatures } from "../../src/receipts/signature-pool.js";

const key = generateSigningKey();
const other = generateSigningKey();
const keys = new Map([[key.keyid, key.publicKey]]);

function receipts(n: number): Receipt[] {
  return Array.from({ length: n }, (_, i) =>
    signReceipt(
      {
        receipt_id: randomUUID(),
        seq: i + 1,
        prev_hash: `sha256:${"0".repeat(64)}`,
        time: new Date(1_700_000_000_000 + i).toISOString(),
        server_id: "srv",
        job: "job",
        agent: "agent",
        cst_jti: "jti",
        policy_hash: "-",
        op: "incidents.get",
        tool: "sentinel_incidents_get",
        args_hash: "-",
        args_redacted: { incidentId: `i-${i}`, note: "ünïcødé ✓" },
        decision: { effect: "ALLOW", reasons: [] },
        constraints_applied: [],
        phase: "single",
        outcome: { status: "ok" },
        event_id: randomUUID(),
      } as Omit<Receipt, "signature">,
      key,
    ),
  );
}

/** Breaks receipts at known positions, each in a different way. */
function tamper(rs: Receipt[]): number[] {
  const edited = rs[10]!;
  (edited.args_redacted as Record<string, unknown>).incidentId = "i-other";
  const foreign = rs[500]!;
  rs[500] = signReceipt({ ...foreign, signature: undefined } as unknown as Omit<Receipt, "signature">, other);
  rs[1999] = { ...rs[1999]!, signature: { ...rs[1999]!.signature, sig: "AAAA" } };
  rs[2400] = { ...rs[2400]!, signature: { keyid: key.keyid, sig: rs[2401]!.signature.sig } };
  return [10, 500, 1999, 2400];
}

describe("receipt signature checks (in-thread and on worker threads)", () => {
  it("worker threads find exactly the receipts whose signature does not verify, as the in-thread check does", async () => {
    const rs = receipts(2500);
    const broken = tamper(rs);
    const canonical = (r: Receipt) => jcs(r);
    const inThread = await badSignatures(rs, canonical, keys, { workers: 1 });
    const parallel = await badSignatures(rs, canonical, keys, { workers: 3 });
    expect(inThread).toEqual(broken);
    expect([...parallel].sort((a, b) => a - b)).toEqual(broken);
  });

  it("accepts every receipt of an untouched log, and rejects all when the signer is not among the keys", async () => {
    const rs = receipts(2100);
    expect(await badSignatures(rs, (r) => jcs(r), keys, { workers: 2 })).toEqual([]);
    const wrong = new Map([[other.keyid, other.publicKey]]);
    expect(await badSignatures(rs, (r) => jcs(r), wrong, { workers: 2 })).toHaveLength(2100);
  });
});
