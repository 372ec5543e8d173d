import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { isLoopbackHost } from "../server/client-address.js";
import { VERSION } from "../version.js";
import { assertDeliveryId, type DeadEntry, type SpoolEntry, type WebhookSpool } from "./spool.js";

// Signed, retrying, spooling webhook delivery — generic: approval notifications use it now, SOC playbooks ("notify" to
// ServiceNow/Jira-style endpoints) later.
//
// The request: POST <url>, `content-type: application/json`, body
//   {"id": "<delivery id>", "event": "<event>", "created_at": "<ISO>", "data": <payload>}
// and the headers
//   x-gsmcp-event: <event>              (also in the signed body)
//   x-gsmcp-delivery: <delivery id>     (also in the signed body; the same on every retry: receivers deduplicate on it)
//   x-gsmcp-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>
//
// Verification recipe (receivers): split the header on ",", take t and every v1; reject unless |now - t| ≤ tolerance
// (300 s); compute HMAC-SHA256 with the shared secret over the exact bytes `${t}.` + raw body; compare with each v1 in
// constant time. `verifyWebhookSignature` below does exactly that. The timestamp is fresh at every attempt, so a
// retried or spooled delivery still verifies; a captured request replayed after the tolerance does not (within it,
// deduplicate on the delivery id).
//
// Retries: network errors, timeouts, 5xx and 429 (Retry-After honoured) are retried in process with exponential
// backoff and jitter; any other status (4xx, 3xx: redirects are not followed) is final. When the in-process attempts
// are used up the delivery waits in the spool and `drainSpool()` retries it until it is delivered or goes to dead/.
// Nothing here logs or stores the secret; the URL appears in messages without its query string.

export const SIGNATURE_HEADER = "x-gsmcp-signature";
export const EVENT_HEADER = "x-gsmcp-event";
export const DELIVERY_HEADER = "x-gsmcp-delivery";
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Shortest HMAC secret accepted (characters). */
export const MIN_SECRET_LENGTH = 16;

export type NotifyErrorCode = "notify_config_invalid" | "notify_url_insecure" | "notify_secret_missing";

/** A configuration problem: what is wrong (naming the field) and how to fix it. */
export class NotifyError extends Error {
  override readonly name = "NotifyError";
  constructor(
    readonly code: NotifyErrorCode,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// URL policy

/** The URL without credentials, query or fragment: safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid url>";
  }
}

/**
 * A problem with a webhook or console URL, or undefined when it is acceptable: https anywhere, http only to a loopback
 * host (tests, a local relay). `field` names the configuration field in the message.
 */
export function webhookUrlProblem(url: string, field = "notify.webhook.url"): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${field} is not a valid URL: give an absolute https:// URL`;
  }
  if (u.protocol === "https:") return undefined;
  if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return undefined;
  if (u.protocol === "http:")
    return `${field} uses http:// to ${u.hostname}: use https:// (plain http is allowed only to loopback hosts such as 127.0.0.1 or localhost)`;
  return `${field} has scheme ${u.protocol} : use https://`;
}

