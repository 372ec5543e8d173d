/**
 * Approver console sessions: server-side (an in-memory Map), random 256-bit ids in an HttpOnly cookie, idle and
 * absolute timeouts, a fresh id on sign-in (no fixation), sign-out. Plus the login-transaction store: what
 * `startLogin` returned, kept server-side under its state, bound to the browser session that started it, single use.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { LoginTransaction, Person } from "./oidc.js";

export const SESSION_COOKIE = "gsmcp_console";
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const DEFAULT_ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;

export interface ConsoleSession {
  /** 256 random bits, base64url. */
  readonly id: string;
  /** Set once signed in. */
  person?: Person;
  /** Milliseconds since the epoch. */
  readonly created: number;
  lastSeen: number;
  /** When the person signed in (ms), for the absolute timeout of the signed-in state. */
  signedInAt?: number;
  /** The synchronizer token (see csrf.ts). */
  csrf?: string;
}

export interface SessionStoreOptions {
  idleTimeoutMs?: number;
  absoluteTimeoutMs?: number;
  /** Most sessions held; the least recently seen go first beyond it. */
  maxSessions?: number;
  now?: () => number;
}

const newId = () => randomBytes(32).toString("base64url");
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.absoluteTimeoutMs = options.absoluteTimeoutMs ?? DEFAULT_ABSOLUTE_TIMEOUT_MS;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new anonymous session (e.g. to bind a login transaction to this browser). */
  create(): ConsoleSession {
    this.evict();
    const t = this.now();
    const s: ConsoleSession = { id: newId(), created: t, lastSeen: t };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id, touched; undefined (and forgotten) when unknown, idle or too old. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id || !ID_SHAPE.test(id)) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (this.expired(s, t)) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = t;
    // Map order = least recently seen first, for eviction.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return s;
  }

  /** The session named by the request's cookie. */
  fromRequest(req: Pick<IncomingMessage, "headers">): ConsoleSession | undefined {
    return this.get(readCookie(req, SESSION_COOKIE));
  }

  /**
   * Signs the person in on a NEW session id (the previous session, if any, is destroyed), so an id planted before
   * sign-in is worthless after it. The CSRF token is not carried over.
   */
  signIn(previousId: string | undefined, person: Person): ConsoleSession {
    if (previousId) this.sessions.delete(previousId);
    const s = this.create();
    s.person = person;
    s.signedInAt = s.created;
    return s;
  }

  /** Sign-out: the session is gone on the server, whatever the browser keeps. */
  destroy(id: string | undefined): boolean {
    return id ? this.sessions.delete(id) : false;
  }

  /** Every session of this person (e.g. after their role is revoked). */
  destroyPerson(personId: string): number {
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (s.person?.id === personId) {
        this.sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  private expired(s: ConsoleSession, t: number): boolean {
    return t - s.lastSeen > this.idleTimeoutMs || t - s.created > this.absoluteTimeoutMs;
  }

  private evict(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (this.expired(s, t)) this.sessions.delete(id);
    // Anonymous sessions (started sign-ins) go first: a flood of /login requests must not sign people out.
    for (const [id, s] of this.sessions) {
      if (this.sessions.size < this.maxSessions) break;
      if (!s.person) this.sessions.delete(id);
    }
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
  }
}

export interface CookieOptions {
  /** Add `Secure`: when the console is served over https. */
  secure: boolean;
  /** Max-Age in seconds; omitted = a browser-session cookie (the server-side timeouts still apply). */
  maxAgeSeconds?: number;
}

/** `Set-Cookie` value for the session: HttpOnly, SameSite=Lax, Path=/, Secure when https. */
export function sessionCookie(id: string, options: CookieOptions): string {
  const parts = [`${SESSION_COOKIE}=${id}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** `Set-Cookie` value that removes the session cookie (sign-out). */
export function clearSessionCookie(options: Pick<CookieOptions, "secure">): string {
  const parts = [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0"];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** One cookie's value from the request's Cookie header (first occurrence). */
export function readCookie(req: Pick<IncomingMessage, "headers">, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const LOGIN_TRANSACTION_STORE_TTL_MS = 10 * 60 * 1000;

/**
 * Pending sign-ins, server-side, keyed by `state`, each bound to the browser session that started it (so a callback
 * URL carried to another browser is refused: login CSRF). `take` removes: a transaction is used at most once.
 */
export class LoginTransactionStore {
  private readonly pending = new Map<string, { tx: LoginTransaction; sessionId: string; expires: number }>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(options: { ttlMs?: number; max?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? LOGIN_TRANSACTION_STORE_TTL_MS;
    this.max = options.max ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.pending.size;
  }

  put(tx: LoginTransaction, sessionId: string): void {
    const t = this.now();
    for (const [state, p] of this.pending) if (p.expires <= t) this.pending.delete(state);
    while (this.pending.size >= this.max) {
      const oldest = this.pending.keys().next().value;
      if (oldest === undefined) break;
      this.pending.delete(oldest);
    }
    this.pending.set(tx.state, { tx, sessionId, expires: t + this.ttlMs });
  }

  /** The transaction for this state, once; undefined when unknown, used, expired or started by another session. */
  take(state: string | null | undefined, sessionId: string | undefined): LoginTransaction | undefined {
    if (!state) return undefined;
    const p = this.pending.get(state);
    if (!p) return undefined;
    this.pending.delete(state);
    if (p.expires <= this.now() || !sessionId || p.sessionId !== sessionId) return undefined;
    return p.tx;
  }
}
