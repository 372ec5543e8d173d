import { createServer } from "node:net";
import { createOidcSignIn } from "../../src/console/oidc.js";
import { parseConsoleOidcConfig, resolveConsoleOidcConfig } from "../../src/console/oidc-config.js";
import { type RunningConsole, runConsole } from "../../src/console/run.js";
import { requireHome } from "../../src/governance/home.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import type { StateStore } from "../../src/state/contract.js";
import { openStore } from "../../src/state/open.js";
import { makeHome, type TestHome } from "./home.js";
import { startTestOidcProvider, type TestOidcProvider, type TestOidcUser } from "./oidc-provider.js";

export const TENANT = "11111111-2222-3333-4444-555555555555";

/** People at the test provider: an approver with MFA, a second approver, a reviewer and someone with no role. */
export const PEOPLE: TestOidcUser[] = [
  {
    sub: "lead",
    name: "Lena Lead",
    email: "lead@contoso.test",
    roles: ["Approver"],
    tid: TENANT,
    oid: "oid-lead",
    amr: ["pwd", "mfa"],
  },
  {
    sub: "second",
    name: "Sam Second",
    email: "second@contoso.test",
    roles: ["Approver"],
    tid: TENANT,
    oid: "oid-second",
  },
  {
    sub: "viewer",
    name: "Rita Reviewer",
    email: "viewer@contoso.test",
    roles: ["Reviewer"],
    tid: TENANT,
    oid: "oid-viewer",
  },
  { sub: "nobody", name: "Nick Nobody", email: "nobody@contoso.test", roles: [], tid: TENANT, oid: "oid-nobody" },
];

/** A detection an agent proposes: a password spray (the seeded workspace holds one burst of it in the last 7 days). */
export const SPRAY_RULE = {
  displayName: "Password spray from one address",
  severity: "Medium",
  query: "SigninLogs | where ResultType != '0' | summarize failures = count() by IPAddress | where failures > 3",
  queryFrequency: "PT1H",
  queryPeriod: "PT1H",
  triggerOperator: "GreaterThan",
  triggerThreshold: 0,
};

export function idOf(sub: string): string {
  const p = PEOPLE.find((x) => x.sub === sub)!;
  return `${p.tid}:${p.oid}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ConsoleFixture {
  h: TestHome;
  op: TestOidcProvider;
  console: RunningConsole;
  state: StateStore;
  url: string;
  close(): Promise<void>;
}

/** A fresh home, a real OIDC provider and the console in this process, signed in through that provider. */
export async function startConsoleFixture(opts: { h?: TestHome; now?: () => number } = {}): Promise<ConsoleFixture> {
  const h = opts.h ?? (await makeHome());
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/callback`;
  const op = await startTestOidcProvider({
    users: PEOPLE,
    clients: [{ client_id: "gsmcp-console", client_secret: "console-secret-for-tests", redirect_uris: [redirect] }],
  });
  const oidc = resolveConsoleOidcConfig(
    parseConsoleOidcConfig({
      issuer: op.issuer,
      client_id: "gsmcp-console",
      client_secret_env: "GSMCP_TEST_CONSOLE_SECRET",
      redirect_uri: redirect,
    }),
    { GSMCP_TEST_CONSOLE_SECRET: "console-secret-for-tests" },
  );
  const { paths, config } = requireHome(h.home);
  const state = await openStore(paths);
  const running = await runConsole({
    paths,
    config,
    state,
    approverKey: loadSigningKey(paths, "approver"),
    signIn: await createOidcSignIn(oidc),
    redirectUri: redirect,
    host: "127.0.0.1",
    port,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    h,
    op,
    console: running,
    state,
    url: running.url,
    async close() {
      await running.close();
      await state.close();
      await op.close();
    },
  };
}

/** A user agent at the console without a browser: its own cookie, same-origin form posts with the page's CSRF token. */
export class ConsoleAgent {
  cookie = "";
  constructor(
    readonly f: ConsoleFixture,
    private readonly idp = f.op.browser(),
  ) {}

  private keep(res: Response): void {
    const set = res.headers.get("set-cookie");
    const m = set && /gsmcp_console=([^;]*)/.exec(set);
    if (m) this.cookie = m[1] ? `gsmcp_console=${m[1]}` : "";
  }

  async signIn(sub: string, returnTo = "/approvals", extra = ""): Promise<Response> {
    const start = await fetch(`${this.f.url}/login?return=${encodeURIComponent(returnTo)}${extra}`, {
      redirect: "manual",
      headers: { cookie: this.cookie },
    });
    this.keep(start);
    const { callbackUrl } = await this.idp.signIn(start.headers.get("location")!, sub);
    const done = await fetch(callbackUrl, { redirect: "manual", headers: { cookie: this.cookie } });
    this.keep(done);
    return done;
  }

  async get(path: string): Promise<{ status: number; html: string; location: string | null }> {
    const res = await fetch(`${this.f.url}${path}`, { redirect: "manual", headers: { cookie: this.cookie } });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  }

  /** The CSRF token on a page (every page with a form carries it). */
  async csrf(path = "/approvals"): Promise<string> {
    const page = await this.get(path);
    const m = /name="csrf_token" value="([^"]+)"/.exec(page.html);
    if (!m?.[1]) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return m[1];
  }

  async post(
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = { origin: this.f.url },
  ): Promise<{ status: number; html: string; location: string | null }> {
    const res = await fetch(`${this.f.url}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: this.cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  }
}
