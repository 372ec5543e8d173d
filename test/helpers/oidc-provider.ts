/**
 * A real OpenID Provider (the `oidc-provider` package) on 127.0.0.1 with an ephemeral port, for the console's
 * sign-in tests. Interaction pages are plain HTML forms, so Playwright can drive them:
 *
 *   GET  /interaction/:uid          login prompt: <form id=login-form method=post action=/interaction/:uid/login>
 *                                   with <label for=login>User</label><input id=login name=login> and
 *                                   <button id=submit type=submit>Sign in</button>;
 *                                   consent prompt: granted automatically (303 back to the provider).
 *   POST /interaction/:uid/login    body login=<sub>: signs that user in (unknown user: the form again, 200, with
 *                                   <p id=error role=alert>) and grants the requested scopes.
 *
 * Without a browser, `provider.browser().signIn(authorizationUrl, sub)` follows the redirects with fetch (keeping
 * the provider's cookies, so a second sign-in reuses the provider session unless max_age/prompt asks otherwise),
 * posts the form, and returns the callback URL the provider redirected to (not followed).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
// @ts-expect-error -- oidc-provider ships no type declarations; the small surface used here is typed below.
import ProviderCtor from "oidc-provider";

export interface TestOidcUser {
  sub: string;
  name: string;
  email: string;
  roles: string[];
  tid?: string;
  oid?: string;
  /** Authentication methods reported in the id token; default ["pwd"]. "mfa" also sets acr to ACR_MFA. */
  amr?: string[];
}

export interface TestOidcClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/** acr values the provider reports: ACR_MFA when the user's amr has "mfa", else ACR_PWD. */
export const ACR_PWD = "urn:gsmcp:test:acr:pwd";
export const ACR_MFA = "urn:gsmcp:test:acr:mfa";

export interface TestOidcProvider {
  /** http://127.0.0.1:<port> */
  issuer: string;
  /** A headless user agent with its own cookie jar at the provider. */
  browser(): HeadlessBrowser;
  /** Sign-ins performed, in order (sub and the prompt that was shown). */
  readonly logins: { sub: string; at: number }[];
  close(): Promise<void>;
}

export interface HeadlessBrowser {
  /**
   * Goes to the authorization URL, logs in as `sub` when the provider shows its login form, consents, and returns
   * the callback URL (redirect_uri?code=…&state=…, or ?error=…). Throws when the flow ends elsewhere.
   */
  signIn(authorizationUrl: string | URL, sub: string): Promise<{ callbackUrl: string; loginFormShown: boolean }>;
}

interface ProviderInteraction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  grantId?: string;
  session?: { accountId?: string };
}

interface ProviderGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<ProviderInteraction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): ProviderGrant;
    find(id: string): Promise<ProviderGrant | undefined>;
  };
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang=en><head><meta charset=utf-8><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function loginForm(uid: string, error?: string, hint?: string): string {
  return page(
    "Sign in to the test provider",
    `${error ? `<p id=error role=alert>${esc(error)}</p>` : ""}<form id=login-form method=post action="/interaction/${esc(uid)}/login">
<label for=login>User</label> <input id=login name=login autocomplete=off required${hint ? ` value="${esc(hint)}"` : ""}>
<button id=submit type=submit>Sign in</button></form>`,
  );
}

