import {
  closeSync,
  existsSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { AgentSecurityEvent, TelemetrySink } from "./sink.js";

export interface JsonlSinkOptions {
  dir: string;
  /** Rotate the current file when it grows past this many bytes. */
  maxBytes?: number;
}

/** Opens for append, owner-only (0600): also a file that existed with a wider mode (events are security evidence). */
function openAppend(file: string): number {
  const fd = openSync(file, "a", 0o600);
  const st = fstatSync(fd);
  if (st.isFile() && (st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  return fd;
}

/**
 * Appends one JSON line per event to `<dir>/events.jsonl`, synchronously so an accepted event is on disk
 * before the call returns; rotates to events-<timestamp>.jsonl past maxBytes.
 */
export class JsonlSink implements TelemetrySink {
  private readonly file: string;
  private readonly maxBytes: number;
  private size: number;
  private fd: number;

  constructor(opts: JsonlSinkOptions) {
    if (!existsSync(opts.dir)) mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.file = join(opts.dir, "events.jsonl");
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.size = existsSync(this.file) ? statSync(this.file).size : 0;
    this.fd = openAppend(this.file);
  }

  /** One write(2) per event on an O_APPEND descriptor: the line is in the file before emit returns. */
  emit(event: AgentSecurityEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
    writeSync(this.fd, line);
    this.size += Buffer.byteLength(line);
  }

  private rotate(): void {
    closeSync(this.fd);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    renameSync(this.file, this.file.replace(/\.jsonl$/, `-${stamp}.jsonl`));
    this.fd = openAppend(this.file);
    this.size = 0;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
