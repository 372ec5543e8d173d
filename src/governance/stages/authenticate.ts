import type { CstClaims } from "../../types/cst.js";
import { toGovernanceError } from "../codes.js";
import { GovernanceError } from "../errors.js";
import type { VerifiedPolicy } from "../policy.js";
import { CLOCK_SKEW_SECONDS, verifyToken } from "../token.js";
import type { TrustStore } from "../trust.js";
import { type Caller, refused, type StageResult } from "./types.js";

export interface AuthenticateDeps {
  trust: TrustStore;
  audience: string;
  policy: VerifiedPolicy | GovernanceError;
  now(): number;
}

/**
 * Stage 1, authenticate: the session's token against the active policy. A token verified once stays verified (same
 * trust store, same policy); its time window is checked again on every call, so expiry is never cached.
 */
export class SessionAuth {
  private verified?: { token: string; claims: CstClaims };

  constructor(
    private readonly deps: AuthenticateDeps,
    private current: string,
  ) {}

  get token(): string {
    return this.current;
  }

  /** HTTP: a session may present a refreshed token for the same job. */
  setToken(token: string): void {
    this.current = token;
  }

  async authenticate(): Promise<StageResult<{ caller: Caller }>> {
    try {
      return { ok: true, caller: await this.caller() };
    } catch (e) {
      return refused(toGovernanceError(e, "auth_invalid"));
    }
  }

  /** The same check, throwing the refusal (for resources and prompts, which answer with protocol errors). */
  async caller(): Promise<Caller> {
    if (this.deps.policy instanceof GovernanceError) throw this.deps.policy;
    const policy = this.deps.policy;
    const nowSec = Math.floor(this.deps.now() / 1000);
    const cached = this.verified;
    if (cached && cached.token === this.current) {
      if (nowSec > cached.claims.exp + CLOCK_SKEW_SECONDS)
        throw new GovernanceError("auth_expired", "CST has expired", "issue a new token: gsmcp token issue");
      if (nowSec < cached.claims.nbf - CLOCK_SKEW_SECONDS)
        throw new GovernanceError("auth_expired", "CST is not valid yet", "check clocks");
      return { claims: cached.claims, policy };
    }
    const claims = await verifyToken({
      token: this.current,
      trust: this.deps.trust,
      audience: this.deps.audience,
      wpc: policy.wpc,
      policyHash: policy.hash,
      now: nowSec,
    });
    this.verified = { token: this.current, claims };
    return { claims, policy };
  }
}
