import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { AgentSecurityEvent, TelemetrySink } from "./sink.js";

export interface IngestionSinkOptions {
  /** Sends one batch to the Logs Ingestion API (the SDK client retries 429/5xx with Retry-After itself). */
  upload: (events: AgentSecurityEvent[]) => Promise<void>;
  /** Where batches go while the endpoint is down; replayed on start and after each successful send. */
  spillDir: string;
  flushIntervalMs?: number;
  batchSize?: number;
  /** Events held in memory before they are spilled to disk. */
  maxBuffered?: number;
  /** Disk budget for spilled events; beyond it events are dropped (or refused, with failClosed). */
  maxSpillBytes?: number;
  /** Beyond the spill budget, emit throws instead of dropping: the pipeline then refuses calls. */
  failClosed?: boolean;
}

export interface IngestionCounters {
  sent: number;
  spilled: number;
  replayed: number;
  dropped: number;
  buffered: number;
}

/**
 * AgentSecurityEvents to Log Analytics through the Logs Ingestion API: batched every flushIntervalMs (default 15 s) or
 * batchSize events; a failed batch is spilled to disk as JSONL and replayed later, so an outage within the spill budget
 * loses nothing, and memory stays bounded by maxBuffered.
 */
export class IngestionSink implements TelemetrySink {
  private buffer: AgentSecurityEvent[] = [];
  private readonly counters: IngestionCounters = { sent: 0, spilled: 0, replayed: 0, dropped: 0, buffered: 0 };
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  private readonly o: Required<Omit<IngestionSinkOptions, "upload">> & Pick<IngestionSinkOptions, "upload">;

  constructor(opts: IngestionSinkOptions) {
    this.o = {
      flushIntervalMs: 15_000,
      batchSize: 500,
      maxBuffered: 10_000,
      maxSpillBytes: 64 * 1024 * 1024,
      failClosed: false,
      ...opts,
    };
    if (!existsSync(this.o.spillDir)) mkdirSync(this.o.spillDir, { recursive: true, mode: 0o700 });
    this.timer = setInterval(() => void this.flush(), this.o.flushIntervalMs);
    this.timer.unref();
  }

  stats(): IngestionCounters {
    return { ...this.counters, buffered: this.buffer.length };
  }

  emit(event: AgentSecurityEvent): void {
    if (this.buffer.length >= this.o.maxBuffered) this.spill(this.buffer.splice(0));
    this.buffer.push(event);
    if (this.buffer.length >= this.o.batchSize) void this.flush();
  }

  private spillBytes(): number {
    return readdirSync(this.o.spillDir).reduce((n, f) => n + statSync(join(this.o.spillDir, f)).size, 0);
  }

  private spill(events: AgentSecurityEvent[]): void {
    if (!events.length) return;
    const text = `${events.map((e) => JSON.stringify(e)).join("\n")}\n`;
    if (this.spillBytes() + text.length > this.o.maxSpillBytes) {
      this.counters.dropped += events.length;
      if (this.o.failClosed)
        throw new Error(
          `telemetry spill budget (${this.o.maxSpillBytes} bytes) exhausted; ${events.length} events not recorded`,
        );
      return;
    }
    appendFileSync(join(this.o.spillDir, `spill-${Date.now()}-${process.pid}.jsonl`), text, { mode: 0o600 });
    this.counters.spilled += events.length;
  }

  /** Sends what is buffered, then replays spilled files; failures go (back) to disk. */
  flush(): Promise<void> {
    this.inflight = this.inflight.then(async () => {
      const batch = this.buffer.splice(0);
      for (let i = 0; i < batch.length; i += this.o.batchSize) {
        const part = batch.slice(i, i + this.o.batchSize);
        try {
          await this.o.upload(part);
          this.counters.sent += part.length;
        } catch {
          this.spill([...part, ...batch.slice(i + this.o.batchSize)]);
          return;
        }
      }
      await this.replay();
    });
    return this.inflight;
  }

  private async replay(): Promise<void> {
    for (const f of readdirSync(this.o.spillDir)
      .filter((x) => x.endsWith(".jsonl"))
      .sort()) {
      const file = join(this.o.spillDir, f);
      const events = readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AgentSecurityEvent);
      try {
        for (let i = 0; i < events.length; i += this.o.batchSize)
          await this.o.upload(events.slice(i, i + this.o.batchSize));
      } catch {
        return; // still down: keep the file for the next flush
      }
      unlinkSync(file);
      this.counters.replayed += events.length;
      this.counters.spilled -= Math.min(this.counters.spilled, events.length);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

/** Sends every event to several sinks (e.g. the local JSONL file and Log Analytics). */
export class FanoutSink implements TelemetrySink {
  constructor(private readonly sinks: TelemetrySink[]) {}
  emit(event: AgentSecurityEvent): void {
    for (const s of this.sinks) s.emit(event);
  }
  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
