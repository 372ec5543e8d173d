// Governed calls over Streamable HTTP against a bare MCP SDK Streamable HTTP server, in the same run.
//
// Each server is its own process, started the way an operator starts it: the governed one is `gsmcp serve --transport
// http` (bin/gsmcp-dev.js, i.e. the current sources), the baseline is bench/bare-http-server.mjs (plain `node`, the
// MCP SDK's McpServer with one tool over StreamableHTTPServerTransport, no authentication or governance). The clients
// are MCP SDK clients (StreamableHTTPClientTransport) in this process.
//
// 1. One client, sequential calls: governance_whoami (the whole pipeline, no backend: token, admit, decide, receipt,
//    events) against the bare server's one tool — p50/p99, calls/s and the p50 ratio; measured in alternating rounds
//    so drift on a busy machine hits every side alike. The bare server runs twice: with the SDK's default SSE
//    responses, and with JSON responses (what the governed server answers a plain request/response call with).
// 2. 16 concurrent clients (one job and token each) for GSMCP_BENCH_HTTP_SECONDS (default 60) against the governed
//    server, then the bare one: calls/s, p50/p99, errors, and each server's RSS sampled every second.
//
// The governed server runs with its HTTP rate limits raised out of reach (flags below): this measures the transport
// and the pipeline, not the limiter refusing calls (every measured call must come back as a result; refusals and
// errors are counted and reported). Environment:
//   GSMCP_BENCH_HTTP_SECONDS   duration of the concurrent run per server (default 60)
//   GSMCP_BENCH_HTTP_CALLS     sequential calls per side (default 3000)
//   GSMCP_BENCH_HTTP_CLIENTS   concurrent clients (default 16)
//   GSMCP_BENCH_HTTP_CPU_PROF  a folder: the governed server runs with node --cpu-prof into it
//   GSMCP_BENCH_HTTP_CLI       another CLI entry for the governed server (e.g. an older checkout's bin/gsmcp-dev.js)
//   GSMCP_BENCH_HTTP_SERVER_ARGS  replaces the limit flags given to `gsmcp serve` (space-separated)
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { benchHome } from "./home.js";
import type { BenchResult } from "./types.js";

const AREA = "http";
const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, "..");
const RATIO_TARGET = 1.5;
const SECONDS = Number(process.env.GSMCP_BENCH_HTTP_SECONDS ?? 60);
const CALLS = Number(process.env.GSMCP_BENCH_HTTP_CALLS ?? 3000);
const CLIENTS = Number(process.env.GSMCP_BENCH_HTTP_CLIENTS ?? 16);
/** Limits out of reach for the bench (the limiter still runs on every request). */
const LIMIT_FLAGS = ["--rate", "1000000", "--burst", "1000000", "--job-rate", "1000000", "--job-burst", "1000000"];

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN;
}

interface Proc {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a server process and waits for its "listening on <url>" line. */
async function startProcess(args: string[], env: Record<string, string>): Promise<Proc> {
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`bench: server did not start: ${stderr}`)), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bench: server exited (${code}): ${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      // A graceful exit writes the --cpu-prof profile; give it time, then insist.
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resident set size of a process in MB (Linux /proc; NaN elsewhere). */
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used, in ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // Fields 14 and 15 (utime, stime) in clock ticks; after "pid (comm) " they are at index 11 and 12.
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function connect(url: string, token?: string): Promise<Client> {
  const c = new Client({ name: "bench-http", version: "1" });
  await c.connect(
    new StreamableHTTPClientTransport(
      new URL(url),
      token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {},
    ),
  );
  return c;
}

interface Side {
  label: string;
  call: () => Promise<unknown>;
  /** The server process, for its CPU time per call. */
  pid: number;
  cpu: number;
  lat: number[];
  ms: number;
  errors: number;
  firstError: string;
}

function record(side: Pick<Side, "errors" | "firstError">, r: unknown, thrown?: unknown): void {
  const a = r as { isError?: boolean; content?: { text?: string }[] } | undefined;
  if (thrown === undefined && !a?.isError) return;
  side.errors++;
  side.firstError ||=
    thrown !== undefined ? String((thrown as Error)?.message ?? thrown) : (a?.content?.[0]?.text ?? "").slice(0, 160);
}

/** Sequential calls on every side in alternating rounds (each round opened by a different side). */
async function interleaved(sides: Side[], n: number, rounds = 6): Promise<void> {
  for (let i = 0; i < 200; i++) for (const s of sides) await s.call();
  for (let r = 0; r < rounds; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    for (const s of order) {
      const c0 = cpuMs(s.pid);
      const t0 = performance.now();
      for (let i = 0; i < n / rounds; i++) {
        const t = performance.now();
        try {
          record(s, await s.call());
        } catch (e) {
          record(s, undefined, e ?? "error");
        }
        s.lat.push(performance.now() - t);
      }
      s.ms += performance.now() - t0;
      s.cpu += cpuMs(s.pid) - c0;
    }
  }
  for (const s of sides) s.lat.sort((a, b) => a - b);
}

interface LoadResult {
  calls: number;
  perSec: number;
  p50: number;
  p99: number;
  /** Server CPU ms per call, and the share of one core the server used. */
  cpuPerCall: number;
  serverBusy: number;
  /** The share of one core the clients (this process) used. */
  clientBusy: number;
  errors: number;
  firstError: string;
  rss: { t: number; mb: number }[];
}

/** `clients` clients calling in a loop for `seconds`, with the server's RSS sampled every second. */
async function load(clients: Client[], tool: string, seconds: number, pid: number): Promise<LoadResult> {
  const lat: number[] = [];
  const errs = { errors: 0, firstError: "" };
  const rss = [{ t: 0, mb: rssMb(pid) }];
  const c0 = cpuMs(pid);
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const sampler = setInterval(() => rss.push({ t: (performance.now() - t0) / 1000, mb: rssMb(pid) }), 1000);
  const until = t0 + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          record(errs, await c.callTool({ name: tool, arguments: {} }));
        } catch (e) {
          record(errs, undefined, e ?? "error");
        }
        lat.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpu = cpuMs(pid) - c0;
  const u = process.cpuUsage(u0);
  clearInterval(sampler);
  rss.push({ t: ms / 1000, mb: rssMb(pid) });
  lat.sort((a, b) => a - b);
  return {
    calls: lat.length,
    perSec: (lat.length / ms) * 1000,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    cpuPerCall: cpu / lat.length,
    serverBusy: cpu / ms,
    clientBusy: (u.user + u.system) / 1000 / ms,
    ...errs,
    rss,
  };
}

