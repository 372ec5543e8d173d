import { Worker } from "node:worker_threads";
import { workerUrl } from "../worker-url.js";
import type { KqlAnalysis, KqlAnalysisOptions, KqlSchema } from "./analyzer.js";
import type { AnalysisReply, AnalysisRequest } from "./analyzer-worker-impl.js";

// Policy analysis off the event loop. The language service binds a long pipeline in time that grows faster than its
// length (~0.8 s for a 9,000-character one on the dev machine); on the main thread a job could keep every session
// waiting by sending such queries in a loop. One worker (the language service is ~200 MB) answers analyses in order;
// one that passes the deadline is terminated and the worker replaced.

export class AnalysisTimeout extends Error {
  override readonly name = "AnalysisTimeout";
}

/** How long a new worker may take to load the language service before its first analysis (not counted in it). */
const LOAD_TIMEOUT_MS = Number(process.env.GSMCP_KQL_LOAD_SECONDS ?? 120) * 1000;

interface Pending {
  id: number;
  query: string;
  options: KqlAnalysisOptions;
  resolve: (a: KqlAnalysis) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export class KqlAnalyzerWorker {
  private worker: Worker | undefined;
  private readonly queue: Pending[] = [];
  private running: Pending | undefined;
  private nextId = 1;
  private closed = false;
  /** The current worker has loaded the language service: an analysis' deadline runs from when it can start. */
  private ready = false;

  constructor(
    private readonly schema: KqlSchema,
    /** Deadline per analysis, from when the worker can start it (loading the language service is not counted). */
    private readonly timeoutMs = 10_000,
  ) {}

  /** Starts the worker and loads the language service ahead of the first query. */
  warm(): void {
    if (!this.closed) this.ensure();
  }

  analyze(query: string, options: KqlAnalysisOptions = {}): Promise<KqlAnalysis> {
    if (this.closed) return Promise.reject(new Error("the KQL analyzer is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, query, options, resolve, reject });
      this.next();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error("the KQL analyzer is closed"));
    this.running?.reject(new Error("the KQL analyzer is closed"));
    this.running = undefined;
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl("analyzer-worker", import.meta.url), {
      workerData: { kind: "gsmcp-kql-analyzer", schema: this.schema },
    });
    // Not `stdout: true`: a piped worker stdout keeps the process alive after unref (serve never exited). The worker
    // sends its own stdout to stderr instead, so nothing it prints reaches the MCP stdio stream.
    worker.unref();
    this.ready = false;
    worker.on("message", (reply: AnalysisReply | { ready: true }) => {
      if ("ready" in reply) {
        // Loaded: the running analysis starts now, so its deadline does too. On a busy machine the load alone can
        // take longer than a deadline, which used to refuse the first query after every start as too slow.
        this.ready = true;
        this.arm(worker);
        return;
      }
      const p = this.running;
      if (!p || p.id !== reply.id) return;
      clearTimeout(p.timer);
      this.running = undefined;
      if (reply.ok) p.resolve(reply.analysis);
      else p.reject(new Error(reply.message));
      this.next();
    });
    const gone = (err?: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const p = this.running;
      this.running = undefined;
      if (p) {
        clearTimeout(p.timer);
        p.reject(err ?? new Error("the KQL analyzer worker exited"));
      }
      this.next();
    };
    worker.on("error", gone);
    worker.on("exit", () => gone());
    this.worker = worker;
    return worker;
  }

  private next(): void {
    if (this.running || this.closed) return;
    const p = this.queue.shift();
    if (!p) return;
    this.running = p;
    const worker = this.ensure();
    this.arm(worker);
    worker.postMessage({ id: p.id, query: p.query, options: p.options } satisfies AnalysisRequest);
  }

  /** (Re)starts the running analysis' deadline: the analysis deadline once loaded, the load deadline before. */
  private arm(worker: Worker): void {
    const p = this.running;
    if (!p || this.worker !== worker) return;
    clearTimeout(p.timer);
    const loading = !this.ready;
    p.timer = setTimeout(
      () => {
        if (this.running !== p) return;
        this.running = undefined;
        this.worker = undefined;
        void worker.terminate();
        p.reject(
          new AnalysisTimeout(
            loading
              ? `the KQL language service did not load within ${LOAD_TIMEOUT_MS / 1000}s`
              : `policy analysis took longer than ${this.timeoutMs / 1000}s`,
          ),
        );
        this.next();
      },
      loading ? LOAD_TIMEOUT_MS : this.timeoutMs,
    );
    p.timer.unref();
  }
}
