import { createHash, type KeyObject, randomUUID } from "node:crypto";
import { appendFileSync, chmodSync, closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { jcs } from "../crypto/jcs.js";
import { type SigningKey, signBytes, verifyBytes } from "../crypto/keys.js";
import { describeWindow, inWindow, keyWindowError, windowOf } from "../governance/trust.js";
import type { ReceiptRows } from "../state/contract.js";
import { pages } from "../state/pages.js";
import type { AgentSecurityEvent, TelemetrySink } from "../telemetry/sink.js";
import { leafHash, MerkleFrontier } from "./merkle.js";
import type { Receipt } from "./receipt.js";

// Checkpoints: signed tree heads over the WHOLE receipt log in the C2SP signed-note checkpoint format
// (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note), so a standard witness can read and co-sign them:
//
//   <origin>\n<tree size>\n<base64 root hash>\n[extension lines\n]\n— <key name> <base64(key hash[4] || signature)>\n
//
// The signature (Ed25519, signed-note type 0x01) covers the text up to and including the newline before the blank line.

export const CHECKPOINTS_FILE = "checkpoints.log";
const SIG_PREFIX = "\u2014 ";

/** The Merkle leaf of a receipt in the whole-log tree (the same leaf a proof bundle's job tree uses). */
export function logLeaf(r: Receipt): Buffer {
  return leafHash(jcs(r));
}

/** A key name as signed notes allow it: no whitespace, no "+". */
export function noteName(s: string): string {
  return s.replace(/[\s+]/g, "_");
}

export function checkpointOrigin(serverId: string): string {
  return noteName(`gsmcp/${serverId}`);
}

function rawEd25519(pub: KeyObject): Buffer {
  const der = pub.export({ format: "der", type: "spki" });
  return der.subarray(der.length - 32);
}

/** signed-note key hash: the first 4 bytes of SHA-256(name || "\n" || 0x01 || Ed25519 public key). */
export function noteKeyHash(name: string, pub: KeyObject): Buffer {
  return createHash("sha256")
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([1]), rawEd25519(pub)]))
    .digest()
    .subarray(0, 4);
}

/** The verifier key string of the signed-note spec: <name>+<hex key hash>+<base64(0x01 || public key)>. */
export function noteVerifierKey(name: string, pub: KeyObject): string {
  return `${name}+${noteKeyHash(name, pub).toString("hex")}+${Buffer.concat([Buffer.from([1]), rawEd25519(pub)]).toString("base64")}`;
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  extensions: string[];
  /** The signed text: every line of the body, each ending in "\n". */
  body: string;
  signatures: { name: string; keyHash: Buffer; sig: Buffer; line: string }[];
  /** The note as written (body, blank line, signature lines). */
  text: string;
}

export function checkpointBody(origin: string, size: number, root: Buffer, extensions: string[] = []): string {
  return [origin, String(size), root.toString("base64"), ...extensions].map((l) => `${l}\n`).join("");
}

export function signatureLine(body: string, name: string, key: SigningKey): string {
  const sig = Buffer.from(signBytes(key, body), "base64");
  return `${SIG_PREFIX}${name} ${Buffer.concat([noteKeyHash(name, key.publicKey), sig]).toString("base64")}\n`;
}

export function signCheckpoint(
  o: { origin: string; size: number; root: Buffer; time?: Date; keyName?: string },
  key: SigningKey,
): string {
  // A key with a validity window (see loadSigningKey) does not sign a checkpoint dated outside it.
  const w = windowOf(key);
  if (w && !inWindow(w, o.time ?? new Date()))
    throw keyWindowError("receipt_signers", key.keyid, w, o.time ?? new Date());
  const body = checkpointBody(o.origin, o.size, o.root, o.time ? [`time ${o.time.toISOString()}`] : []);
  return `${body}\n${signatureLine(body, o.keyName ?? o.origin, key)}`;
}

export class CheckpointFormatError extends Error {}

/** Parses one signed note holding a checkpoint. */
export function parseCheckpoint(text: string): Checkpoint {
  const at = text.indexOf("\n\n");
  if (at < 0) throw new CheckpointFormatError("no blank line between the checkpoint and its signatures");
  const body = text.slice(0, at + 1);
  const lines = body.slice(0, -1).split("\n");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (!origin || !sizeLine || !rootLine)
    throw new CheckpointFormatError("a checkpoint needs origin, size and root lines");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine)))
    throw new CheckpointFormatError(`tree size "${sizeLine}" is not a decimal integer`);
  const root = Buffer.from(rootLine, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootLine)
    throw new CheckpointFormatError(`root hash "${rootLine}" is not base64 of 32 bytes`);
  if (extensions.some((e) => e === "")) throw new CheckpointFormatError("empty extension line");
  const sigText = text.slice(at + 2);
  const signatures: Checkpoint["signatures"] = [];
  for (const line of sigText.split("\n")) {
    if (line === "") continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new CheckpointFormatError(`malformed signature line "${line}"`);
    const raw = Buffer.from(m[2]!, "base64");
    if (raw.length < 5) throw new CheckpointFormatError(`signature of ${m[1]} is too short`);
    signatures.push({ name: m[1]!, keyHash: raw.subarray(0, 4), sig: raw.subarray(4), line: `${line}\n` });
  }
  if (!signatures.length) throw new CheckpointFormatError("checkpoint has no signature");
  return { origin, size: Number(sizeLine), root, extensions, body, signatures, text };
}

