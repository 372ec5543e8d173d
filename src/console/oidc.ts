/**
 * Approver sign-in: OpenID Connect authorization code flow with PKCE (S256), nonce and state, through openid-client.
 *
 * `startLogin` builds the authorization URL and a transaction the caller keeps server-side (keyed by `state`);
 * `finishLogin` takes the callback URL and that transaction and returns the signed-in Person. Protocol checks (state,
 * PKCE, id token signature, iss/aud/exp/nonce, auth_time vs max_age) are the library's; this module adds the
 * per-tenant issuer check Entra multi-tenant apps need, role mapping, single use and the MFA requirement.
 */
import * as client from "openid-client";
import { isLoopbackHost, type ResolvedConsoleOidcConfig } from "./oidc-config.js";

export type ConsoleRole = "approver" | "reviewer";

/** The signed-in human, from the id token. */
export interface Person {
  /** Entra tenant id, when the provider sends one. */
  tid?: string;
  /** Entra object id (`oid`), else `sub`. */
  oid: string;
  sub: string;
  iss: string;
  name?: string;
  email?: string;
  roles: ConsoleRole[];
  amr: string[];
  /** When the person last authenticated at the provider (seconds since the epoch). */
  auth_time?: number;
  /** Stable id: `${tid}:${oid}` when tid is present, else `${iss}#${sub}`. */
  id: string;
}

/** What the console keeps (server-side, keyed by state) between startLogin and finishLogin. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  /** PKCE code verifier. */
  verifier: string;
  /** Same-origin relative path to go to after sign-in. */
  returnTo: string;
  /** Milliseconds since the epoch. */
  created: number;
  /** max_age sent (seconds); auth_time is then required and checked. */
  maxAge?: number;
  /** MFA was asked for: the id token's amr must contain "mfa". */
  requireMfa?: boolean;
}

export interface StartLoginOptions {
  /** Ask the provider to re-authenticate when the last authentication is older than this (seconds). */
  maxAge?: number;
  /** Ask for multi-factor authentication (per config `mfa`), and require `amr` to contain "mfa". */
  requireMfa?: boolean;
  /** `prompt` parameter, e.g. "login" to force credentials or "select_account". */
  prompt?: "login" | "select_account" | "consent";
  loginHint?: string;
}

export type SignInErrorCode =
  | "transaction_invalid"
  | "transaction_expired"
  | "transaction_reused"
  | "callback_url_mismatch"
  | "state_mismatch"
  | "nonce_mismatch"
  | "provider_error"
  | "token_invalid"
  | "issuer_mismatch"
  | "tenant_not_allowed"
  | "reauthentication_required"
  | "mfa_required";

