import type { IncomingMessage, ServerResponse } from "node:http";
import { GovernanceError } from "../governance/errors.js";
import { CSRF_FIELD, checkCsrf, csrfToken } from "./csrf.js";
import { CONSOLE_CSS, html, layout } from "./html.js";
import { HttpError, readForm, redirect, secureHeaders, sendHtml } from "./http-util.js";
import { type StartLoginOptions, safeReturnTo } from "./oidc.js";
import { type ConsoleDeps, type PageRequest, type PageResult, requireRole, type SignIn } from "./page.js";
import { approvalPage, approvalsPage, decideApprovalForm } from "./pages-approvals.js";
import { jobPage, jobsPage, setJobStatus } from "./pages-jobs.js";
import { manifestsPage, policiesPage, policyPage } from "./pages-policies.js";
import {
  clearSessionCookie,
  LoginTransactionStore,
  readCookie,
  SESSION_COOKIE,
  SessionStore,
  sessionCookie,
} from "./session.js";

export type { ConsoleDeps, SignIn };

/**
 * The approver console's request handler: sign-in (OIDC code flow with PKCE and nonce), sessions, CSRF on every
 * form, role checks (reviewer reads; approver also decides and pauses), then the pages.
 */
export function createConsole(deps: ConsoleDeps) {
  const now = deps.now ?? Date.now;
  const sessions = new SessionStore({ now });
  const logins = new LoginTransactionStore({ now });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://console.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    if (method === "GET" && url.pathname === "/console.css") {
      res.setHeader("content-type", "text/css; charset=utf-8");
      res.end(CONSOLE_CSS);
      return;
    }
    if (method === "GET" && url.pathname === "/healthz") {
      res.setHeader("content-type", "text/plain");
      res.end("ok");
      return;
    }
    if (method === "GET" && url.pathname === "/login") return login(req, res, url);
    if (method === "GET" && url.pathname === "/callback") return callback(req, res, url);

    const session = sessions.fromRequest(req);
    if (method === "POST" && url.pathname === "/logout") {
      if (session) {
        const form = await readForm(req);
        const bad = checkCsrf(req, session, form.get(CSRF_FIELD), originOpt());
        if (bad) throw new HttpError(403, `sign-out refused: ${bad}`);
        sessions.destroy(session.id);
      }
      res.setHeader("set-cookie", clearSessionCookie({ secure: deps.secure }));
      return sendHtml(res, 200, layout("Signed out", html`<p>You are signed out. <a href="/login">Sign in</a></p>`));
    }
    const person = session?.person;
    if (!session || !person) {
      if (method !== "GET") throw new HttpError(401, "not signed in", "sign in at /login and submit the form again");
      return redirect(res, `/login?return=${encodeURIComponent(url.pathname + url.search)}`, 302);
    }
    const csrf = csrfToken(session);
    if (!person.roles.length)
      throw new HttpError(
        403,
        `${person.name ?? person.id} has neither the approver nor the reviewer role`,
        "ask an administrator to assign the console's Approver or Reviewer app role",
      );
    const page: PageRequest = { req, url, session, person, deps, csrf };
    if (method === "POST") {
      const form = await readForm(req);
      const bad = checkCsrf(req, session, form.get(CSRF_FIELD), originOpt());
      if (bad) throw new HttpError(403, `form refused: ${bad}`, "reload the page and submit it again");
      requireRole(person, "approver");
      const result = await post(page, form);
      return render(res, page, result);
    }
    if (method !== "GET") throw new HttpError(405, `${method} is not supported here`);
    return render(res, page, await get(page));
  }

  async function get(p: PageRequest): Promise<PageResult> {
    const path = p.url.pathname;
    if (path === "/") return { redirect: "/approvals" };
    if (path === "/approvals") return approvalsPage(p);
    let m = /^\/approvals\/(apr_[0-9a-f]{16})$/.exec(path);
    if (m?.[1]) return approvalPage(p, m[1]);
    if (path === "/jobs") return jobsPage(p);
    m = /^\/jobs\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/.exec(path);
    if (m?.[1]) return jobPage(p, m[1]);
    if (path === "/policies") return policiesPage(p);
    m = /^\/policies\/(sha256:[0-9a-f]{64})$/.exec(path);
    if (m?.[1]) return policyPage(p, m[1]);
    if (path === "/manifests") return manifestsPage(p);
    throw new HttpError(404, `no page ${path}`);
  }

  async function post(p: PageRequest, form: URLSearchParams): Promise<PageResult> {
    const path = p.url.pathname;
    let m = /^\/approvals\/(apr_[0-9a-f]{16})\/decide$/.exec(path);
    if (m?.[1]) return decideApprovalForm(p, m[1], form);
    m = /^\/jobs\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\/(pause|resume)$/.exec(path);
    if (m?.[1] && m[2]) return setJobStatus(p, m[1], m[2] as "pause" | "resume", form);
    throw new HttpError(404, `no form ${path}`);
  }

  function render(res: ServerResponse, p: PageRequest, r: PageResult): void {
    if ("redirect" in r) {
      redirect(res, r.redirect);
      return;
    }
    const viewer = { name: p.person.name ?? p.person.email ?? p.person.id, roles: p.person.roles };
    sendHtml(res, r.status ?? 200, layout(r.title, r.body, viewer, p.csrf, r.active));
  }

  /** Starts sign-in; `max_age` and `mfa` ask for a fresh or stronger sign-in (an approval rule demands it). */
  async function login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const returnTo = safeReturnTo(url.searchParams.get("return"), "/approvals");
    const maxAge = url.searchParams.get("max_age");
    const options: StartLoginOptions = {
      ...(maxAge && /^[0-9]{1,6}$/.test(maxAge) ? { maxAge: Number(maxAge), prompt: "login" as const } : {}),
      ...(url.searchParams.get("mfa") === "1" ? { requireMfa: true } : {}),
    };
    const session = sessions.fromRequest(req) ?? sessions.create();
    const { url: target, transaction } = await deps.signIn.startLogin(returnTo, options);
    logins.put(transaction, session.id);
    res.setHeader("set-cookie", sessionCookie(session.id, { secure: deps.secure }));
    redirect(res, String(target), 302);
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const sessionId = readCookie(req, SESSION_COOKIE);
    const tx = logins.take(url.searchParams.get("state"), sessionId);
    if (!tx)
      throw new HttpError(
        400,
        "this sign-in is unknown, already used, expired or was started in another browser",
        "start again at /login",
      );
    // The callback as the provider was told it (redirect_uri), with the parameters it sent back.
    const callbackUrl = new URL(deps.redirectUri);
    callbackUrl.search = url.search;
    const person = await deps.signIn.finishLogin(callbackUrl, tx);
    const session = sessions.signIn(sessionId, person);
    res.setHeader("set-cookie", sessionCookie(session.id, { secure: deps.secure }));
    redirect(res, tx.returnTo, 303);
  }

  function originOpt() {
    return deps.origin ? { origin: deps.origin } : {};
  }

  return {
    sessions,
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      secureHeaders(res);
      try {
        await route(req, res);
      } catch (e) {
        if (res.headersSent) {
          res.end();
          return;
        }
        const err = e instanceof HttpError ? e : asHttpError(e);
        sendHtml(
          res,
          err.status,
          layout(
            err.status >= 500 ? "Something went wrong" : "Refused",
            html`<p class="error" role="alert" id="error">${err.message}</p>${err.fix ? html`<p>${err.fix}</p>` : ""}<p><a href="/approvals">Back to approvals</a></p>`,
          ),
        );
      }
    },
  };
}

function asHttpError(e: unknown): HttpError {
  if (e instanceof GovernanceError) return new HttpError(409, e.message, e.fix);
  const named = e as { name?: string; code?: string; message?: string };
  if (named?.name === "SignInError")
    return new HttpError(401, `sign-in failed: ${named.message}`, "start again at /login");
  return new HttpError(500, (e as Error)?.message ?? String(e));
}