export function assertWebhookUrl(url: string, field = "notify.webhook.url"): void {
  const problem = webhookUrlProblem(url, field);
  if (problem) throw new NotifyError("notify_url_insecure", problem, `set ${field} to an https:// URL`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Signatures

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>` */
export function signWebhook(secret: string, body: string | Uint8Array, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  const mac = createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
  return `t=${t},v1=${mac}`;
}

export type SignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "malformed" | "timestamp_out_of_tolerance" | "signature_mismatch" };

/**
 * Checks an `x-gsmcp-signature` header against the raw body, with the reason when it fails. `secret` may list several
 * secrets (rotation: any one verifies); `now` is a Date or milliseconds since the epoch.
 */
export function checkWebhookSignature(
  secret: string | readonly string[],
  header: string | undefined | null,
  body: string | Uint8Array,
  now: Date | number = Date.now(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!header) return { ok: false, reason: "malformed" };
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === "t" && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === "v1" && /^[0-9a-f]{64}$/i.test(v)) v1.push(Buffer.from(v, "hex"));
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: "malformed" };
  const nowSeconds = (typeof now === "number" ? now : now.getTime()) / 1000;
  if (!(Math.abs(nowSeconds - t) <= toleranceSeconds)) return { ok: false, reason: "timestamp_out_of_tolerance" };
  const secrets = typeof secret === "string" ? [secret] : secret;
  let match = false;
  for (const s of secrets) {
    if (!s) continue;
    const expected = createHmac("sha256", s).update(`${t}.`).update(body).digest();
    // Every candidate is compared (no early exit), each in constant time.
    for (const sig of v1) if (sig.length === expected.length && timingSafeEqual(sig, expected)) match = true;
  }
  return match ? { ok: true, timestamp: t } : { ok: false, reason: "signature_mismatch" };
}

/** True when the header is a valid signature of `body` by `secret`, dated within `toleranceSeconds` of `now`. */
export function verifyWebhookSignature(
  secret: string | readonly string[],
  header: string | undefined | null,
  body: string | Uint8Array,
  now: Date | number = Date.now(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  return checkWebhookSignature(secret, header, body, now, toleranceSeconds).ok;
}

// ---------------------------------------------------------------------------------------------------------------------
// Backoff

export interface BackoffOptions {
  /** First delay. */
  baseMs: number;
  /** Largest delay. */
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": the n-th retry (n ≥ 1) waits between half and all of
 * min(max, base · 2^(n-1)).
 */
export function backoffDelay(retry: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

// ---------------------------------------------------------------------------------------------------------------------
// The sender

export interface WebhookSenderOptions {
  /** https://…, or http:// to a loopback host. */
  url: string;
  /** The HMAC secret itself (resolve it from the environment: `webhookSenderFromConfig`). Never logged or spooled. */
  secret: string;
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Attempts in process before the delivery is spooled. Default 3. */
  maxAttempts?: number;
  /** Delays between in-process attempts. Default 500 ms doubling to 5 s. */
  backoff?: BackoffOptions;
  /** A Retry-After longer than this ends the in-process attempts: the spool waits for it instead. Default 30 s. */
  maxRetryAfterMs?: number;
  /** Where undeliverable deliveries wait. Without one they are reported `failed` and dropped. */
  spool?: WebhookSpool;
  /** Spool policy: delays between spooled attempts (default 30 s doubling to 1 h). */
  spoolBackoff?: BackoffOptions;
  /** Spool policy: total attempts before dead/ (default 20). */
  spoolMaxAttempts?: number;
  /** Spool policy: age after which a delivery goes to dead/ (default 24 h). */
  spoolMaxAgeMs?: number;
  /** Clock (ms since the epoch), sleep and randomness: injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  fetch?: typeof globalThis.fetch;
  /** Observes what happens (no secrets in it): for logs and telemetry. */
  onEvent?: (e: WebhookEvent) => void;
}

export interface WebhookEvent {
  type: "attempt_failed" | "delivered" | "spooled" | "rejected" | "dead" | "failed";
  id: string;
  event: string;
  attempt: number;
  status?: number;
  error?: string;
  /** The target without query string or credentials. */
  target: string;
}

export interface DeliverOptions {
  /** The delivery id: deterministic ids make repeats no-ops (deduplicated in the spool). Default: a random id. */
  id?: string;
  /** After this time (ISO or Date) the delivery is pointless: not retried from the spool, sent to dead/. */
  expiresAt?: string | Date;
}

export type DeliveryResult =
  /** The endpoint answered 2xx. */
  | { status: "delivered"; id: string; attempts: number; httpStatus: number }
  /** Not delivered yet; waiting in the spool for drainSpool. */
  | { status: "spooled"; id: string; attempts: number; error: string }
  /** The endpoint refused it (4xx other than 429, or a redirect): not retried; in dead/ when there is a spool. */
  | { status: "rejected"; id: string; attempts: number; httpStatus: number; error: string }
  /** Not delivered and no spool to keep it. */
  | { status: "failed"; id: string; attempts: number; error: string }
  /** This id is already pending, delivered or dead: nothing sent. */
  | { status: "duplicate"; id: string; attempts: 0 };

export interface DrainResult {
  delivered: string[];
  retrying: string[];
  dead: string[];
}

type Attempt =
  | { kind: "ok"; status: number }
  | { kind: "retry"; status?: number; error: string; retryAfterMs?: number }
  | { kind: "final"; status: number; error: string };

const MAX_ERROR_SNIPPET = 200;

/** Reads at most a few KB of the response (then cancels): enough for an error message, bounded in memory. */
async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < 4096) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // a body that fails mid-way only shortens the message
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\p{Cc}+/gu, " ")
    .trim()
    .slice(0, MAX_ERROR_SNIPPET);
}

const errorText = (e: unknown): string => {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.cause?.code) return `${err.cause.code}${err.cause.message ? `: ${err.cause.message}` : ""}`;
  return err?.message ?? String(e);
};

/** POSTs signed JSON to one endpoint, retries, and spools what it cannot deliver. */
export class WebhookSender {
  private readonly url: string;
  private readonly target: string;
  readonly #secret: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly maxRetryAfterMs: number;
  private readonly spoolBackoff: BackoffOptions;
  private readonly spoolMaxAttempts: number;
  private readonly spoolMaxAgeMs: number;
  readonly spool: WebhookSpool | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly onEvent: (e: WebhookEvent) => void;
  private draining: Promise<DrainResult> | undefined;

  constructor(o: WebhookSenderOptions) {
    assertWebhookUrl(o.url);
    if (typeof o.secret !== "string" || o.secret.length < MIN_SECRET_LENGTH)
      throw new NotifyError(
        "notify_secret_missing",
        `the webhook HMAC secret is missing or shorter than ${MIN_SECRET_LENGTH} characters`,
        "set the environment variable named by notify.webhook.secret_env to a random secret (e.g. `openssl rand -hex 32`)",
      );
    this.url = o.url;
    this.target = redactUrl(o.url);
    // A private field: neither util.inspect nor JSON.stringify of the sender shows it.
    this.#secret = o.secret;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, o.maxAttempts ?? 3);
    this.backoff = o.backoff ?? { baseMs: 500, maxMs: 5_000 };
    this.maxRetryAfterMs = o.maxRetryAfterMs ?? 30_000;
    this.spool = o.spool;
    this.spoolBackoff = o.spoolBackoff ?? { baseMs: 30_000, maxMs: 3_600_000 };
    this.spoolMaxAttempts = o.spoolMaxAttempts ?? 20;
    this.spoolMaxAgeMs = o.spoolMaxAgeMs ?? 24 * 3_600_000;
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
    this.fetchFn = o.fetch ?? globalThis.fetch;
    this.onEvent = o.onEvent ?? (() => {});
  }

  /** Never prints the secret (util.inspect and JSON.stringify). */
  toJSON(): Record<string, unknown> {
    return { target: this.target, spool: this.spool?.dir };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `WebhookSender(${this.target})`;
  }

  /**
   * Sends `payload` as `event`. Never throws for delivery problems (the caller's work must not fail because an
   * endpoint is down): the result says what happened.
   */
  async deliver(event: string, payload: unknown, o: DeliverOptions = {}): Promise<DeliveryResult> {
    const id = o.id ?? `whd_${randomUUID()}`;
    assertDeliveryId(id);
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(event))
      throw new TypeError(`event ${JSON.stringify(event)} is not valid: use 1-100 letters, digits, "_", ".", ":", "-"`);
    const createdAt = new Date(this.now()).toISOString();
    const entry: SpoolEntry = {
      v: 1,
      id,
      event,
      body: JSON.stringify({ id, event, created_at: createdAt, data: payload }),
      created_at: createdAt,
      attempts: 0,
      next_attempt_at: createdAt,
      ...(o.expiresAt ? { expires_at: new Date(o.expiresAt).toISOString() } : {}),
    };
    // Write-ahead: the delivery is on disk (claimed by us) before the first attempt, so a crash loses nothing.
    if (this.spool && !this.spool.begin(entry, this.now())) return { status: "duplicate", id, attempts: 0 };

    let last: Attempt = { kind: "retry", error: "not attempted" };
    while (entry.attempts < this.maxAttempts) {
      this.spool?.renew(id, this.now());
      last = await this.attempt(entry);
      if (last.kind === "ok") return this.onDelivered(entry, last.status);
      if (last.kind === "final") return this.onRejected(entry, last);
      if (entry.attempts >= this.maxAttempts) break;
      const wait = last.retryAfterMs ?? backoffDelay(entry.attempts, this.backoff, this.random);
      if (wait > this.maxRetryAfterMs) break;
      await this.sleep(wait);
    }
    const error = last.kind === "retry" ? last.error : "unknown";
    if (!this.spool) {
      this.emit("failed", entry, { error });
      return { status: "failed", id, attempts: entry.attempts, error };
    }
    const retryAfter = last.kind === "retry" ? last.retryAfterMs : undefined;
    entry.next_attempt_at = new Date(this.now() + this.spoolDelay(entry.attempts, retryAfter)).toISOString();
    this.spool.release(entry);
    this.emit("spooled", entry, { error });
    return { status: "spooled", id, attempts: entry.attempts, error };
  }

  /**
   * One attempt for every due spooled delivery (also the ones a crashed process left claimed): delivered ones are
   * marked, failures rescheduled with backoff, and those past the attempt or age limit (or their expiry) go to dead/.
   * Call it at start and on a timer (`startSpoolDrain`). Concurrent calls share one run.
   */
  drainSpool(): Promise<DrainResult> {
    if (!this.draining)
      this.draining = this.drainOnce().finally(() => {
        this.draining = undefined;
      });
    return this.draining;
  }

  private async drainOnce(): Promise<DrainResult> {
    const out: DrainResult = { delivered: [], retrying: [], dead: [] };
    const spool = this.spool;
    if (!spool) return out;
    spool.recoverStale(this.now());
    spool.pruneDelivered(this.now());
    for (const due of spool.due(this.now())) {
      const entry = spool.claim(due.id, this.now());
      if (!entry) continue; // another drainer has it
      const now = this.now();
      if (entry.expires_at && Date.parse(entry.expires_at) <= now) {
        this.toDead(entry, "expired", out);
        continue;
      }
      const r = await this.attempt(entry);
      if (r.kind === "ok") {
        this.onDelivered(entry, r.status);
        out.delivered.push(entry.id);
      } else if (r.kind === "final") {
        this.onRejected(entry, r);
        out.dead.push(entry.id);
      } else if (entry.attempts >= this.spoolMaxAttempts) {
        this.toDead(entry, "max_attempts", out);
      } else if (this.now() - Date.parse(entry.created_at) >= this.spoolMaxAgeMs) {
        this.toDead(entry, "max_age", out);
      } else {
        entry.next_attempt_at = new Date(this.now() + this.spoolDelay(entry.attempts, r.retryAfterMs)).toISOString();
        spool.release(entry);
        out.retrying.push(entry.id);
      }
    }
    return out;
  }

  private spoolDelay(attempts: number, retryAfterMs: number | undefined): number {
    return retryAfterMs ?? backoffDelay(attempts, this.spoolBackoff, this.random);
  }

  private toDead(entry: SpoolEntry, reason: DeadEntry["dead_reason"], out: DrainResult): void {
    this.spool?.dead(entry, reason, this.now());
    out.dead.push(entry.id);
    this.emit("dead", entry, { error: `${reason}${entry.last_error ? `: ${entry.last_error}` : ""}` });
  }

  private onDelivered(entry: SpoolEntry, status: number): DeliveryResult {
    this.spool?.delivered(entry, this.now());
    this.emit("delivered", entry, { status });
    return { status: "delivered", id: entry.id, attempts: entry.attempts, httpStatus: status };
  }

  private onRejected(entry: SpoolEntry, r: { status: number; error: string }): DeliveryResult {
    this.spool?.dead(entry, "rejected", this.now());
    this.emit("rejected", entry, { status: r.status, error: r.error });
    return { status: "rejected", id: entry.id, attempts: entry.attempts, httpStatus: r.status, error: r.error };
  }

  private emit(type: WebhookEvent["type"], entry: SpoolEntry, extra: { status?: number; error?: string }): void {
    try {
      this.onEvent({ type, id: entry.id, event: entry.event, attempt: entry.attempts, target: this.target, ...extra });
    } catch {
      // an observer's failure is not the delivery's
    }
  }

  /** One POST: signs with a fresh timestamp, classifies the outcome, records attempts and the last error. */
  private async attempt(entry: SpoolEntry): Promise<Attempt> {
    entry.attempts++;
    const ts = Math.floor(this.now() / 1000);
    const headers = {
      "content-type": "application/json",
      "user-agent": `governed-sentinel-mcp/${VERSION}`,
      [EVENT_HEADER]: entry.event,
      [DELIVERY_HEADER]: entry.id,
      [SIGNATURE_HEADER]: signWebhook(this.#secret, entry.body, ts),
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let r: Attempt;
    try {
      const res = await this.fetchFn(this.url, {
        method: "POST",
        headers,
        body: entry.body,
        redirect: "manual",
        signal: controller.signal,
      });
      if (res.status >= 200 && res.status < 300) {
        res.body?.cancel().catch(() => {});
        r = { kind: "ok", status: res.status };
      } else {
        const snippet = await readSnippet(res);
        const error = `HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`;
        if (res.status === 429 || res.status >= 500) {
          const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), this.now());
          r = { kind: "retry", status: res.status, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
        } else if (res.status >= 300 && res.status < 400) {
          r = {
            kind: "final",
            status: res.status,
            error: `${error} (redirects are not followed: configure the final URL)`,
          };
        } else {
          r = { kind: "final", status: res.status, error };
        }
      }
    } catch (e) {
      r = {
        kind: "retry",
        error: controller.signal.aborted ? `timeout after ${this.timeoutMs} ms` : `network error: ${errorText(e)}`,
      };
    } finally {
      clearTimeout(timer);
    }
    if (r.kind !== "ok") {
      entry.last_error = r.error;
      if (r.status !== undefined) entry.last_status = r.status;
      else delete entry.last_status;
      if (r.kind === "retry")
        this.emit("attempt_failed", entry, { error: r.error, ...(r.status ? { status: r.status } : {}) });
    }
    return r;
  }
}

/**
 * Drains the spool now and then every `intervalMs` (the timer does not keep the process alive). Errors go to
 * `onError`. Returns a stop function.
 */
export function startSpoolDrain(
  sender: WebhookSender,
  o: { intervalMs?: number; onError?: (e: unknown) => void } = {},
): () => void {
  const run = () => {
    sender.drainSpool().catch((e) => o.onError?.(e));
  };
  run();
  const timer = setInterval(run, o.intervalMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------------------------------------------------------------
// From configuration

export interface WebhookConfig {
  url: string;
  /** Name of the environment variable holding the HMAC secret — never the secret itself. */
  secret_env: string;
  timeout_ms?: number;
  max_attempts?: number;
  reminder_before_seconds?: number;
}

/**
 * A sender for a validated `notify.webhook` block: the secret is read from the environment variable it names.
 */
export function webhookSenderFromConfig(
  c: WebhookConfig,
  o: { env?: NodeJS.ProcessEnv; spool?: WebhookSpool } & Partial<
    Omit<WebhookSenderOptions, "url" | "secret" | "timeoutMs" | "maxAttempts">
  > = {},
): WebhookSender {
  const { env = process.env, ...rest } = o;
  const secret = env[c.secret_env];
  if (!secret)
    throw new NotifyError(
      "notify_secret_missing",
      `notify.webhook.secret_env names the environment variable ${c.secret_env}, which is not set`,
      `set ${c.secret_env} to the shared HMAC secret (e.g. \`export ${c.secret_env}=$(openssl rand -hex 32)\`)`,
    );
  if (secret.length < MIN_SECRET_LENGTH)
    throw new NotifyError(
      "notify_secret_missing",
      `the environment variable ${c.secret_env} (notify.webhook.secret_env) holds fewer than ${MIN_SECRET_LENGTH} characters`,
      `set ${c.secret_env} to a longer random secret (e.g. \`openssl rand -hex 32\`)`,
    );
  return new WebhookSender({
    ...rest,
    url: c.url,
    secret,
    ...(c.timeout_ms !== undefined ? { timeoutMs: c.timeout_ms } : {}),
    ...(c.max_attempts !== undefined ? { maxAttempts: c.max_attempts } : {}),
  });
}
