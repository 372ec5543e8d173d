import { GovernanceError } from "../governance/errors.js";
import type { Caller } from "../governance/stages/types.js";

/**
 * Writes one refusal's receipt and events: the error, what was refused (the receipt's tool), what the receipt's args
 * carry, and the caller when known — or else the unverified token presented, only to label the receipt's agent.
 */
export type RecordRefusal = (
  err: GovernanceError,
  what: string,
  args: Record<string, unknown>,
  caller?: Caller,
  token?: string,
) => void;

interface Pending {
  /** Refusals counted since the one recorded at once (the interval's first). */
  count: number;
  since: number;
  last: number;
  err: GovernanceError;
  what: string;
  caller?: Caller;
  clients: Map<string, number>;
  otherClients: number;
}

/** Client addresses named in a summary (the rest are counted together). */
const MAX_CLIENTS = 8;

/**
 * Transport refusals, aggregated so that garbage traffic cannot grow the receipt store without bound. Per kind (a
 * key: the reason, and the token for an authenticated caller) and interval: the first refusal is recorded at once,
 * with its own receipt and events; the others are counted, and one receipt with the count (and the busiest client
 * addresses) is written when the interval ends — at most two receipts per kind and interval, however many requests.
 * The table of kinds is bounded (`maxKinds`); beyond it, refusals are counted under their reason alone. close()
 * writes the last interval's counts.
 */
export class RefusalAggregator {
  private readonly pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly record: RecordRefusal,
    readonly intervalMs = 10_000,
    private readonly maxKinds = 1024,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Kinds with refusals waiting for the end of the interval. */
  get size(): number {
    return this.pending.size;
  }

  refuse(
    kind: string,
    err: GovernanceError,
    info: { what: string; client?: string; caller?: Caller; token?: string },
  ): void {
    let key = kind;
    let caller = info.caller;
    if (!this.pending.has(key) && this.pending.size >= this.maxKinds) {
      key = `${err.code}\u0000*`;
      caller = undefined;
    }
    const p = this.pending.get(key);
    const now = this.now();
    if (!p || this.closed) {
      if (!this.closed)
        this.pending.set(key, {
          count: 0,
          since: now,
          last: now,
          err,
          what: info.what,
          ...(caller ? { caller } : {}),
          clients: new Map(),
          otherClients: 0,
        });
      this.record(err, info.what, info.client ? { client: info.client } : {}, caller, caller ? undefined : info.token);
      return;
    }
    p.count++;
    p.last = now;
    p.err = err;
    if (info.client !== undefined) {
      const n = p.clients.get(info.client);
      if (n !== undefined) p.clients.set(info.client, n + 1);
      else if (p.clients.size < MAX_CLIENTS) p.clients.set(info.client, 1);
      else p.otherClients++;
    }
  }

  /** Writes one summary receipt per kind with refusals counted since its first; starts a new interval. */
  flush(): number {
    let written = 0;
    const seconds = Math.round(this.intervalMs / 100) / 10;
    for (const p of this.pending.values()) {
      if (p.count === 0) continue;
      const e = p.err;
      const err = new GovernanceError(
        e.code,
        `${p.count} more ${p.what} request(s) refused like this within ${seconds} s (aggregated; the first had its own receipt): ${e.message}`,
        e.fix,
      );
      this.record(
        err,
        p.what,
        {
          aggregated: true,
          count: p.count,
          since: new Date(p.since).toISOString(),
          until: new Date(p.last).toISOString(),
          ...(p.clients.size ? { clients: Object.fromEntries(p.clients) } : {}),
          ...(p.otherClients ? { other_clients: p.otherClients } : {}),
        },
        p.caller,
      );
      written++;
    }
    this.pending.clear();
    return written;
  }

  /** Stops the timer and writes what is counted; later refusals are recorded one by one. */
  close(): number {
    clearInterval(this.timer);
    const n = this.flush();
    this.closed = true;
    return n;
  }
}
