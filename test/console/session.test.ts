import { describe, expect, it } from "vitest";
import type { LoginTransaction, Person } from "../../src/console/oidc.js";
import {
  clearSessionCookie,
  LoginTransactionStore,
  readCookie,
  SESSION_COOKIE,
  SessionStore,
  sessionCookie,
} from "../../src/console/session.js";

const person: Person = {
  oid: "o1",
  sub: "s1",
  iss: "https://idp.example",
  roles: ["approver"],
  amr: ["pwd", "mfa"],
  id: "https://idp.example#s1",
};

function clock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const tx = (state: string): LoginTransaction => ({
  state,
  nonce: `n-${state}`,
  verifier: `v-${state}`,
  returnTo: "/",
  created: 0,
});

describe("SessionStore", () => {
  it("issues 256-bit random ids", () => {
    const store = new SessionStore();
    const a = store.create();
    const b = store.create();
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.id, "base64url")).toHaveLength(32);
    expect(a.id).not.toBe(b.id);
    expect(store.get(a.id)).toBe(a);
    expect(store.get("not-an-id")).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
  });

  it("expires after the idle timeout, and activity keeps it alive", () => {
    const c = clock();
    const store = new SessionStore({ idleTimeoutMs: 1000, absoluteTimeoutMs: 10_000, now: c.now });
    const s = store.create();
    c.advance(900);
    expect(store.get(s.id)).toBe(s);
    c.advance(900);
    expect(store.get(s.id)).toBe(s);
    c.advance(1001);
    expect(store.get(s.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it("expires at the absolute timeout despite activity", () => {
    const c = clock();
    const store = new SessionStore({ idleTimeoutMs: 1000, absoluteTimeoutMs: 3000, now: c.now });
    const s = store.create();
    for (let i = 0; i < 3; i++) {
      c.advance(900);
      expect(store.get(s.id)).toBe(s);
    }
    c.advance(400);
    expect(store.get(s.id)).toBeUndefined();
  });

  it("rotates the id on sign-in: the pre-login id is dead, the CSRF token is not carried over", () => {
    const store = new SessionStore();
    const planted = store.create();
    planted.csrf = "old-token";
    const signedIn = store.signIn(planted.id, person);
    expect(signedIn.id).not.toBe(planted.id);
    expect(store.get(planted.id)).toBeUndefined();
    expect(store.get(signedIn.id)?.person).toEqual(person);
    expect(signedIn.csrf).toBeUndefined();
    expect(typeof signedIn.signedInAt).toBe("number");
  });

  it("signs out on the server", () => {
    const store = new SessionStore();
    const s = store.signIn(undefined, person);
    expect(store.destroy(s.id)).toBe(true);
    expect(store.get(s.id)).toBeUndefined();
    expect(store.destroy(s.id)).toBe(false);
    const a = store.signIn(undefined, person);
    const b = store.signIn(undefined, person);
    expect(store.destroyPerson(person.id)).toBe(2);
    expect(store.get(a.id) ?? store.get(b.id)).toBeUndefined();
  });

  it("reads the session from the request cookie", () => {
    const store = new SessionStore();
    const s = store.create();
    expect(store.fromRequest({ headers: { cookie: `other=1; ${SESSION_COOKIE}=${s.id}; x=y` } })).toBe(s);
    expect(store.fromRequest({ headers: {} })).toBeUndefined();
    expect(readCookie({ headers: { cookie: "a=1;b=2" } }, "b")).toBe("2");
  });

  it("holds at most maxSessions, evicting the least recently seen", () => {
    const store = new SessionStore({ maxSessions: 2 });
    const a = store.create();
    const b = store.create();
    store.get(a.id);
    const c = store.create();
    expect(store.size).toBe(2);
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(a.id)).toBe(a);
    expect(store.get(c.id)).toBe(c);
  });

  it("a flood of started sign-ins evicts anonymous sessions, never a signed-in one", () => {
    const store = new SessionStore({ maxSessions: 4 });
    const person = { id: "t:o", oid: "o", sub: "s", iss: "i", roles: [], amr: [] } as never;
    const signedIn = store.signIn(undefined, person);
    for (let i = 0; i < 1000; i++) store.create();
    expect(store.size).toBeLessThanOrEqual(4);
    expect(store.get(signedIn.id)?.person).toBe(person);
  });
});

describe("session cookie", () => {
  it("is HttpOnly, SameSite=Lax, Path=/, and Secure on https", () => {
    const https = sessionCookie("abc", { secure: true });
    expect(https).toBe(`${SESSION_COOKIE}=abc; Path=/; HttpOnly; SameSite=Lax; Secure`);
    const http = sessionCookie("abc", { secure: false, maxAgeSeconds: 60 });
    expect(http).toContain("HttpOnly");
    expect(http).toContain("SameSite=Lax");
    expect(http).toContain("Max-Age=60");
    expect(http).not.toContain("Secure");
  });

  it("is cleared on sign-out", () => {
    expect(clearSessionCookie({ secure: true })).toBe(
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure`,
    );
  });
});

describe("LoginTransactionStore", () => {
  it("hands a transaction out once, to the session that started it", () => {
    const store = new LoginTransactionStore();
    store.put(tx("s1"), "sess-A");
    expect(store.take("s1", "sess-A")).toEqual(tx("s1"));
    expect(store.take("s1", "sess-A")).toBeUndefined();
    expect(store.take("unknown", "sess-A")).toBeUndefined();
    expect(store.take(null, "sess-A")).toBeUndefined();
  });

  it("refuses (and burns) a transaction presented by another session", () => {
    const store = new LoginTransactionStore();
    store.put(tx("s2"), "sess-A");
    expect(store.take("s2", "sess-B")).toBeUndefined();
    expect(store.take("s2", "sess-A")).toBeUndefined();
    store.put(tx("s3"), "sess-A");
    expect(store.take("s3", undefined)).toBeUndefined();
  });

  it("expires transactions", () => {
    const c = clock();
    const store = new LoginTransactionStore({ ttlMs: 1000, now: c.now });
    store.put(tx("s4"), "sess");
    store.put(tx("s5"), "sess");
    c.advance(1000);
    expect(store.take("s4", "sess")).toBeUndefined();
    store.put(tx("s6"), "sess");
    expect(store.size).toBe(1);
  });
});