export class SignInError extends Error {
  override readonly name = "SignInError";
  constructor(
    readonly code: SignInErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A transaction older than this is refused (milliseconds). */
export const LOGIN_TRANSACTION_TTL_MS = 10 * 60 * 1000;

/**
 * A same-origin relative path (`/…`) or `fallback`: no scheme, no `//host`, no backslashes or control characters,
 * so the post-login redirect cannot leave the console.
 */
export function safeReturnTo(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith("/") || value.startsWith("//")) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return fallback;
  const base = "https://console.invalid";
  let u: URL;
  try {
    u = new URL(value, base);
  } catch {
    return fallback;
  }
  if (u.origin !== base) return fallback;
  return `${u.pathname}${u.search}${u.hash}`;
}

export function isSafeReturnTo(value: unknown): value is string {
  return typeof value === "string" && safeReturnTo(value, "\u0000") === value;
}

/** Whether the person authenticated at the provider within the last `maxAgeSeconds` (now in ms). */
export function isRecent(person: Pick<Person, "auth_time">, maxAgeSeconds: number, now: number = Date.now()): boolean {
  if (typeof person.auth_time !== "number") return false;
  const age = Math.floor(now / 1000) - person.auth_time;
  return age <= maxAgeSeconds;
}

/** Multi-factor authentication as the provider reports it: `amr` contains "mfa". */
export function hasMfa(person: Pick<Person, "amr">): boolean {
  return person.amr.includes("mfa");
}

/**
 * The per-tenant issuer check Entra multi-tenant apps must do. `issuerTemplate` is the discovered issuer, which for
 * the organizations/common endpoints holds `{tenantid}`. When it does, `tid` is required and `iss` must equal the
 * template with `{tenantid}` replaced by `tid`; otherwise `iss` must equal the template. When `allowedTenants` is
 * set, `tid` must be one of them. Returns undefined when valid.
 */
export function checkTenantIssuer(
  claims: { iss?: unknown; tid?: unknown },
  issuerTemplate: string,
  allowedTenants?: readonly string[],
): { code: "issuer_mismatch" | "tenant_not_allowed"; message: string } | undefined {
  const iss = typeof claims.iss === "string" ? claims.iss : undefined;
  const tid = typeof claims.tid === "string" && claims.tid.length > 0 ? claims.tid : undefined;
  if (!iss) return { code: "issuer_mismatch", message: "the id token has no iss claim" };
  const templated = issuerTemplate.includes("{tenantid}");
  if ((templated || allowedTenants) && !tid) {
    return { code: "tenant_not_allowed", message: "the id token has no tid claim, and the issuer is per tenant" };
  }
  if (allowedTenants && !allowedTenants.some((t) => t.toLowerCase() === tid!.toLowerCase())) {
    return { code: "tenant_not_allowed", message: `tenant ${tid} is not in allowed_tenants` };
  }
  const expected = templated ? issuerTemplate.replaceAll("{tenantid}", tid!) : issuerTemplate;
  if (iss !== expected) {
    return { code: "issuer_mismatch", message: `id token iss ${iss} is not the issuer expected (${expected})` };
  }
  return undefined;
}

/** Maps the roles claim (array or single string) through role_values; unknown values are dropped. */
export function mapRoles(raw: unknown, roleValues: { approver: string; reviewer: string }): ConsoleRole[] {
  const values = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
  const out = new Set<ConsoleRole>();
  for (const v of values) {
    if (v === roleValues.approver) out.add("approver");
    if (v === roleValues.reviewer) out.add("reviewer");
  }
  return [...out].sort();
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

/** Builds the Person from validated id token claims. */
export function personFromClaims(claims: Record<string, unknown>, config: ResolvedConsoleOidcConfigLike): Person {
  const sub = str(claims.sub);
  const iss = str(claims.iss);
  if (!sub || !iss) throw new SignInError("token_invalid", "the id token lacks sub or iss");
  const tid = str(claims.tid);
  const oid = str(claims.oid) ?? sub;
  const name = str(claims.name);
  const email =
    str(claims.email) ?? (str(claims.preferred_username)?.includes("@") ? str(claims.preferred_username) : undefined);
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((a): a is string => typeof a === "string") : [];
  const authTime = typeof claims.auth_time === "number" ? claims.auth_time : undefined;
  return {
    ...(tid ? { tid } : {}),
    oid,
    sub,
    iss,
    ...(name ? { name } : {}),
    ...(email ? { email } : {}),
    roles: mapRoles(claims[config.roles_claim], config.role_values),
    amr,
    ...(authTime !== undefined ? { auth_time: authTime } : {}),
    id: tid ? `${tid}:${oid}` : `${iss}#${sub}`,
  };
}

type ResolvedConsoleOidcConfigLike = Pick<ResolvedConsoleOidcConfig, "roles_claim" | "role_values">;

function classify(err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
    const e = err as { error?: string; error_description?: string };
    return new SignInError(
      "provider_error",
      `the provider refused: ${e.error ?? "error"} ${e.error_description ?? ""}`.trim(),
      {
        cause: err,
      },
    );
  }
  // openid-client wraps oauth4webapi's errors: read the whole cause chain for the message and the failed claim.
  const messages: string[] = [];
  let claim: string | undefined;
  for (let c: unknown = err, depth = 0; c && typeof c === "object" && depth < 5; depth++) {
    const o = c as { message?: unknown; claim?: unknown; cause?: unknown };
    if (typeof o.message === "string") messages.push(o.message);
    if (typeof o.claim === "string") claim ??= o.claim;
    c = o.cause;
  }
  const message = messages.join(": ") || String(err);
  if (/"state"/.test(message)) return new SignInError("state_mismatch", message, { cause: err });
  if (claim === "nonce" || /"nonce"/.test(message)) return new SignInError("nonce_mismatch", message, { cause: err });
  if (claim === "auth_time" || /auth_time/.test(message)) {
    return new SignInError("reauthentication_required", message, { cause: err });
  }
  return new SignInError("token_invalid", message, { cause: err });
}

export interface OidcSignInOptions {
  /** Clock for transaction expiry (ms). */
  now?: () => number;
  /** Discovery/request timeout (seconds). */
  timeout?: number;
}

/** Sign-in against one provider, per the console's OIDC configuration. */
export class OidcSignIn {
  /** States already finished (or failed after the token request), kept until their transaction would expire. */
  private readonly consumed = new Map<string, number>();
  private readonly now: () => number;

