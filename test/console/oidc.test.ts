import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkTenantIssuer,
  createOidcSignIn,
  hasMfa,
  isRecent,
  isSafeReturnTo,
  type OidcSignIn,
  type Person,
  SignInError,
  safeReturnTo,
} from "../../src/console/oidc.js";
import { ConsoleConfigError, parseConsoleOidcConfig, resolveConsoleOidcConfig } from "../../src/console/oidc-config.js";
import { ACR_MFA, startTestOidcProvider, type TestOidcProvider } from "../helpers/oidc-provider.js";

const TENANT_A = "11111111-1111-4111-8111-111111111111";
const TENANT_B = "22222222-2222-4222-8222-222222222222";
const REDIRECT = "http://127.0.0.1:9/auth/callback";
const SECRET = "s3cret-for-tests-only-0123456789abcdef";

let op: TestOidcProvider;
let signIn: OidcSignIn;

function config(extra: Record<string, unknown> = {}) {
  return resolveConsoleOidcConfig(
    parseConsoleOidcConfig({
      issuer: op.issuer,
      client_id: "console",
      client_secret_env: "GSMCP_CONSOLE_SECRET",
      redirect_uri: REDIRECT,
      mfa: { essential_claim: { name: "acr", value: ACR_MFA } },
      ...extra,
    }),
    { GSMCP_CONSOLE_SECRET: SECRET },
  );
}

async function codeFlow(sub: string, opts: Parameters<OidcSignIn["startLogin"]>[1] = {}, s = signIn) {
  const { url, transaction } = await s.startLogin("/approvals/42?tab=details", opts);
  const { callbackUrl, loginFormShown } = await op.browser().signIn(url, sub);
  return { url, transaction, callbackUrl, loginFormShown };
}

async function refusal(p: Promise<unknown>): Promise<SignInError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SignInError);
  return err as SignInError;
}

beforeAll(async () => {
  op = await startTestOidcProvider({
    users: [
      {
        sub: "alice",
        name: "Alice Approver",
        email: "alice@contoso.example",
        roles: ["Approver", "Reviewer", "Other"],
        tid: TENANT_A,
        oid: "aaaaaaaa-0000-4000-8000-000000000001",
        amr: ["pwd", "mfa"],
      },
      { sub: "bob", name: "Bob NoRoles", email: "bob@contoso.example", roles: [] },
      { sub: "carol", name: "Carol Elsewhere", email: "carol@fabrikam.example", roles: ["Approver"], tid: TENANT_B },
    ],
    clients: [{ client_id: "console", client_secret: SECRET, redirect_uris: [REDIRECT] }],
  });
  signIn = await createOidcSignIn(config());
});

afterAll(async () => {
  await op?.close();
});