/** Names of the signatures that verify against a key of `keys` (matched by key hash for the signature's name). */
export function verifiedSigners(cp: Checkpoint, keys: Iterable<KeyObject>): string[] {
  return verifiedSignerKeys(cp, keys).map((s) => s.name);
}

/** The signatures that verify against a key of `keys`, with the key each verified with. */
export function verifiedSignerKeys(cp: Checkpoint, keys: Iterable<KeyObject>): { name: string; key: KeyObject }[] {
  const list = [...keys];
  const ok: { name: string; key: KeyObject }[] = [];
  for (const s of cp.signatures) {
    for (const k of list) {
      if (!noteKeyHash(s.name, k).equals(s.keyHash)) continue;
      if (verifyBytes(k, cp.body, s.sig.toString("base64"))) {
        ok.push({ name: s.name, key: k });
        break;
      }
    }
  }
  return ok;
}

/** The checkpoint's "time ISO" extension line (signed), if any. */
export function checkpointTime(cp: Checkpoint): string | undefined {
  const line = cp.extensions.find((e) => e.startsWith("time "));
  return line?.slice(5);
}

/**
 * Checks the validity windows of the keys whose signatures verified (`verifiedSignerKeys` with the log's keys): the
 * checkpoint is accepted when at least one of them was valid at the checkpoint's signed time. A checkpoint without a
 * time line is accepted only when none of those keys has a window. Returns the problem, or undefined.
 */
export function checkpointWindowProblem(
  cp: Checkpoint,
  signers: { name: string; key: KeyObject }[],
): string | undefined {
  const time = checkpointTime(cp);
  const outside: string[] = [];
  for (const s of signers) {
    const w = windowOf(s.key);
    if (!w) return undefined;
    if (time !== undefined && inWindow(w, time)) return undefined;
    outside.push(`${s.name} (valid ${describeWindow(w)})`);
  }
  if (!outside.length) return undefined;
  return time === undefined
    ? `checkpoint of size ${cp.size} carries no time line, and its signing key has a validity window: ${outside.join(", ")}`
    : `checkpoint of size ${cp.size} is dated ${time}, outside the validity window of its signing key: ${outside.join(", ")}`;
}

/** Splits a checkpoints file (notes one after another, each followed by a blank line) into notes. */
export function parseCheckpointsFile(text: string): {
  checkpoints: Checkpoint[];
  errors: { index: number; message: string }[];
} {
  const checkpoints: Checkpoint[] = [];
  const errors: { index: number; message: string }[] = [];
  const notes: string[] = [];
  let cur: string[] = [];
  let inSigs = false;
  const flush = () => {
    if (cur.length) notes.push(`${cur.join("\n")}\n`);
    cur = [];
    inSigs = false;
  };
  for (const line of text.split("\n")) {
    if (line === "") {
      if (!inSigs && cur.length) {
        cur.push("");
        inSigs = true;
      } else flush();
      continue;
    }
    if (inSigs && !line.startsWith(SIG_PREFIX)) flush();
    cur.push(line);
  }
  flush();
  notes.forEach((n, index) => {
    try {
      checkpoints.push(parseCheckpoint(n));
    } catch (e) {
      errors.push({ index, message: (e as Error).message });
    }
  });
  return { checkpoints, errors };
}

export function readCheckpointsFile(file: string): ReturnType<typeof parseCheckpointsFile> {
  return parseCheckpointsFile(readFileSync(file, "utf8"));
}

/** Appends a note (and a blank line after it) to a checkpoints file, creating it owner-only. */
export function appendCheckpoint(file: string, note: string): void {
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
  appendFileSync(file, `${note}\n`);
}

export interface CheckpointerOptions {
  /** The stored log (any process's receipts), read when the frontier is behind. */
  log: Pick<ReceiptRows, "range">;
  key: SigningKey;
  serverId: string;
  /** Witness 1: the append-only file. */
  file: string;
  /** Witness 2: the telemetry sinks (a `Checkpoint` AgentSecurityEvent). */
  telemetry?: TelemetrySink;
  tenantId?: string;
  /** A checkpoint every this many receipts (default 64; 0: never by count). */
  every?: number;
  /** A checkpoint every this many milliseconds when the log grew (default 10 000; 0: never by time). */
  intervalMs?: number;
  now?: () => Date;
}

/**
 * Keeps the Merkle frontier of the whole receipt log (computed once from the stored leaves, then updated per
 * appended receipt) and signs a checkpoint every N receipts, every T seconds and at close, outside the receipt's
 * transaction. Receipts another process appended (another replica on the same store) are read in when next seen.
 * Work is queued: one step at a time, in the order receipts were committed by this process.
 */
export class Checkpointer {
  private frontier: MerkleFrontier | undefined;
  private lastSize = -1;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly every: number;
  private queue: Promise<unknown> = Promise.resolve();
  readonly origin: string;