  private constructor(
    readonly config: ResolvedConsoleOidcConfig,
    private readonly client: client.Configuration,
    options: OidcSignInOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Discovers the provider. http issuers are accepted only on loopback hosts (tests). */
  static async create(config: ResolvedConsoleOidcConfig, options: OidcSignInOptions = {}): Promise<OidcSignIn> {
    const issuer = new URL(config.issuer);
    const insecure = issuer.protocol === "http:";
    if (insecure && !isLoopbackHost(issuer.hostname)) {
      throw new SignInError("issuer_mismatch", `http issuer ${config.issuer} is allowed only on a loopback host`);
    }
    const cfg = await client.discovery(
      issuer,
      config.client_id,
      { client_secret: config.client_secret },
      client.ClientSecretPost(config.client_secret),
      {
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
        ...(options.timeout ? { timeout: options.timeout } : {}),
      },
    );
    return new OidcSignIn(config, cfg, options);
  }

  /** The discovered issuer; for Entra organizations/common it holds `{tenantid}`. */
  get issuerTemplate(): string {
    return this.client.serverMetadata().issuer;
  }

  async startLogin(
    returnTo: string,
    options: StartLoginOptions = {},
  ): Promise<{ url: URL; transaction: LoginTransaction }> {
    const verifier = client.randomPKCECodeVerifier();
    const transaction: LoginTransaction = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier,
      returnTo: safeReturnTo(returnTo),
      created: this.now(),
      ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
      ...(options.requireMfa ? { requireMfa: true } : {}),
    };
    if (options.maxAge !== undefined && (!Number.isInteger(options.maxAge) || options.maxAge < 0)) {
      throw new TypeError("maxAge must be a non-negative integer (seconds)");
    }
    const params: Record<string, string> = {
      redirect_uri: this.config.redirect_uri,
      response_type: "code",
      scope: this.config.scopes,
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    };
    if (options.maxAge !== undefined) params.max_age = String(options.maxAge);
    if (options.prompt) params.prompt = options.prompt;
    if (options.loginHint) params.login_hint = options.loginHint;
    if (options.requireMfa && this.config.mfa) {
      if (this.config.mfa.acr_values) params.acr_values = this.config.mfa.acr_values;
      const ec = this.config.mfa.essential_claim;
      if (ec) params.claims = JSON.stringify({ id_token: { [ec.name]: { essential: true, value: ec.value } } });
    }
    return { url: client.buildAuthorizationUrl(this.client, params), transaction };
  }

  /**
   * Completes sign-in from the callback URL (absolute, or path + query resolved against redirect_uri) and the
   * transaction stored under its state. A transaction is single use: a second finish with it is refused.
   */
  async finishLogin(callbackUrl: string | URL, transaction: LoginTransaction): Promise<Person> {
    this.prune();
    if (
      !transaction ||
      typeof transaction.state !== "string" ||
      typeof transaction.nonce !== "string" ||
      typeof transaction.verifier !== "string"
    ) {
      throw new SignInError("transaction_invalid", "no sign-in transaction: start again from the sign-in page");
    }
    if (this.consumed.has(transaction.state)) {
      throw new SignInError("transaction_reused", "this sign-in transaction was already used: start again");
    }
    if (this.now() - transaction.created > LOGIN_TRANSACTION_TTL_MS || transaction.created > this.now() + 60_000) {
      throw new SignInError("transaction_expired", "the sign-in took too long: start again");
    }
    const redirect = new URL(this.config.redirect_uri);
    const received = new URL(String(callbackUrl), redirect);
    if (received.origin !== redirect.origin || received.pathname !== redirect.pathname) {
      throw new SignInError(
        "callback_url_mismatch",
        `callback ${received.origin}${received.pathname} is not redirect_uri`,
      );
    }
    const current = new URL(redirect);
    current.search = received.search;
    // Burn the state before any network call: whatever happens next, this transaction cannot be replayed.
    this.consumed.set(transaction.state, transaction.created + LOGIN_TRANSACTION_TTL_MS);

    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(this.client, current, {
        pkceCodeVerifier: transaction.verifier,
        expectedNonce: transaction.nonce,
        expectedState: transaction.state,
        idTokenExpected: true,
        ...(transaction.maxAge !== undefined ? { maxAge: transaction.maxAge } : {}),
      });
      claims = tokens.claims() as Record<string, unknown> | undefined;
    } catch (err) {
      throw classify(err);
    }
    if (!claims) throw new SignInError("token_invalid", "the provider returned no id token");

    const tenantProblem = checkTenantIssuer(claims, this.issuerTemplate, this.config.allowed_tenants);
    if (tenantProblem) throw new SignInError(tenantProblem.code, tenantProblem.message);

    const person = personFromClaims(claims, this.config);
    if (transaction.maxAge !== undefined && !isRecent(person, transaction.maxAge + 30, this.now())) {
      throw new SignInError("reauthentication_required", "the provider did not re-authenticate the person");
    }
    if (transaction.requireMfa && !hasMfa(person)) {
      throw new SignInError("mfa_required", "multi-factor authentication was required and the id token shows none");
    }
    return person;
  }

  private prune(): void {
    const t = this.now();
    for (const [state, until] of this.consumed) if (until < t) this.consumed.delete(state);
  }
}

/** Shorthand for `OidcSignIn.create`. */
export function createOidcSignIn(config: ResolvedConsoleOidcConfig, options?: OidcSignInOptions): Promise<OidcSignIn> {
  return OidcSignIn.create(config, options);
}