describe("console sign-in against a real OIDC provider", () => {
  it("runs the code flow with PKCE, nonce and state and yields the Person", async () => {
    const { url, transaction, callbackUrl } = await codeFlow("alice");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("nonce")).toBe(transaction.nonce);
    expect(url.searchParams.get("state")).toBe(transaction.state);
    expect(transaction.returnTo).toBe("/approvals/42?tab=details");

    const person = await signIn.finishLogin(callbackUrl, transaction);
    expect(person).toMatchObject({
      sub: "alice",
      iss: op.issuer,
      tid: TENANT_A,
      oid: "aaaaaaaa-0000-4000-8000-000000000001",
      name: "Alice Approver",
      email: "alice@contoso.example",
      roles: ["approver", "reviewer"],
      id: `${TENANT_A}:aaaaaaaa-0000-4000-8000-000000000001`,
    });
    expect(person.amr).toEqual(expect.arrayContaining(["pwd", "mfa"]));
    expect(hasMfa(person)).toBe(true);
  });

  it("the provider requires PKCE: an authorization request without a code challenge is refused", async () => {
    const { url } = await signIn.startLogin("/");
    url.searchParams.delete("code_challenge");
    url.searchParams.delete("code_challenge_method");
    const { callbackUrl } = await op.browser().signIn(url, "alice");
    expect(new URL(callbackUrl).searchParams.get("error")).toBe("invalid_request");
  });

  it("a user without roles signs in with roles [] and id iss#sub", async () => {
    const { transaction, callbackUrl } = await codeFlow("bob");
    const person = await signIn.finishLogin(callbackUrl, transaction);
    expect(person.roles).toEqual([]);
    expect(person.tid).toBeUndefined();
    expect(person.oid).toBe("bob");
    expect(person.id).toBe(`${op.issuer}#bob`);
    expect(hasMfa(person)).toBe(false);
  });

  it("refuses a callback whose state is not the transaction's", async () => {
    const { transaction, callbackUrl } = await codeFlow("alice");
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set("state", "not-the-state");
    expect((await refusal(signIn.finishLogin(tampered.href, transaction))).code).toBe("state_mismatch");
  });

  it("refuses a transaction used twice", async () => {
    const { transaction, callbackUrl } = await codeFlow("alice");
    await signIn.finishLogin(callbackUrl, transaction);
    const again = await refusal(signIn.finishLogin(callbackUrl, { ...transaction }));
    expect(again.code).toBe("transaction_reused");
  });

  it("refuses an id token whose nonce is another transaction's (callback replayed into another login)", async () => {
    const first = await codeFlow("alice");
    const second = await signIn.startLogin("/");
    // The attacker's callback (first login) is delivered with the victim's transaction (second login), state
    // rewritten to pass the state check: PKCE and the nonce still bind the code to the first transaction.
    const injected = new URL(first.callbackUrl);
    injected.searchParams.set("state", second.transaction.state);
    const err = await refusal(signIn.finishLogin(injected.href, second.transaction));
    expect(["provider_error", "nonce_mismatch"]).toContain(err.code);

    // With the right verifier but the other transaction's nonce, the library's id token nonce check refuses.
    const third = await codeFlow("alice");
    const wrongNonce = { ...third.transaction, nonce: second.transaction.nonce };
    expect((await refusal(signIn.finishLogin(third.callbackUrl, wrongNonce))).code).toBe("nonce_mismatch");
  });

  it("refuses a tampered authorization code and a provider error response", async () => {
    const { transaction, callbackUrl } = await codeFlow("alice");
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set("code", `${tampered.searchParams.get("code")}x`);
    expect((await refusal(signIn.finishLogin(tampered.href, transaction))).code).toBe("provider_error");

    const t2 = (await signIn.startLogin("/")).transaction;
    const denied = `${REDIRECT}?error=access_denied&state=${t2.state}&iss=${encodeURIComponent(op.issuer)}`;
    expect((await refusal(signIn.finishLogin(denied, t2))).code).toBe("provider_error");
  });

  it("refuses a callback on another path than redirect_uri and an expired transaction", async () => {
    const { transaction, callbackUrl } = await codeFlow("alice");
    const other = new URL(callbackUrl);
    other.pathname = "/elsewhere";
    expect((await refusal(signIn.finishLogin(other.href, transaction))).code).toBe("callback_url_mismatch");
    const old = { ...transaction, state: `${transaction.state}-old`, created: Date.now() - 11 * 60 * 1000 };
    expect((await refusal(signIn.finishLogin(callbackUrl, old))).code).toBe("transaction_expired");
  });

  it("max_age makes the provider re-authenticate and yields a fresh auth_time", async () => {
    const browser = op.browser();
    const a = await signIn.startLogin("/", { maxAge: 3600 });
    const first = await browser.signIn(a.url, "alice");
    expect(first.loginFormShown).toBe(true);
    const p1 = await signIn.finishLogin(first.callbackUrl, a.transaction);
    expect(typeof p1.auth_time).toBe("number");

    await new Promise((r) => setTimeout(r, 2100));
    // Same provider session, no max_age: single sign-on, no login form, same auth_time.
    const b = await signIn.startLogin("/");
    const sso = await browser.signIn(b.url, "alice");
    expect(sso.loginFormShown).toBe(false);

    // max_age=1: the last authentication is 2 s old, so the provider shows the login form again.
    const c = await signIn.startLogin("/approvals/7", { maxAge: 1 });
    expect(c.url.searchParams.get("max_age")).toBe("1");
    const again = await browser.signIn(c.url, "alice");
    expect(again.loginFormShown).toBe(true);
    const p2 = await signIn.finishLogin(again.callbackUrl, c.transaction);
    expect(p2.auth_time!).toBeGreaterThan(p1.auth_time!);
    expect(isRecent(p2, 5)).toBe(true);
    expect(isRecent(p1, 1)).toBe(false);
  });

  it("requireMfa asks for the MFA acr as an essential claim and refuses a person without mfa in amr", async () => {
    const ok = await codeFlow("alice", { requireMfa: true });
    expect(JSON.parse(ok.url.searchParams.get("claims")!)).toEqual({
      id_token: { acr: { essential: true, value: ACR_MFA } },
    });
    expect(hasMfa(await signIn.finishLogin(ok.callbackUrl, ok.transaction))).toBe(true);

    // The provider cannot meet the essential acr for bob and says so.
    const bob = await codeFlow("bob", { requireMfa: true });
    expect(new URL(bob.callbackUrl).searchParams.get("error")).toBe("unmet_authentication_requirements");
    expect((await refusal(signIn.finishLogin(bob.callbackUrl, bob.transaction))).code).toBe("provider_error");

    // A provider that ignores the request (no mfa config sent) is still checked: amr must contain "mfa".
    const lax = await createOidcSignIn(config({ mfa: undefined }));
    const bob2 = await codeFlow("bob", { requireMfa: true }, lax);
    expect(bob2.url.searchParams.get("claims")).toBeNull();
    expect((await refusal(lax.finishLogin(bob2.callbackUrl, bob2.transaction))).code).toBe("mfa_required");
  });

  it("allowed_tenants refuses a person from another tenant and one without tid", async () => {
    const restricted = await createOidcSignIn(config({ allowed_tenants: [TENANT_A] }));
    const alice = await codeFlow("alice", {}, restricted);
    expect((await restricted.finishLogin(alice.callbackUrl, alice.transaction)).tid).toBe(TENANT_A);
    const carol = await codeFlow("carol", {}, restricted);
    expect((await refusal(restricted.finishLogin(carol.callbackUrl, carol.transaction))).code).toBe(
      "tenant_not_allowed",
    );
    const bob = await codeFlow("bob", {}, restricted);
    expect((await refusal(restricted.finishLogin(bob.callbackUrl, bob.transaction))).code).toBe("tenant_not_allowed");
  });

  it("startLogin never keeps an off-site returnTo", async () => {
    for (const bad of ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "x"]) {
      expect((await signIn.startLogin(bad)).transaction.returnTo).toBe("/");
    }
  });
});

