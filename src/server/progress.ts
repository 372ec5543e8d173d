import type { ProgressPhase } from "../governance/pipeline.js";

/** When progress notifications go out (ms). */
export interface ProgressTiming {
  /** Nothing is sent before the call has run this long: a fast call just answers. */
  quietMs: number;
  /** At most one notification per interval; the latest phase wins. */
  minIntervalMs: number;
  /** While one phase lasts, it is repeated this often with the time it has taken. */
  heartbeatMs: number;
}

export const PROGRESS_TIMING: ProgressTiming = { quietMs: 1000, minIntervalMs: 250, heartbeatMs: 5000 };

/** The params of one notifications/progress, without the token. */
export interface ProgressNote {
  progress: number;
  message: string;
}

/**
 * Turns a call's phase reports into notifications/progress that a person can follow and a client is not flooded by:
 * nothing during the first `quietMs`; then the current phase at once and each later change, at most one notification
 * per `minIntervalMs` (a phase replaced within the interval is never sent); while a phase lasts, a heartbeat every
 * `heartbeatMs` saying how long it has taken (so a client that resets its request timeout on progress keeps waiting,
 * e.g. for an approval); nothing after `close()` — the result, or the cancellation, is the last word.
 * `progress` counts the notifications sent, so it increases with each one as the spec requires; there is no `total`:
 * how long a query or an approval takes is not known ahead, and a made-up fraction would not be honest.
 */
export class ProgressReporter {
  private current?: { phase: ProgressPhase; detail?: string; since: number };
  private dirty = false;
  private sent = 0;
  private lastSent = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  /** When the armed timer fires: a report that does not move it re-arms nothing (calls report a few phases each). */
  private due = Number.NaN;
  private closed = false;
  private readonly started: number;

  constructor(
    private readonly send: (note: ProgressNote) => void,
    private readonly timing: ProgressTiming = PROGRESS_TIMING,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** The call entered `phase` (or says more about it). */
  update(phase: ProgressPhase, detail?: string): void {
    if (this.closed) return;
    // The same report again says nothing new: the heartbeat covers a phase that lasts.
    if (this.current?.phase === phase && this.current.detail === detail) return;
    const t = this.now();
    const since = this.current?.phase === phase ? this.current.since : t;
    this.current = { phase, ...(detail ? { detail } : {}), since };
    this.dirty = true;
    this.schedule();
  }

  /** The call has answered (or was cancelled): nothing more is sent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed || !this.current) return;
    const { quietMs, minIntervalMs, heartbeatMs } = this.timing;
    const due = this.dirty
      ? Math.max(this.started + quietMs, this.lastSent + minIntervalMs)
      : this.lastSent + heartbeatMs;
    if (this.timer && due === this.due) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - this.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    if (this.closed || !this.current) return;
    const t = this.now();
    const { phase, detail, since } = this.current;
    const seconds = Math.floor((t - since) / 1000);
    const message = `${phase}${detail ? `: ${detail}` : ""}${seconds >= 1 ? ` (${seconds} s)` : ""}`;
    this.sent++;
    this.lastSent = t;
    this.dirty = false;
    this.send({ progress: this.sent, message });
    this.schedule();
  }
}
