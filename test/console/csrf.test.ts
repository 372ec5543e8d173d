import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { checkCsrf, csrfToken, requestOrigin } from "../../src/console/csrf.js";

const ORIGIN = "https://console.example.com";

function req(method: string, headers: Record<string, string>, encrypted = true) {
  return { method, headers: { host: "console.example.com", ...headers }, socket: { encrypted } } as unknown as Pick<
    IncomingMessage,
    "method" | "headers" | "socket"
  >;
}

describe("csrfToken", () => {
  it("is random per session and stable within it", () => {
    const a: { csrf?: string } = {};
    const b: { csrf?: string } = {};
    const t = csrfToken(a);
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfToken(a)).toBe(t);
    expect(csrfToken(b)).not.toBe(t);
  });
});

describe("checkCsrf", () => {
  const session: { csrf?: string } = {};
  const token = csrfToken(session);

  it("accepts a same-origin POST with the session's token", () => {
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, token)).toBeUndefined();
    expect(checkCsrf(req("POST", { referer: `${ORIGIN}/approvals/1` }), session, token)).toBeUndefined();
    expect(
      checkCsrf(req("POST", { origin: ORIGIN, "sec-fetch-site": "same-origin" }), session, token, { origin: ORIGIN }),
    ).toBeUndefined();
  });

  it("lets safe methods through", () => {
    expect(checkCsrf(req("GET", { origin: "https://evil.example" }), undefined, undefined)).toBeUndefined();
    expect(checkCsrf(req("HEAD", {}), undefined, undefined)).toBeUndefined();
  });

  it("refuses a missing or wrong token", () => {
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, undefined)).toMatch(/missing CSRF token/);
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, "")).toMatch(/missing CSRF token/);
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, `${token.slice(0, -1)}x`)).toMatch(/wrong CSRF token/);
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, "short")).toMatch(/wrong CSRF token/);
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, ["array"])).toMatch(/missing CSRF token/);
    expect(checkCsrf(req("POST", { origin: ORIGIN }), {}, token)).toMatch(/no CSRF token was issued/);
    expect(checkCsrf(req("POST", { origin: ORIGIN }), undefined, token)).toMatch(/no session/);
    // Another session's token is wrong for this one.
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, csrfToken({}))).toMatch(/wrong CSRF token/);
  });

  it("refuses cross-origin requests even with the right token", () => {
    expect(checkCsrf(req("POST", { origin: "https://evil.example" }), session, token)).toMatch(/cross-origin.*Origin/);
    expect(checkCsrf(req("POST", { origin: "null" }), session, token)).toMatch(/cross-origin/);
    // Same host over http is another origin than the https console.
    expect(checkCsrf(req("POST", { origin: "http://console.example.com" }), session, token)).toMatch(/cross-origin/);
    expect(checkCsrf(req("POST", { referer: "https://evil.example/page" }), session, token)).toMatch(/Referer/);
    expect(checkCsrf(req("DELETE", {}), session, token)).toMatch(/no Origin or Referer/);
    expect(checkCsrf(req("POST", { origin: ORIGIN, "sec-fetch-site": "cross-site" }), session, token)).toMatch(
      /cross-site/,
    );
    // A configured public origin wins over the Host header.
    expect(checkCsrf(req("POST", { origin: ORIGIN }), session, token, { origin: "https://other.example" })).toMatch(
      /cross-origin/,
    );
  });

  it("derives the console origin from the socket and Host", () => {
    expect(requestOrigin(req("GET", {}))).toBe(ORIGIN);
    expect(requestOrigin(req("GET", { host: "127.0.0.1:8080" }, false))).toBe("http://127.0.0.1:8080");
  });
});