describe("Entra per-tenant issuer check (crafted claims)", () => {
  const template = "https://login.microsoftonline.com/{tenantid}/v2.0";

  it("accepts iss equal to the template with the token's tid", () => {
    expect(
      checkTenantIssuer({ iss: `https://login.microsoftonline.com/${TENANT_A}/v2.0`, tid: TENANT_A }, template, [
        TENANT_A,
      ]),
    ).toBeUndefined();
    expect(
      checkTenantIssuer({ iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0`, tid: TENANT_B }, template),
    ).toBeUndefined();
  });

  it("refuses iss of another tenant than tid (a token minted by another tenant)", () => {
    expect(
      checkTenantIssuer({ iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0`, tid: TENANT_A }, template, [
        TENANT_A,
      ])?.code,
    ).toBe("issuer_mismatch");
  });

  it("refuses a tenant outside allowed_tenants, a missing tid and a missing iss", () => {
    expect(
      checkTenantIssuer({ iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0`, tid: TENANT_B }, template, [
        TENANT_A,
      ])?.code,
    ).toBe("tenant_not_allowed");
    expect(checkTenantIssuer({ iss: "https://login.microsoftonline.com/x/v2.0" }, template)?.code).toBe(
      "tenant_not_allowed",
    );
    expect(checkTenantIssuer({ tid: TENANT_A }, template)?.code).toBe("issuer_mismatch");
  });

  it("with a single-tenant issuer, iss must equal it", () => {
    const single = `https://login.microsoftonline.com/${TENANT_A}/v2.0`;
    expect(checkTenantIssuer({ iss: single, tid: TENANT_A }, single, [TENANT_A])).toBeUndefined();
    expect(checkTenantIssuer({ iss: `${single}/`, tid: TENANT_A }, single)?.code).toBe("issuer_mismatch");
  });
});

describe("console OIDC configuration", () => {
  it("applies defaults", () => {
    const c = parseConsoleOidcConfig({
      issuer: "https://login.microsoftonline.com/organizations/v2.0",
      client_id: "app",
      client_secret_env: "SECRET",
      redirect_uri: "https://console.example/auth/callback",
      allowed_tenants: [TENANT_A],
    });
    expect(c.roles_claim).toBe("roles");
    expect(c.role_values).toEqual({ approver: "Approver", reviewer: "Reviewer" });
    expect(c.scopes).toBe("openid profile email");
  });

  it("names each bad field and the fix", () => {
    let err: ConsoleConfigError | undefined;
    try {
      parseConsoleOidcConfig({
        issuer: "http://idp.example.com",
        client_id: "",
        client_secret: "inline!",
        client_secret_env: "x-y",
        redirect_uri: "https://console.example/cb",
      });
    } catch (e) {
      err = e as ConsoleConfigError;
    }
    expect(err).toBeInstanceOf(ConsoleConfigError);
    const fields = err!.problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(["issuer", "client_id", "client_secret_env", "(root)"]));
    expect(err!.message).toMatch(/loopback/);
    expect(err!.problems.find((p) => p.field === "(root)")?.fix).toMatch(/client_secret_env/);
  });

  it("requires allowed_tenants for a multi-tenant Entra issuer, and the secret in the environment", () => {
    expect(() =>
      parseConsoleOidcConfig({
        issuer: "https://login.microsoftonline.com/organizations/v2.0",
        client_id: "app",
        client_secret_env: "SECRET",
        redirect_uri: "https://console.example/cb",
      }),
    ).toThrow(/allowed_tenants/);
    const c = parseConsoleOidcConfig({
      issuer: "http://127.0.0.1:1",
      client_id: "app",
      client_secret_env: "GSMCP_NOPE",
      redirect_uri: "http://localhost:1/cb",
    });
    expect(() => resolveConsoleOidcConfig(c, {})).toThrow(/GSMCP_NOPE is not set/);
  });
});

describe("helpers", () => {
  it("safeReturnTo keeps same-origin paths only", () => {
    expect(safeReturnTo("/a/b?c=d#e")).toBe("/a/b?c=d#e");
    expect(safeReturnTo("/../x")).toBe("/x");
    expect(isSafeReturnTo("/ok")).toBe(true);
    for (const bad of ["//x", "/\\x", "https://x/", "", "/a\nb", 42, undefined]) expect(safeReturnTo(bad)).toBe("/");
  });

  it("isRecent and hasMfa", () => {
    const p: Pick<Person, "auth_time" | "amr"> = { auth_time: 1_000, amr: ["pwd"] };
    expect(isRecent(p, 60, 1_030_000)).toBe(true);
    expect(isRecent(p, 60, 1_061_000)).toBe(false);
    expect(isRecent({}, 60, 0)).toBe(false);
    expect(hasMfa(p)).toBe(false);
    expect(hasMfa({ amr: ["pwd", "mfa"] })).toBe(true);
  });
});
