import { readFileSync } from "node:fs";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { generateSigningKey } from "../../src/crypto/keys.js";
import type { GovernanceError } from "../../src/governance/errors.js";
import { policyHash } from "../../src/governance/policy.js";
import { issueToken, scopeHash, verifyToken } from "../../src/governance/token.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { makeKeys } from "../helpers/keys.js";

const wpc = JSON.parse(readFileSync("examples/policies/triage-readonly.wpc.json", "utf8")) as WorkPolicyContract;
const hash = policyHash(wpc);
const AUD = "urn:gsmcp:server:test";
const keys = makeKeys();
const now = 1_800_000_000;

function issue(over: Partial<Parameters<typeof issueToken>[0]> = {}) {
  return issueToken({
    issuer: "test-issuer",
    audience: AUD,
    key: keys.tokenIssuer,
    agent: "agent-1",
    job: "job-1",
    scope: ["incidents.list", "kql.query"],
    ttlSeconds: 600,
    policyHash: hash,
    now,
    ...over,
  });
}

async function failure(token: string, at = now, policy = wpc, pHash = hash): Promise<string> {
  try {
    await verifyToken({ token, trust: keys.trust, audience: AUD, wpc: policy, policyHash: pHash, now: at });
    return "accepted";
  } catch (e) {
    return (e as GovernanceError).code;
  }
}

describe("CST", () => {
  it("round-trips with every claim", async () => {
    const c = await verifyToken({ token: await issue(), trust: keys.trust, audience: AUD, wpc, policyHash: hash, now });
    expect(c).toMatchObject({
      sub: "agent-1",
      job: "job-1",
      policy_hash: hash,
      scope: ["incidents.list", "kql.query"],
    });
    expect(c.scope_hash).toBe(scopeHash(["kql.query", "incidents.list"]));
    expect(c.exp - c.iat).toBe(600);
  });

  it("enforces exp and nbf with 60 s skew", async () => {
    const t = await issue();
    expect(await failure(t, now + 600 + 59)).toBe("accepted");
    expect(await failure(t, now + 600 + 61)).toBe("auth_expired");
    expect(await failure(t, now - 59)).toBe("accepted");
    expect(await failure(t, now - 61)).toBe("auth_expired");
  });

  it("refuses a flipped byte, a foreign issuer key, a wrong audience", async () => {
    const t = await issue();
    const parts = t.split(".");
    const sig = Buffer.from(parts[2]!, "base64url");
    sig.writeUInt8(sig.readUInt8(5) ^ 1, 5);
    expect(await failure(`${parts[0]}.${parts[1]}.${sig.toString("base64url")}`)).toBe("auth_invalid");
    expect(await failure(await issue({ key: generateSigningKey() }))).toBe("auth_untrusted_issuer");
    expect(await failure(await issue({ audience: "urn:other" }))).toBe("auth_invalid");
    expect(await failure(await issue({ issuer: "someone-else" }))).toBe("auth_invalid");
  });

  it("pins the algorithm: alg none and HS256-with-the-public-key are refused", async () => {
    const payload = Buffer.from(
      JSON.stringify({ sub: "a", job: "j", scope: [], iss: "test-issuer", aud: AUD, exp: now + 60 }),
    ).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid: keys.tokenIssuer.keyid })).toString("base64url")}.${payload}.`;
    expect(await failure(none)).toBe("auth_invalid");
    const pem = keys.tokenIssuer.publicKey.export({ format: "pem", type: "spki" });
    const hs = await new SignJWT({ sub: "a", job: "j", scope: [] })
      .setProtectedHeader({ alg: "HS256", kid: keys.tokenIssuer.keyid })
      .sign(new TextEncoder().encode(String(pem)));
    expect(await failure(hs)).toBe("auth_invalid");
  });

  it("enforces the policy's TTL maximum, the scope hash and the policy pin", async () => {
    expect(await failure(await issue({ ttlSeconds: 901 }))).toBe("auth_ttl_exceeds_policy");
    const other = { ...wpc, policy_name: "other" };
    expect(await failure(await issue(), now, other, policyHash(other))).toBe("auth_policy_pin_mismatch");
    expect(await failure(await issue({ policyHash: undefined }))).toBe("auth_policy_pin_missing");
    // scope_hash that does not match the scope, signed by the trusted issuer (a buggy or malicious issuer).
    const forged = await new SignJWT({
      job: "job-1",
      scope: ["incidents.close"],
      scope_hash: scopeHash(["incidents.list"]),
      jti: "abcdefgh1234",
    })
      .setProtectedHeader({ alg: "EdDSA", kid: keys.tokenIssuer.keyid })
      .setIssuer("test-issuer")
      .setAudience(AUD)
      .setSubject("agent-1")
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 60)
      .sign(keys.tokenIssuer.privateKey);
    expect(await failure(forged)).toBe("auth_scope_hash_mismatch");
  });

  it("refuses no token at all", async () => {
    expect(await failure("")).toBe("auth_missing");
  });
});