  constructor(private readonly o: CheckpointerOptions) {
    this.origin = checkpointOrigin(o.serverId);
    this.every = o.every ?? 64;
    const ms = o.intervalMs ?? 10_000;
    if (ms > 0) {
      this.timer = setInterval(() => void this.enqueue(() => this.tick()), ms);
      this.timer.unref();
    }
  }

  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch((e) => process.stderr.write(`gsmcp: checkpoint failed: ${(e as Error).message}\n`));
    return next;
  }

  private async load(): Promise<MerkleFrontier> {
    if (!this.frontier) {
      this.frontier = new MerkleFrontier();
      await this.catchUp(Number.MAX_SAFE_INTEGER);
      if (this.lastSize < 0) this.lastSize = this.lastWrittenSize();
    }
    return this.frontier;
  }

  private lastWrittenSize(): number {
    if (!existsSync(this.o.file)) return 0;
    try {
      const { checkpoints } = readCheckpointsFile(this.o.file);
      return checkpoints.filter((c) => c.origin === this.origin).reduce((m, c) => Math.max(m, c.size), 0);
    } catch {
      return 0;
    }
  }

  /** Reads stored receipts after the frontier's size and before `beforeSeq` into the frontier. */
  private async catchUp(beforeSeq: number): Promise<void> {
    const f = this.frontier!;
    for await (const row of pages((after, n) => this.o.log.range(after, n), f.size)) {
      if (row.seq >= beforeSeq || row.seq !== f.size + 1) return;
      f.append(logLeaf(JSON.parse(row.body) as Receipt));
    }
  }

  /** Called after a receipt's transaction committed. */
  appended(r: Receipt): void {
    void this.enqueue(() => this.onAppended(r));
  }

  /**
   * One committed receipt: the frontier advances to it (reading in what other processes appended before it), so a
   * checkpoint by count lands every N receipts even when the queue runs behind the appends.
   */
  private async onAppended(r: Receipt): Promise<void> {
    if (!this.frontier) {
      this.frontier = new MerkleFrontier();
      if (this.lastSize < 0) this.lastSize = this.lastWrittenSize();
    }
    const f = this.frontier;
    if (f.size >= r.seq) return this.maybeByCount(); // read in by a catch-up already
    if (r.seq !== f.size + 1) await this.catchUp(r.seq);
    if (r.seq !== f.size + 1) {
      // Not contiguous with what the frontier holds (the log was changed under us): start over from the store.
      this.frontier = undefined;
      await this.load();
    } else f.append(logLeaf(r));
    return this.maybeByCount();
  }

  private async maybeByCount(): Promise<void> {
    const f = this.frontier!;
    if (this.every > 0 && f.size - Math.max(this.lastSize, 0) >= this.every) await this.sign(false);
  }

  private async tick(): Promise<void> {
    if (this.frontier && this.frontier.size > this.lastSize) await this.sign();
  }

  /** Signs and publishes a checkpoint of the log as it stands (after the work queued before it). */
  checkpoint(): Promise<{ note: string; size: number; root: string } | undefined> {
    return this.enqueue(() => this.sign());
  }

  /** The checkpoint at shutdown (when the log grew since the last one); stops the timer. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    try {
      // Only a runtime that appended (and so holds the frontier) signs at close: a read-only command never re-reads the log.
      await this.enqueue(async () => {
        if (this.frontier) await this.sign();
      });
    } catch (e) {
      process.stderr.write(`gsmcp: checkpoint at close failed: ${(e as Error).message}\n`);
    }
  }

  /** Signs and publishes a checkpoint of the log as it stands (the file, then telemetry). Returns the note. */
  private async sign(catchUp = true): Promise<{ note: string; size: number; root: string } | undefined> {
    const f = await this.load();
    if (catchUp) await this.catchUp(Number.MAX_SAFE_INTEGER);
    if (f.size === 0 || f.size === this.lastSize) return undefined;
    const root = f.root();
    const now = (this.o.now ?? (() => new Date()))();
    const note = signCheckpoint({ origin: this.origin, size: f.size, root, time: now }, this.o.key);
    appendCheckpoint(this.o.file, note);
    this.lastSize = f.size;
    const rootHash = `sha256:${root.toString("hex")}`;
    if (this.o.telemetry) {
      const event: AgentSecurityEvent = {
        TimeGenerated: now.toISOString(),
        EventId: randomUUID(),
        AgentId: "-",
        TenantId: this.o.tenantId ?? "local",
        EventType: "Checkpoint",
        Action: "receipts.checkpoint",
        PolicyDecision: "LOG",
        ToolName: "-",
        ToolParameters: { checkpoint: note, origin: this.origin, tree_size: f.size, root_hash: rootHash },
        ToolResult: "ok",
        ErrorCode: 0,
        Severity: 1,
        SourceSystem: "governed-sentinel-mcp",
      };
      try {
        this.o.telemetry.emit(event);
      } catch (e) {
        process.stderr.write(`gsmcp: the Checkpoint event was not accepted: ${(e as Error).message}\n`);
      }
    }
    return { note, size: f.size, root: rootHash };
  }
}
