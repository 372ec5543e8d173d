import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import wpcSchema from "../../schemas/wpc.schema.json" with { type: "json" };
import { type DsseEnvelope, dsseSign, dsseVerifiedKeyIds } from "../crypto/dsse.js";
import { jcs, jcsHash } from "../crypto/jcs.js";
import type { SigningKey } from "../crypto/keys.js";
import { compileRegex } from "../kql/regex.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { GovernanceError } from "./errors.js";
import type { HomePaths } from "./home.js";
import { validateAgainst } from "./schema-validate.js";
import type { TrustStore } from "./trust.js";

export const WPC_PAYLOAD_TYPE = "application/vnd.governed-sentinel.wpc+json";
const HASH_RE = /^sha256:[0-9a-f]{64}$/;

/** A policy the server may enforce: schema-valid, hashed, and signed by a trusted policy signer. */
export interface VerifiedPolicy {
  wpc: WorkPolicyContract;
  hash: string;
  envelope: DsseEnvelope;
  signerKeyIds: string[];
}

export function policyHash(wpc: WorkPolicyContract): string {
  return jcsHash(wpc);
}

/** Schema-checks a parsed WPC; throws one error listing every bad field. */
export function assertWpc(value: unknown, source = "policy"): asserts value is WorkPolicyContract {
  const problems = validateAgainst(wpcSchema, value);
  if (problems.length === 0) problems.push(...patternProblems(value as WorkPolicyContract));
  if (problems.length > 0) {
    throw new GovernanceError(
      "policy_invalid",
      `${source} is not a valid WPC: ${problems.join("; ")}`,
      "fix the fields named above (schema: schemas/wpc.schema.json), then sign again",
      { problems },
    );
  }
}

/** Redaction patterns must compile as RE2 (they run on RE2, linear time, over untrusted text). */
function patternProblems(wpc: WorkPolicyContract): string[] {
  const out: string[] = [];
  for (const [i, p] of (wpc.redaction?.patterns ?? []).entries()) {
    try {
      compileRegex(p.regex);
    } catch (e) {
      out.push(
        `redaction.patterns[${i}].regex is not an RE2 regular expression (${(e as Error).message}); remove lookaround and backreferences`,
      );
    }
  }
  return out;
}

export function signPolicy(wpc: WorkPolicyContract, keys: SigningKey[]): DsseEnvelope {
  assertWpc(wpc);
  return dsseSign(WPC_PAYLOAD_TYPE, Buffer.from(jcs(wpc), "utf8"), keys);
}

function isEnvelope(v: unknown): v is DsseEnvelope {
  return typeof v === "object" && v !== null && "payloadType" in v && "payload" in v && "signatures" in v;
}

/** Verifies an envelope: payload type, trusted signature, canonical bytes, schema, and optional expected hash. */
export function verifyEnvelope(env: DsseEnvelope, trust: TrustStore, expectedHash?: string): VerifiedPolicy {
  if (env.payloadType !== WPC_PAYLOAD_TYPE) {
    throw new GovernanceError(
      "policy_invalid",
      `envelope payloadType is "${env.payloadType}", expected ${WPC_PAYLOAD_TYPE}`,
    );
  }
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) {
    throw new GovernanceError(
      "policy_unsigned",
      "policy envelope has no signatures",
      `sign it: gsmcp policy sign FILE`,
    );
  }
  const signerKeyIds = dsseVerifiedKeyIds(env, trust.keys("policy_signers"));
  if (signerKeyIds.length === 0) {
    throw new GovernanceError(
      "policy_untrusted",
      `no signature on the policy verifies with a trusted policy signer (signed by ${env.signatures.map((s) => s.keyid).join(", ")})`,
      "sign the policy with a key listed under policy_signers in trust.json (gsmcp policy sign FILE)",
    );
  }
  const bytes = Buffer.from(env.payload, "base64").toString("utf8");
  let wpc: unknown;
  try {
    wpc = JSON.parse(bytes);
  } catch {
    throw new GovernanceError("policy_invalid", "signed policy payload is not JSON");
  }
  assertWpc(wpc, "signed policy");
  // The signed bytes must be the canonical form, so the hash of what was signed is the policy's address.
  if (jcs(wpc) !== bytes)
    throw new GovernanceError("policy_invalid", "signed policy payload is not in RFC 8785 canonical form");
  const hash = policyHash(wpc);
  if (expectedHash && hash !== expectedHash) {
    throw new GovernanceError("policy_hash_mismatch", `policy hashes to ${hash}, expected ${expectedHash}`);
  }
  return { wpc, hash, envelope: env, signerKeyIds };
}

/** Where signed policies are stored under GSMCP_HOME: policies/<hex>.dsse.json. */
export function storedPolicyPath(paths: HomePaths, hash: string): string {
  return join(paths.policies, `${hash.slice("sha256:".length)}.dsse.json`);
}

export function storePolicy(paths: HomePaths, env: DsseEnvelope, hash: string): string {
  const file = storedPolicyPath(paths, hash);
  writeFileSync(file, `${JSON.stringify(env, null, 2)}\n`);
  return file;
}

export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new GovernanceError("policy_missing", `${what} ${path} does not exist`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new GovernanceError("policy_invalid", `${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Loads the policy named by GSMCP_POLICY: a hash ("sha256:…", looked up in the store), a signed envelope file, or a
 * plain WPC file whose hash must match a signed envelope in the store. Every path ends in signature verification.
 */
export function loadPolicy(ref: string, paths: HomePaths, trust: TrustStore): VerifiedPolicy {
  if (HASH_RE.test(ref)) {
    const file = storedPolicyPath(paths, ref);
    if (!existsSync(file)) {
      throw new GovernanceError(
        "policy_missing",
        `no signed policy with hash ${ref} in ${paths.policies}`,
        "sign it: gsmcp policy sign FILE",
      );
    }
    return verifyEnvelope(readJsonFile(file, "signed policy") as DsseEnvelope, trust, ref);
  }
  const doc = readJsonFile(ref, "policy file");
  if (isEnvelope(doc)) return verifyEnvelope(doc, trust);
  assertWpc(doc, ref);
  const hash = policyHash(doc);
  const file = storedPolicyPath(paths, hash);
  if (!existsSync(file)) {
    throw new GovernanceError(
      "policy_unsigned",
      `policy ${ref} (${hash}) has not been signed by a trusted policy signer`,
      `sign it: gsmcp policy sign ${ref}`,
    );
  }
  return verifyEnvelope(readJsonFile(file, "signed policy") as DsseEnvelope, trust, hash);
}

/** Reads a WPC from a plain file or from the payload of an envelope file, without trusting it. */
export function readPolicyDocument(path: string): { wpc: WorkPolicyContract; envelope?: DsseEnvelope } {
  const doc = readJsonFile(path, "policy file");
  if (isEnvelope(doc)) {
    const wpc = JSON.parse(Buffer.from(doc.payload, "base64").toString("utf8"));
    assertWpc(wpc, path);
    return { wpc, envelope: doc };
  }
  assertWpc(doc, path);
  return { wpc: doc };
}

/** Every stored policy hash (for `policy list` and lookups by name). */
export function storedPolicyHashes(paths: HomePaths): string[] {
  if (!existsSync(paths.policies)) return [];
  return readdirSync(paths.policies)
    .filter((f) => /^[0-9a-f]{64}\.dsse\.json$/.test(f))
    .map((f) => `sha256:${f.slice(0, -".dsse.json".length)}`);
}
