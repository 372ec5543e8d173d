import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateSigningKey, publicKeyPem } from "../../src/crypto/keys.js";
import {
  describeWindow,
  KeyWindowError,
  keyValidAt,
  keyWindow,
  loadSigningKey,
  TrustStore,
  type TrustStoreFile,
  windowOf,
} from "../../src/governance/trust.js";
import {
  checkpointWindowProblem,
  parseCheckpoint,
  signCheckpoint,
  verifiedSignerKeys,
} from "../../src/receipts/checkpoint.js";
import { GENESIS_HASH, type Receipt, receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import { verifyChain } from "../../src/receipts/verify-chain.js";
import { makeHome } from "../helpers/home.js";

const T0 = "2026-01-01T00:00:00.000Z";
const T1 = "2026-02-01T00:00:00.000Z";

describe("key validity windows", () => {
  it("keyValidAt: inclusive ends, open ends unbounded, retired_at ends a window without valid_until", () => {
    expect(keyValidAt({}, "2000-01-01T00:00:00Z")).toBe(true);
    expect(keyValidAt({ valid_from: T0, valid_until: T1 }, T0)).toBe(true);
    expect(keyValidAt({ valid_from: T0, valid_until: T1 }, T1)).toBe(true);
    expect(keyValidAt({ valid_from: T0, valid_until: T1 }, "2025-12-31T23:59:59.999Z")).toBe(false);
    expect(keyValidAt({ valid_from: T0, valid_until: T1 }, "2026-02-01T00:00:00.001Z")).toBe(false);
    expect(keyValidAt({ retired_at: T1 }, "2026-03-01T00:00:00Z")).toBe(false);
    expect(keyValidAt({ retired_at: T0, valid_until: T1 }, "2026-01-15T00:00:00Z")).toBe(true); // grace
    expect(keyValidAt({}, "not a date")).toBe(false);
    expect(describeWindow(keyWindow({ valid_from: T0 }))).toBe(`${T0} .. +∞`);
  });

  it("TrustStore.keysValidAt gives the keys of a role valid at a time; keys carry their window", () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    const file = {
      policy_signers: [],
      token_issuers: [],
      approvers: [],
      client_assertion_signers: [],
      receipt_signers: [
        { keyid: a.keyid, name: "a", public_key: publicKeyPem(a.publicKey), valid_until: T1, retired_at: T1 },
        { keyid: b.keyid, name: "b", public_key: publicKeyPem(b.publicKey), valid_from: T1 },
      ],
    } as TrustStoreFile;
    const t = new TrustStore(file);
    expect([...t.keysValidAt("receipt_signers", "2026-01-15T00:00:00Z").keys()]).toEqual([a.keyid]);
    expect([...t.keysValidAt("receipt_signers", "2026-03-01T00:00:00Z").keys()]).toEqual([b.keyid]);
    expect([...t.keysValidAt("receipt_signers", T1).keys()]).toEqual([a.keyid, b.keyid]);
    expect(windowOf(t.keys("receipt_signers", true).get(a.keyid)!)).toEqual({ until: T1 });
  });

  it("a chain signed by key 1 then key 2 verifies; a receipt by key 1 after its window fails with key_outside_window naming the seq", () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    const t = new TrustStore({
      policy_signers: [],
      token_issuers: [],
      approvers: [],
      client_assertion_signers: [],
      receipt_signers: [
        { keyid: a.keyid, name: "a", public_key: publicKeyPem(a.publicKey), valid_until: T1, retired_at: T1 },
        { keyid: b.keyid, name: "b", public_key: publicKeyPem(b.publicKey), valid_from: T1 },
      ],
    });
    const body = (seq: number, prev: string, time: string) =>
      ({
        receipt_version: "1",
        receipt_id: randomUUID(),
        seq,
        prev_hash: prev,
        time,
        job: "j",
        op: "x",
      }) as unknown as Omit<Receipt, "signature">;
    const r1 = signReceipt(body(1, GENESIS_HASH, "2026-01-10T00:00:00.000Z"), a);
    const r2 = signReceipt(body(2, receiptHash(r1), "2026-02-10T00:00:00.000Z"), b);
    const keys = t.keys("receipt_signers", true);
    expect(verifyChain([r1, r2], keys)).toEqual([]);
    const forged = signReceipt(body(3, receiptHash(r2), "2026-02-11T00:00:00.000Z"), a);
    const problems = verifyChain([r1, r2, forged], keys);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ seq: 3, code: "key_outside_window" });
    expect(problems[0]!.message).toContain(`receipt seq 3 is signed by ${a.keyid} at 2026-02-11T00:00:00.000Z`);
    expect(problems[0]!.message).toContain(`-∞ .. ${T1}`);
  });

  it("a checkpoint dated outside its key's window (or undated from a windowed key) is a problem", () => {
    const a = generateSigningKey();
    const t = new TrustStore({
      policy_signers: [],
      token_issuers: [],
      approvers: [],
      client_assertion_signers: [],
      receipt_signers: [{ keyid: a.keyid, name: "a", public_key: publicKeyPem(a.publicKey), valid_until: T1 }],
    });
    const keys = [...t.keys("receipt_signers", true).values()];
    const sign = (time?: Date) =>
      parseCheckpoint(signCheckpoint({ origin: "o", size: 1, root: Buffer.alloc(32), ...(time ? { time } : {}) }, a));
    const inside = sign(new Date("2026-01-10T00:00:00Z"));
    expect(checkpointWindowProblem(inside, verifiedSignerKeys(inside, keys))).toBeUndefined();
    const after = sign(new Date("2026-02-10T00:00:00Z"));
    expect(checkpointWindowProblem(after, verifiedSignerKeys(after, keys))).toContain(
      "is dated 2026-02-10T00:00:00.000Z, outside the validity window",
    );
    const undated = sign();
    expect(checkpointWindowProblem(undated, verifiedSignerKeys(undated, keys))).toContain("carries no time line");
  });

  it("loadSigningKey refuses a key whose window is over (naming keys rotate), and a loaded key refuses to sign outside its window", async () => {
    const h = await makeHome();
    const trust = JSON.parse(readFileSync(h.paths.trust, "utf8")) as TrustStoreFile;
    const entry = trust.receipt_signers[0]!;
    entry.valid_until = "2030-01-01T00:00:00.000Z";
    writeFileSync(h.paths.trust, JSON.stringify(trust));
    const key = loadSigningKey(h.paths, "receiptSigner", new Date("2029-01-01T00:00:00Z"));
    expect(() =>
      signReceipt({ time: "2030-06-01T00:00:00.000Z" } as unknown as Omit<Receipt, "signature">, key),
    ).toThrow(KeyWindowError);
    expect(() =>
      signCheckpoint({ origin: "o", size: 1, root: Buffer.alloc(32), time: new Date("2030-06-01T00:00:00Z") }, key),
    ).toThrow(/gsmcp keys rotate receipt/);
    expect(() => loadSigningKey(h.paths, "receiptSigner", new Date("2031-01-01T00:00:00Z"))).toThrow(
      /receipt_signers key .* is valid -∞ \.\. 2030-01-01T00:00:00.000Z, not at 2031-01-01T00:00:00.000Z.*gsmcp keys rotate receipt/,
    );
  });
});
