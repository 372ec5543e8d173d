/**
 * CSRF defence for the approver console's forms: a synchronizer token per session (compared in constant time) and,
 * for unsafe methods, an Origin (else Referer) same-origin check. Either failing refuses the request.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/** Form field carrying the token. */
export const CSRF_FIELD = "csrf_token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The session's synchronizer token, created on first use (256 random bits, base64url). */
export function csrfToken(session: { csrf?: string }): string {
  session.csrf ??= randomBytes(32).toString("base64url");
  return session.csrf;
}

/** The console's own origin as this request reached it (scheme from the socket, host from the Host header). */
export function requestOrigin(req: Pick<IncomingMessage, "headers" | "socket">): string | undefined {
  const host = req.headers.host;
  if (!host) return undefined;
  const secure = (req.socket as TLSSocket | undefined)?.encrypted === true;
  try {
    return new URL(`${secure ? "https" : "http"}://${host}`).origin;
  } catch {
    return undefined;
  }
}

export interface CheckCsrfOptions {
  /** The console's public origin (e.g. https://console.example.com); default: derived from the request. */
  origin?: string;
}

/**
 * Undefined when the request may proceed, else the reason it is refused. Safe methods pass. Unsafe methods need a
 * same-origin Origin (or, without Origin, Referer) header, no `Sec-Fetch-Site: cross-site`, and the session's token.
 */
export function checkCsrf(
  req: Pick<IncomingMessage, "headers" | "method" | "socket">,
  session: { csrf?: string } | undefined,
  formToken: unknown,
  options: CheckCsrfOptions = {},
): string | undefined {
  const method = (req.method ?? "GET").toUpperCase();
  if (SAFE_METHODS.has(method)) return undefined;

  const expected = options.origin ? new URL(options.origin).origin : requestOrigin(req);
  if (!expected) return "cannot determine the console's origin (no Host header)";
  const fetchSite = header(req, "sec-fetch-site");
  if (fetchSite === "cross-site") return "cross-site request (Sec-Fetch-Site: cross-site)";
  const origin = header(req, "origin");
  if (origin !== undefined) {
    if (origin !== expected) return `cross-origin request: Origin ${origin} is not ${expected}`;
  } else {
    const referer = header(req, "referer");
    if (referer === undefined) return "no Origin or Referer header on an unsafe request";
    let refOrigin: string;
    try {
      refOrigin = new URL(referer).origin;
    } catch {
      return "unparseable Referer header";
    }
    if (refOrigin !== expected) return `cross-origin request: Referer origin ${refOrigin} is not ${expected}`;
  }

  if (!session) return "no session";
  if (!session.csrf) return "no CSRF token was issued for this session";
  if (typeof formToken !== "string" || formToken.length === 0) return "missing CSRF token";
  const a = Buffer.from(formToken, "utf8");
  const b = Buffer.from(session.csrf, "utf8");
  if (a.length !== b.length || !timingSafeEqual(a, b)) return "wrong CSRF token";
  return undefined;
}

function header(req: Pick<IncomingMessage, "headers">, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
