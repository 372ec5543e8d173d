import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

// The durable side of webhook delivery: one JSON file per delivery that has not been delivered yet, so that nothing
// is lost when the endpoint is down or the process restarts.
//
//   <dir>/<id>.json            pending: waiting for its next attempt (next_attempt_at)
//   <dir>/inflight/<id>.json   claimed by a sender that is attempting it now (a crash leaves it here; a claim older
//                              than the claim TTL goes back to pending)
//   <dir>/delivered/<id>.json  marker: delivered (deduplication; pruned after a retention period)
//   <dir>/dead/<id>.json       dead letter: given up (max attempts, max age, expired, or refused by the endpoint),
//                              with the last error
//
// Files are written atomically (temp file, fsync, rename or link) with mode 0600, directories 0700. A spool file
// holds the event, the serialised body and the delivery's bookkeeping — never the HMAC secret (the signature is
// computed at each attempt) and never the target URL (it may carry a credential, e.g. a Logic App's `sig=`).

/** Delivery ids name spool files: letters, digits, `_`, `.` and `-`, at most 200 characters. */
export const DELIVERY_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

export interface SpoolEntry {
  v: 1;
  /** The delivery id (x-gsmcp-delivery); also the file name. */
  id: string;
  /** The event name (x-gsmcp-event). */
  event: string;
  /** The JSON body exactly as it is sent (and signed) at every attempt. */
  body: string;
  /** ISO time the delivery was created. */
  created_at: string;
  /** Attempts made so far (in process and from the spool). */
  attempts: number;
  /** ISO time of the next attempt. */
  next_attempt_at: string;
  /** After this ISO time the delivery is pointless (e.g. the approval expired): it goes to dead/ instead. */
  expires_at?: string;
  /** The last failure: `HTTP 503: …`, `timeout after 10000 ms`, `connect ECONNREFUSED …`. */
  last_error?: string;
  last_status?: number;
}

export interface DeadEntry extends SpoolEntry {
  dead_at: string;
  dead_reason: "max_attempts" | "max_age" | "expired" | "rejected";
}

export interface DeliveredMarker {
  id: string;
  event: string;
  delivered_at: string;
  attempts: number;
}

export type SpoolState = "pending" | "inflight" | "delivered" | "dead";

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export function assertDeliveryId(id: string): void {
  if (!DELIVERY_ID_PATTERN.test(id))
    throw new TypeError(
      `delivery id ${JSON.stringify(id)} is not valid: use 1-200 letters, digits, "_", "." or "-" (it names a spool file)`,
    );
}

function ensureDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  else if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
}

/** Writes a temp file next to `path` (0600, fsynced) and returns its name. */
function writeTemp(path: string, content: string): string {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = openSync(tmp, "wx", FILE_MODE);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Atomically writes (or replaces) `path`. */
function writeAtomic(path: string, content: string): void {
  const tmp = writeTemp(path, content);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmQuiet(tmp);
    throw e;
  }
}

