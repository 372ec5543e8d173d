import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AgentSecurityEvent, TelemetrySink } from "./sink.js";

export interface JsonlSinkOptions {
  dir: string;
  /** Rotate the current file when it grows past this many bytes. */
  maxBytes?: number;
}

/**
 * Appends one JSON line per event to `<dir>/events.jsonl`, synchronously so an accepted event is on disk
 * before the call returns; rotates to events-<timestamp>.jsonl past maxBytes.
 */
export class JsonlSink implements TelemetrySink {
  private readonly file: string;
  private readonly maxBytes: number;
  private size: number;

  constructor(opts: JsonlSinkOptions) {
    if (!existsSync(opts.dir)) mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.file = join(opts.dir, "events.jsonl");
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.size = existsSync(this.file) ? statSync(this.file).size : 0;
  }

  emit(event: AgentSecurityEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
    appendFileSync(this.file, line, { mode: 0o600 });
    this.size += Buffer.byteLength(line);
  }

  private rotate(): void {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    renameSync(this.file, this.file.replace(/\.jsonl$/, `-${stamp}.jsonl`));
    this.size = 0;
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