function rssSummary(rss: { t: number; mb: number }[]): { max: number; text: string } {
  const ok = rss.filter((s) => Number.isFinite(s.mb));
  if (!ok.length) return { max: Number.NaN, text: "RSS not available on this platform" };
  const max = Math.max(...ok.map((s) => s.mb));
  const step = Math.max(1, Math.floor(ok.length / 6));
  const series = ok.filter((_, i) => i % step === 0 || i === ok.length - 1);
  return {
    max,
    text: `RSS MB over time: ${series.map((s) => `${Math.round(s.t)}s ${s.mb.toFixed(0)}`).join(", ")}`,
  };
}

export async function bench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const bh = await benchHome();
  const prof = process.env.GSMCP_BENCH_HTTP_CPU_PROF;
  const cli = process.env.GSMCP_BENCH_HTTP_CLI ?? join(REPO, "bin", "gsmcp-dev.js");
  const limitFlags =
    process.env.GSMCP_BENCH_HTTP_SERVER_ARGS !== undefined
      ? process.env.GSMCP_BENCH_HTTP_SERVER_ARGS.split(" ").filter(Boolean)
      : LIMIT_FLAGS;
  const governed = await startProcess(
    [
      ...(prof ? ["--cpu-prof", "--cpu-prof-dir", prof] : []),
      cli,
      "serve",
      "--transport",
      "http",
      "--port",
      "0",
      ...limitFlags,
    ],
    { GSMCP_HOME: bh.home, GSMCP_POLICY: bh.policyFile },
  );
  const bareSse = await startProcess([join(here, "bare-http-server.mjs")], {});
  const bareJson = await startProcess([join(here, "bare-http-server.mjs")], { BARE_JSON_RESPONSE: "1" });
  try {
    // 1. One client each, sequential.
    const g = await connect(governed.url, await bh.token("bench-http-seq"));
    const bs = await connect(bareSse.url);
    const bj = await connect(bareJson.url);
    const side = (label: string, pid: number, call: () => Promise<unknown>): Side => ({
      label,
      call,
      pid,
      cpu: 0,
      lat: [],
      ms: 0,
      errors: 0,
      firstError: "",
    });
    const sides = [
      side("governed", governed.pid, () => g.callTool({ name: "governance_whoami", arguments: {} })),
      side("bare SSE", bareSse.pid, () => bs.callTool({ name: "whoami", arguments: {} })),
      side("bare JSON", bareJson.pid, () => bj.callTool({ name: "whoami", arguments: {} })),
      // MCP ping: the transport alone (authentication, limits, session; no tool call, no governance).
      side("governed ping", governed.pid, () => g.ping()),
      side("bare JSON ping", bareJson.pid, () => bj.ping()),
    ];
    await interleaved(sides, CALLS);
    await Promise.all([g.close(), bs.close(), bj.close()]);
    const [gv, sv, jv, gp, jp] = sides as [Side, Side, Side, Side, Side];
    const stat = (s: Side) => ({ p50: pct(s.lat, 50), p99: pct(s.lat, 99), perSec: (s.lat.length / s.ms) * 1000 });
    const note = (s: Side) =>
      `server CPU ${(s.cpu / s.lat.length).toFixed(3)} ms/call; ${
        s.errors === 0
          ? `all ${s.lat.length} measured calls answered`
          : `⚠ ${s.errors} of ${s.lat.length} calls refused/failed (first: ${s.firstError})`
      }`;
    const G = stat(gv);
    const S = stat(sv);
    const J = stat(jv);
    out.push({
      area: AREA,
      name: "governance_whoami over HTTP, governed, 1 client",
      value: G.perSec,
      unit: "calls/s",
      p50Ms: G.p50,
      p99Ms: G.p99,
      notes: note(gv),
    });
    out.push({
      area: AREA,
      name: "one tool over HTTP, bare SDK server (SSE responses), 1 client",
      value: S.perSec,
      unit: "calls/s",
      p50Ms: S.p50,
      p99Ms: S.p99,
      notes: note(sv),
    });
    out.push({
      area: AREA,
      name: "one tool over HTTP, bare SDK server (JSON responses), 1 client",
      value: J.perSec,
      unit: "calls/s",
      p50Ms: J.p50,
      p99Ms: J.p99,
      notes: note(jv),
    });
    const P = stat(gp);
    const JP = stat(jp);
    out.push({
      area: AREA,
      name: "MCP ping over HTTP (transport only): governed vs bare (JSON)",
      value: P.p50 / JP.p50,
      unit: "ratio",
      p50Ms: P.p50,
      p99Ms: P.p99,
      notes: `p50 ${P.p50.toFixed(3)} vs ${JP.p50.toFixed(3)} ms; server CPU ${(gp.cpu / gp.lat.length).toFixed(3)} vs ${(jp.cpu / jp.lat.length).toFixed(3)} ms/call`,
    });
    const fair = gv.errors === 0 && sv.errors === 0;
    out.push({
      area: AREA,
      name: "HTTP governed/bare p50 latency (whoami vs bare SDK server, SSE)",
      headline: "HTTP: governance_whoami p50 vs bare SDK Streamable HTTP server",
      value: G.p50 / S.p50,
      unit: "ratio",
      target: `≤ ${RATIO_TARGET}×`,
      holds: G.p50 / S.p50 <= RATIO_TARGET && fair,
      notes: `${G.p50.toFixed(3)} vs ${S.p50.toFixed(3)} ms p50; throughput ${Math.round(G.perSec)} vs ${Math.round(S.perSec)} calls/s (${(S.perSec / G.perSec).toFixed(2)}×); vs the bare server with JSON responses ${(G.p50 / J.p50).toFixed(2)}× p50`,
    });

    // 2. Concurrent clients, one job and token each.
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => connect(governed.url, await bh.token(`bench-http-c${i}`))),
    );
    const lg = await load(clients, "governance_whoami", SECONDS, governed.pid);
    await Promise.all(clients.map((c) => c.close()));
    const bareClients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(bareSse.url)));
    const lb = await load(bareClients, "whoami", SECONDS, bareSse.pid);
    await Promise.all(bareClients.map((c) => c.close()));
    const rg = rssSummary(lg.rss);
    const rb = rssSummary(lb.rss);
    out.push({
      area: AREA,
      name: `governance_whoami over HTTP, governed, ${CLIENTS} clients × ${SECONDS} s`,
      headline: `HTTP: governed throughput, ${CLIENTS} concurrent clients`,
      value: lg.perSec,
      unit: "calls/s",
      p50Ms: lg.p50,
      p99Ms: lg.p99,
      notes: `${lg.calls} calls, ${lg.errors} errors${lg.firstError ? ` (first: ${lg.firstError})` : ""}; server CPU ${lg.cpuPerCall.toFixed(3)} ms/call, ${(lg.serverBusy * 100).toFixed(0)}% of a core (clients ${(lg.clientBusy * 100).toFixed(0)}%); server ${rg.text}`,
    });
    out.push({
      area: AREA,
      name: `one tool over HTTP, bare SDK server (SSE), ${CLIENTS} clients × ${SECONDS} s`,
      value: lb.perSec,
      unit: "calls/s",
      p50Ms: lb.p50,
      p99Ms: lb.p99,
      notes: `${lb.calls} calls, ${lb.errors} errors; server CPU ${lb.cpuPerCall.toFixed(3)} ms/call, ${(lb.serverBusy * 100).toFixed(0)}% of a core (clients ${(lb.clientBusy * 100).toFixed(0)}%); server ${rb.text}`,
    });
    out.push({
      area: AREA,
      name: `governed server RSS, max over the ${SECONDS} s concurrent run`,
      headline: "HTTP: governed server RSS (max, concurrent run)",
      value: rg.max,
      unit: "MB",
      notes: `start ${lg.rss[0]!.mb.toFixed(0)} MB, end ${lg.rss.at(-1)!.mb.toFixed(0)} MB; bare server max ${rb.max.toFixed(0)} MB`,
    });
  } finally {
    await Promise.all([governed.stop(), bareSse.stop(), bareJson.stop()]);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