/** Whether the claims request parameter asks for ACR_MFA as an essential id token acr. */
function demandsMfa(claimsParam: unknown): boolean {
  if (typeof claimsParam !== "string") return false;
  try {
    const acr = (
      JSON.parse(claimsParam) as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } }
    ).id_token?.acr;
    return acr?.essential === true && (acr.value === ACR_MFA || (acr.values ?? []).includes(ACR_MFA));
  } catch {
    return false;
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startTestOidcProvider(opts: {
  users: TestOidcUser[];
  clients: TestOidcClient[];
}): Promise<TestOidcProvider> {
  const users = new Map(opts.users.map((u) => [u.sub, u]));
  const logins: { sub: string; at: number }[] = [];

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: randomBytes(8).toString("hex") };

  const provider: Provider = new ProviderCtor(issuer, {
    clients: opts.clients.map((c) => ({
      ...c,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
    },
    acrValues: [ACR_PWD, ACR_MFA],
    // Scope claims go into the id token (Entra-like), not only into userinfo.
    conformIdTokenClaims: false,
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      // amr and acr always (as Entra sends amr); auth_time when max_age is sent.
      openid: ["sub", "roles", "tid", "oid", "amr", "acr"],
      profile: ["name"],
      email: ["email"],
    },
    findAccount: (_ctx: unknown, id: string) => {
      const u = users.get(id);
      if (!u) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: u.sub,
          name: u.name,
          email: u.email,
          ...(u.roles.length ? { roles: u.roles } : {}),
          ...(u.tid ? { tid: u.tid } : {}),
          ...(u.oid ? { oid: u.oid } : {}),
        }),
      };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = "html";
      ctx.body = page(
        "Provider error",
        `<pre id=provider-error>${esc(
          Object.entries(out)
            .map(([k, v]) => `${k}: ${v}`)
            .join("\n"),
        )}</pre>`,
      );
    },
  });
  const handle = provider.callback();

  async function consent(req: IncomingMessage, res: ServerResponse, details: ProviderInteraction): Promise<void> {
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error("consent without a session");
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(" "));
    if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } });
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", issuer).pathname;
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (!m) {
      handle(req, res);
      return;
    }
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === "GET" && !m[2]) {
          if (details.prompt.name === "consent") return await consent(req, res, details);
          res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
          res.end(loginForm(details.uid, undefined, details.params.login_hint as string | undefined));
          return;
        }
        if (req.method === "POST" && m[2]) {
          const sub = (await readForm(req)).get("login") ?? "";
          const user = users.get(sub);
          if (!user) {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
            res.end(loginForm(details.uid, `No such user: ${sub}`));
            return;
          }
          const amr = user.amr ?? ["pwd"];
          if (demandsMfa(details.params.claims) && !amr.includes("mfa")) {
            // OpenID Connect Core 5.5.1.1: an essential acr that cannot be met is a failed authentication.
            await provider.interactionFinished(req, res, {
              error: "unmet_authentication_requirements",
              error_description: `${sub} has no multi-factor authentication`,
            });
            return;
          }
          logins.push({ sub, at: Date.now() });
          await provider.interactionFinished(req, res, {
            login: { accountId: sub, amr, acr: amr.includes("mfa") ? ACR_MFA : ACR_PWD, remember: true },
          });
          return;
        }
        res.writeHead(405).end();
      } catch (err) {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(`interaction failed: ${(err as Error).message}`);
      }
    })();
  });

  return {
    issuer,
    logins,
    browser: () => headlessBrowser(issuer),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function headlessBrowser(issuer: string): HeadlessBrowser {
  const jar = new Map<string, string>();
  const origin = new URL(issuer).origin;

  function remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split("=");
        if (k?.toLowerCase() === "max-age") return Number(v) <= 0;
        if (k?.toLowerCase() === "expires") return Date.parse(v ?? "") <= Date.now();
        return false;
      });
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

  return {
    async signIn(authorizationUrl, sub) {
      let url = new URL(String(authorizationUrl));
      let method = "GET";
      let body: string | undefined;
      let loginFormShown = false;
      for (let hop = 0; hop < 20; hop++) {
        if (url.origin !== origin) return { callbackUrl: url.href, loginFormShown };
        const res = await fetch(url, {
          method,
          redirect: "manual",
          headers: {
            cookie: cookieHeader(),
            ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          },
          ...(body ? { body } : {}),
        });
        remember(res);
        const location = res.headers.get("location");
        if (res.status >= 300 && res.status < 400 && location) {
          url = new URL(location, url);
          method = "GET";
          body = undefined;
          continue;
        }
        const html = await res.text();
        const action = /<form id=login-form method=post action="([^"]+)"/.exec(html)?.[1];
        if (res.status === 200 && action && !loginFormShown) {
          loginFormShown = true;
          url = new URL(action.replace(/&amp;/g, "&"), url);
          method = "POST";
          body = new URLSearchParams({ login: sub }).toString();
          continue;
        }
        throw new Error(`sign-in ended at ${url.href} with ${res.status}: ${html.slice(0, 500)}`);
      }
      throw new Error("sign-in: too many redirects");
    },
  };
}
