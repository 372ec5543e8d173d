import { randomUUID } from "node:crypto";
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import cstSchema from "../../schemas/cst-claims.schema.json" with { type: "json" };
import { jcsHash } from "../crypto/jcs.js";
import type { SigningKey } from "../crypto/keys.js";
import type { CstClaims } from "../types/cst.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { GovernanceError } from "./errors.js";
import { validateAgainst } from "./schema-validate.js";
import type { TrustStore } from "./trust.js";

/** Allowed clock skew between issuer and server. */
export const CLOCK_SKEW_SECONDS = 60;
/** The only algorithm a CST may use; pinned on both sides. */
export const CST_ALG = "EdDSA";

/**
 * The hash of what a token may reach: its ops (sorted) and, when it is pinned, its workspaces and tenants. A token
 * without pins hashes as before (the sorted ops alone), so tokens issued before pins existed still verify.
 */
export function scopeHash(scope: string[], pins: { workspaces?: string[]; tenants?: string[] } = {}): string {
  const ops = [...new Set(scope)].sort();
  if (!pins.workspaces && !pins.tenants) return jcsHash(ops);
  return jcsHash({
    ops,
    ...(pins.workspaces ? { workspaces: [...new Set(pins.workspaces)].sort() } : {}),
    ...(pins.tenants ? { tenants: [...new Set(pins.tenants)].sort() } : {}),
  });
}

/** A token's pins as the scope hash covers them. */
export const pinsOf = (c: { workspaces?: string[]; tenants?: string[] }) => ({
  ...(c.workspaces ? { workspaces: c.workspaces } : {}),
  ...(c.tenants ? { tenants: c.tenants } : {}),
});

export interface IssueTokenInput {
  issuer: string;
  audience: string;
  key: SigningKey;
  agent: string;
  job: string;
  scope: string[];
  ttlSeconds: number;
  policyHash?: string;
  workspaces?: string[];
  /** Tenants the job may reach (every workspace it names must belong to one of them). */
  tenants?: string[];
  /** Who started the job (separation of duties: approval rules with distinct_approver refuse them as approver). */
  requestedBy?: string;
  now?: number; // epoch seconds
}

export async function issueToken(input: IssueTokenInput): Promise<string> {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const scope = [...new Set(input.scope)].sort();
  const claims: Omit<CstClaims, "iss" | "aud" | "iat" | "nbf" | "exp"> = {
    sub: input.agent,
    jti: randomUUID(),
    job: input.job,
    scope,
    scope_hash: scopeHash(scope, pinsOf(input)),
    ...(input.policyHash ? { policy_hash: input.policyHash } : {}),
    ...(input.workspaces ? { workspaces: [...new Set(input.workspaces)].sort() } : {}),
    ...(input.tenants ? { tenants: [...new Set(input.tenants)].sort() } : {}),
    ...(input.requestedBy ? { requested_by: input.requestedBy } : {}),
  };
  const problems = validateAgainst(cstSchema, {
    ...claims,
    iss: input.issuer,
    aud: input.audience,
    iat: now,
    nbf: now,
    exp: now + input.ttlSeconds,
  });
  if (problems.length > 0) throw new GovernanceError("auth_invalid", `cannot issue token: ${problems.join("; ")}`);
  return new SignJWT(claims as unknown as JWTPayload)
    .setProtectedHeader({ alg: CST_ALG, typ: "cst+jwt", kid: input.key.keyid })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + input.ttlSeconds)
    .sign(input.key.privateKey);
}

export interface VerifyTokenInput {
  token: string;
  trust: TrustStore;
  audience: string;
  wpc: WorkPolicyContract;
  policyHash: string;
  now?: number; // epoch seconds
}

