import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dsseSign } from "../../src/crypto/dsse.js";
import { generateSigningKey } from "../../src/crypto/keys.js";
import type { GovernanceError } from "../../src/governance/errors.js";
import { assertWpc, policyHash, signPolicy, verifyEnvelope, WPC_PAYLOAD_TYPE } from "../../src/governance/policy.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { makeKeys } from "../helpers/keys.js";

const triage = JSON.parse(readFileSync("examples/policies/triage-readonly.wpc.json", "utf8")) as WorkPolicyContract;
const containment = JSON.parse(
  readFileSync("examples/policies/containment-with-approvals.wpc.json", "utf8"),
) as WorkPolicyContract;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as GovernanceError).code;
  }
  return "no error";
}

describe("WPC schema", () => {
  it("accepts both example policies", () => {
    expect(() => assertWpc(triage)).not.toThrow();
    expect(() => assertWpc(containment)).not.toThrow();
  });

  it("names every bad field", () => {
    const bad = {
      ...triage,
      extra: 1,
      token_requirements: { cst_ttl_seconds_max: 5 },
      allow: [{ tool: "sentinel.api", ops: ["incidents list"] }],
    };
    try {
      assertWpc(bad);
      expect.unreachable();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('unknown field "extra"');
      expect(msg).toContain("token_requirements.cst_ttl_seconds_max");
      expect(msg).toContain("allow.0.ops.0");
    }
  });
});

describe("signed, hash-addressed policies", () => {
  it("hash is stable under key reordering and changes with content", () => {
    const reordered = Object.fromEntries(Object.entries(triage).reverse()) as unknown as WorkPolicyContract;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(triage));
    expect(policyHash(reordered)).toBe(policyHash(triage));
    expect(policyHash({ ...triage, policy_name: "other" })).not.toBe(policyHash(triage));
  });

  it("verifies a trusted signature and returns the hash", () => {
    const k = makeKeys();
    const v = verifyEnvelope(signPolicy(triage, [k.policySigner]), k.trust);
    expect(v.hash).toBe(policyHash(triage));
    expect(v.signerKeyIds).toEqual([k.policySigner.keyid]);
  });

  it("refuses untrusted signers, unsigned envelopes, tampered payloads and hash mismatches", () => {
    const k = makeKeys();
    const env = signPolicy(triage, [k.policySigner]);
    expect(code(() => verifyEnvelope(signPolicy(triage, [generateSigningKey()]), k.trust))).toBe("policy_untrusted");
    expect(code(() => verifyEnvelope({ ...env, signatures: [] }, k.trust))).toBe("policy_unsigned");
    const bytes = Buffer.from(env.payload, "base64");
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 1, bytes.length - 3);
    expect(code(() => verifyEnvelope({ ...env, payload: bytes.toString("base64") }, k.trust))).toBe("policy_untrusted");
    expect(code(() => verifyEnvelope(env, k.trust, policyHash(containment)))).toBe("policy_hash_mismatch");
  });

  it("refuses a signed but non-canonical payload (its hash would not be its address)", () => {
    const k = makeKeys();
    const env = dsseSign(WPC_PAYLOAD_TYPE, Buffer.from(JSON.stringify(triage, null, 2)), [k.policySigner]);
    expect(code(() => verifyEnvelope(env, k.trust))).toBe("policy_invalid");
  });
});
