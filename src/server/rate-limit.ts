/**
 * Rate limits as a GCRA (generic cell rate algorithm: a token bucket kept as one number per key).
 *
 * A key's whole state is its theoretical arrival time (TAT, ms): the time at which its bucket would be full again.
 * With T = 1000 / rate ms per request and τ = (burst − 1)·T, a request at `now` is admitted when TAT − now ≤ τ, and
 * then TAT = max(TAT, now) + T. So at most `burst` requests are admitted at once and at most burst + rate·t in any
 * window of t seconds; a refused request changes nothing (a key being flooded costs one map read and keeps one number).
 *
 * The key table is bounded: a key whose TAT has passed is indistinguishable from a key never seen (its bucket is full),
 * so it may be dropped without losing anything — and only such keys are ever dropped. The table is kept in
 * least-recently-charged order; a new key in a full table drops idle keys from the old end (a bounded number per
 * request, so every request is O(1)), and when none of them is idle the new key is refused until the oldest one is
 * (fail closed, with the time until then). A flood of distinct keys therefore cannot grow memory past `maxKeys` nor
 * reset a busy key's bucket by pushing it out.
 */
export interface RateLimitOptions {
  /** Sustained requests per second. */
  rate: number;
  /** Requests admitted at once from an idle key (≥ 1). */
  burst: number;
  /** Keys kept at most (default 10,000). */
  maxKeys?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Idle keys looked at, from the old end, when a new key needs room. */
const EVICT_SCAN = 8;

export class RateLimiter {
  readonly rate: number;
  readonly burst: number;
  readonly maxKeys: number;
  /** ms per request. */
  private readonly t: number;
  /** (burst − 1)·T: how far ahead of now a key's TAT may be and still admit. */
  private readonly tau: number;
  private readonly now: () => number;
  /** key → TAT (ms). Map order is least recently charged first. */
  private readonly tat = new Map<string, number>();

  constructor(opts: RateLimitOptions) {
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be > 0 (got ${opts.rate})`);
    if (!(opts.burst >= 1) || !Number.isFinite(opts.burst))
      throw new RangeError(`burst must be ≥ 1 (got ${opts.burst})`);
    this.rate = opts.rate;
    this.burst = Math.floor(opts.burst);
    this.maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? 10_000));
    this.t = 1000 / opts.rate;
    this.tau = (this.burst - 1) * this.t;
    this.now = opts.now ?? Date.now;
  }

  /** Keys held now (≤ maxKeys). */
  get size(): number {
    return this.tat.size;
  }

  /** A key's whole state: its TAT in ms, or undefined when not held (tests and diagnostics). */
  stateOf(key: string): number | undefined {
    return this.tat.get(key);
  }

  /** ms until a request for `key` would be admitted (0: now). Changes nothing except dropping idle keys. */
  wait(key: string, now = this.now()): number {
    const tat = this.tat.get(key);
    if (tat !== undefined) return Math.max(0, tat - this.tau - now);
    return this.room(now);
  }

  /** Charges one request to `key`: 0 when admitted, else the ms to wait (nothing is charged). */
  take(key: string, now = this.now()): number {
    const w = this.wait(key, now);
    if (w > 0) return w;
    this.charge(key, now);
    return 0;
  }

  /** Charges an admitted request (after wait(key) returned 0 at the same `now`). */
  charge(key: string, now = this.now()): void {
    const tat = this.tat.get(key);
    if (tat !== undefined) this.tat.delete(key); // re-inserted at the young end
    this.tat.set(key, Math.max(tat ?? now, now) + this.t);
  }

  /** Drops every idle key (a periodic sweep; never needed for the bound). */
  sweep(now = this.now()): number {
    let n = 0;
    for (const [k, tat] of this.tat)
      if (tat <= now) {
        this.tat.delete(k);
        n++;
      }
    return n;
  }

  /** Room for a new key: 0 when there is (dropping idle keys from the old end), else ms until the oldest is idle. */
  private room(now: number): number {
    if (this.tat.size < this.maxKeys) return 0;
    let scanned = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [k, tat] of this.tat) {
      if (tat <= now) {
        this.tat.delete(k);
        if (this.tat.size < this.maxKeys) return 0;
      } else oldest = Math.min(oldest, tat);
      if (++scanned >= EVICT_SCAN) break;
    }
    return this.tat.size < this.maxKeys ? 0 : Math.max(1, oldest - now);
  }
}

/**
 * Charges one request to several limiters at once (e.g. the token's and the job's): all or nothing. Returns 0 when
 * admitted, else the longest wait (nothing charged). One key per limiter.
 */
export function takeAll(charges: readonly (readonly [RateLimiter, string])[]): number {
  let wait = 0;
  for (const [l, k] of charges) wait = Math.max(wait, l.wait(k));
  if (wait > 0) return wait;
  for (const [l, k] of charges) l.charge(k);
  return 0;
}

/** Retry-After (whole seconds, at least 1) for a wait in ms. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