/** Verifies a CST completely or throws a GovernanceError naming the failed check. */
export async function verifyToken(input: VerifyTokenInput): Promise<CstClaims> {
  const { token, trust } = input;
  if (!token)
    throw new GovernanceError(
      "auth_missing",
      "no CST was presented",
      "set GSMCP_CST (token or @file) or send Authorization: Bearer",
    );
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new GovernanceError("auth_invalid", "CST is not a well-formed JWS", "issue a new token: gsmcp token issue");
  }
  if (header.alg !== CST_ALG) {
    throw new GovernanceError("auth_invalid", `CST algorithm "${String(header.alg)}" is not allowed (only ${CST_ALG})`);
  }
  const kid = typeof header.kid === "string" ? header.kid : "";
  const issuerKey = trust.keys("token_issuers").get(kid);
  const issuerEntry = trust.entry("token_issuers", kid);
  if (!issuerKey || !issuerEntry) {
    throw new GovernanceError(
      "auth_untrusted_issuer",
      `CST key id "${kid}" is not a trusted token issuer`,
      "issue the token with a key listed under token_issuers in trust.json",
    );
  }
  let payload: JWTPayload;
  try {
    const currentDate = input.now !== undefined ? new Date(input.now * 1000) : undefined;
    ({ payload } = await jwtVerify(token, issuerKey, {
      algorithms: [CST_ALG],
      audience: input.audience,
      issuer: issuerEntry.name,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "nbf", "iat", "jti", "sub"],
      ...(currentDate ? { currentDate } : {}),
    }));
  } catch (e) {
    throw mapJoseError(e);
  }
  const problems = validateAgainst(cstSchema, payload);
  if (problems.length > 0) throw new GovernanceError("auth_invalid", `CST claims are invalid: ${problems.join("; ")}`);
  const claims = payload as unknown as CstClaims;
  const ttlMax = input.wpc.token_requirements.cst_ttl_seconds_max;
  if (claims.exp - Math.min(claims.iat, claims.nbf) > ttlMax) {
    throw new GovernanceError(
      "auth_ttl_exceeds_policy",
      `CST lifetime ${claims.exp - claims.iat}s exceeds the policy maximum ${ttlMax}s`,
      `issue a token with --ttl ${ttlMax} or less`,
    );
  }
  if (scopeHash(claims.scope, pinsOf(claims)) !== claims.scope_hash) {
    throw new GovernanceError("auth_scope_hash_mismatch", "CST scope_hash does not match its scope and pins");
  }
  if (claims.policy_hash !== undefined && claims.policy_hash !== input.policyHash) {
    throw new GovernanceError(
      "auth_policy_pin_mismatch",
      `CST is pinned to policy ${claims.policy_hash}, but the server enforces ${input.policyHash}`,
      "issue a token for the active policy or start the server with the pinned policy",
    );
  }
  if (input.wpc.token_requirements.require_single_tenant_pin && claims.tenants?.length !== 1) {
    throw new GovernanceError(
      "tenant_not_allowed",
      `the policy requires tokens pinned to exactly one tenant; this CST pins ${claims.tenants?.length ? claims.tenants.join(", ") : "none"}`,
      "issue the token with --tenants TENANT (one tenant per job)",
    );
  }
  if (input.wpc.token_requirements.require_policy_hash_pinning && claims.policy_hash === undefined) {
    throw new GovernanceError(
      "auth_policy_pin_missing",
      "the policy requires tokens pinned to its hash; this CST has no policy_hash",
      "issue the token with --policy so it is pinned",
    );
  }
  return claims;
}

function mapJoseError(e: unknown): GovernanceError {
  if (e instanceof joseErrors.JWTExpired)
    return new GovernanceError("auth_expired", "CST has expired", "issue a new token: gsmcp token issue");
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    const fix = e.claim === "nbf" ? "CST is not valid yet; check clocks" : "issue a token for this server";
    return new GovernanceError(
      e.claim === "nbf" ? "auth_expired" : "auth_invalid",
      `CST claim "${e.claim}" check failed: ${e.reason}`,
      fix,
    );
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed)
    return new GovernanceError("auth_invalid", "CST signature does not verify");
  if (e instanceof joseErrors.JOSEAlgNotAllowed)
    return new GovernanceError("auth_invalid", "CST algorithm is not allowed");
  return new GovernanceError("auth_invalid", `CST rejected: ${(e as Error).message}`);
}

/** Reads GSMCP_CST: the token itself, or "@path" to a file holding it. */
export function readTokenRef(ref: string | undefined, readFile: (p: string) => string): string {
  if (!ref) return "";
  return ref.startsWith("@") ? readFile(ref.slice(1)).trim() : ref.trim();
}