/** Atomically creates `path`; false (nothing written) when it already exists. */
function createAtomic(path: string, content: string): boolean {
  const tmp = writeTemp(path, content);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmQuiet(tmp);
  }
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function jsonFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(".json") && !f.includes(".tmp-"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

export interface WebhookSpoolOptions {
  /** A claim (inflight file) older than this goes back to pending: its sender died mid-attempt. Default 10 min. */
  claimTtlMs?: number;
  /** Delivered markers are kept this long for deduplication. Default 7 days. */
  deliveredRetentionMs?: number;
}

/** A directory of pending webhook deliveries. Safe to share between processes on one host. */
export class WebhookSpool {
  readonly dir: string;
  private readonly claimTtlMs: number;
  private readonly deliveredRetentionMs: number;

  constructor(dir: string, o: WebhookSpoolOptions = {}) {
    this.dir = dir;
    this.claimTtlMs = o.claimTtlMs ?? 10 * 60_000;
    this.deliveredRetentionMs = o.deliveredRetentionMs ?? 7 * 24 * 3600_000;
    for (const d of [dir, this.sub("inflight"), this.sub("delivered"), this.sub("dead")]) ensureDir(d);
  }

  private sub(name: "inflight" | "delivered" | "dead"): string {
    return join(this.dir, name);
  }

  private path(state: SpoolState, id: string): string {
    assertDeliveryId(id);
    return state === "pending" ? join(this.dir, `${id}.json`) : join(this.sub(state), `${id}.json`);
  }

  /** Where a delivery id is, if anywhere: the deduplication check. */
  state(id: string): SpoolState | undefined {
    for (const s of ["pending", "inflight", "delivered", "dead"] as const) if (existsSync(this.path(s, id))) return s;
    return undefined;
  }

  /**
   * Records a new delivery as claimed by the caller (write-ahead, before its first attempt): if the process dies
   * mid-attempt, the claim goes stale and the delivery goes back to pending. False when the id is already known.
   */
  begin(entry: SpoolEntry, nowMs: number): boolean {
    if (this.state(entry.id)) return false;
    const p = this.path("inflight", entry.id);
    if (!createAtomic(p, JSON.stringify(entry))) return false;
    touch(p, nowMs);
    return true;
  }

  /** Adds a pending delivery; false (nothing written) when the id is already known. */
  put(entry: SpoolEntry): boolean {
    if (this.state(entry.id)) return false;
    return createAtomic(this.path("pending", entry.id), JSON.stringify(entry));
  }

  /** Claims a pending delivery for one attempt (atomic rename: one claimant wins). */
  claim(id: string, nowMs: number): SpoolEntry | undefined {
    const to = this.path("inflight", id);
    try {
      renameSync(this.path("pending", id), to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    touch(to, nowMs);
    return readJson<SpoolEntry>(to);
  }

  /** Renews a claim before another attempt, so a long in-process retry sequence is not taken for a dead sender's. */
  renew(id: string, nowMs: number): void {
    try {
      touch(this.path("inflight", id), nowMs);
    } catch {
      // not claimed (no spool entry): nothing to renew
    }
  }

  /** A claimed delivery failed and will be retried: back to pending with its new bookkeeping. */
  release(entry: SpoolEntry): void {
    writeAtomic(this.path("pending", entry.id), JSON.stringify(entry));
    rmQuiet(this.path("inflight", entry.id));
  }

  /** A claimed delivery was delivered: the marker replaces the claim. */
  delivered(entry: SpoolEntry, nowMs: number): void {
    const marker: DeliveredMarker = {
      id: entry.id,
      event: entry.event,
      delivered_at: new Date(nowMs).toISOString(),
      attempts: entry.attempts,
    };
    writeAtomic(this.path("delivered", entry.id), JSON.stringify(marker));
    rmQuiet(this.path("inflight", entry.id));
    rmQuiet(this.path("pending", entry.id));
  }

  /** Gives up on a delivery: dead/ keeps it with the reason and the last error. */
  dead(entry: SpoolEntry, reason: DeadEntry["dead_reason"], nowMs: number): DeadEntry {
    const d: DeadEntry = { ...entry, dead_at: new Date(nowMs).toISOString(), dead_reason: reason };
    writeAtomic(this.path("dead", entry.id), JSON.stringify(d, null, 2));
    rmQuiet(this.path("inflight", entry.id));
    rmQuiet(this.path("pending", entry.id));
    return d;
  }

  /** Claims whose sender died (older than the claim TTL) go back to pending. Returns their ids. */
  recoverStale(nowMs: number): string[] {
    const recovered: string[] = [];
    for (const f of jsonFiles(this.sub("inflight"))) {
      const p = join(this.sub("inflight"), f);
      let mtime: number;
      try {
        mtime = statSync(p).mtimeMs;
      } catch {
        continue;
      }
      if (nowMs - mtime < this.claimTtlMs) continue;
      const id = f.slice(0, -".json".length);
      try {
        renameSync(p, this.path("pending", id));
        recovered.push(id);
      } catch {
        // claimed or finished meanwhile
      }
    }
    return recovered;
  }

  /** Pending deliveries, oldest next attempt first. */
  pending(): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    for (const f of jsonFiles(this.dir)) {
      const e = readJson<SpoolEntry>(join(this.dir, f));
      if (e) out.push(e);
    }
    return out.sort((a, b) => Date.parse(a.next_attempt_at) - Date.parse(b.next_attempt_at));
  }

  /** Pending deliveries whose next attempt is due. */
  due(nowMs: number): SpoolEntry[] {
    return this.pending().filter((e) => Date.parse(e.next_attempt_at) <= nowMs);
  }

  deadLetters(): DeadEntry[] {
    return jsonFiles(this.sub("dead"))
      .map((f) => readJson<DeadEntry>(join(this.sub("dead"), f)))
      .filter((e): e is DeadEntry => e !== undefined);
  }

  /** Drops delivered markers past their retention. */
  pruneDelivered(nowMs: number): number {
    let n = 0;
    for (const f of jsonFiles(this.sub("delivered"))) {
      const p = join(this.sub("delivered"), f);
      const m = readJson<DeliveredMarker>(p);
      if (m && nowMs - Date.parse(m.delivered_at) > this.deliveredRetentionMs) {
        rmQuiet(p);
        n++;
      }
    }
    return n;
  }
}

function touch(path: string, nowMs: number): void {
  const t = nowMs / 1000;
  utimesSync(path, t, t);
}
