// Cold start: time from spawning the server process to the answer to its first tools/list over stdio (initialize,
// initialized, tools/list, as a host sends them), for `gsmcp serve` against a bare MCP SDK server with one tool
// (bench/bare-server.mjs under plain `node`). Repetitions interleave the two, so load on a shared machine hits both
// alike. Also the peak RSS of each child (VmHWM from /proc/<pid>/status, read as soon as tools/list is answered).
// gsmcp is spawned as `node bin/gsmcp.js serve`, so the figure follows whatever launcher bin/gsmcp.js uses (tsx over
// the TypeScript sources, or the compiled dist/); the result's notes name it. Run alone: `npx tsx bench/coldstart.ts`.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { benchHome } from "./home.js";
import type { BenchResult } from "./types.js";

const AREA = "coldstart";
const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, "..");
const REPS = Number(process.env.BENCH_COLDSTART_REPS ?? 10);
/** gsmcp may be at most this many times slower to its first tools/list than the bare SDK server. */
const MAX_RATIO = 1.5;

interface Start {
  /** spawn → tools/list answered. */
  toolsListMs: number;
  /** spawn → initialize answered. */
  initializeMs: number;
  tools: number;
  /** Peak resident set of the child (kB), or NaN where /proc is not available. */
  hwmKb: number;
}

/**
 * Which code `node bin/gsmcp.js` runs right now: the compiled dist/, or the sources through tsx (a bin/gsmcp.js that
 * only knows tsx, or one that falls back to bin/gsmcp-dev.js because dist/ is missing or older than a file in src/).
 */
export function gsmcpLauncher(): string {
  const bin = readFileSync(join(ROOT, "bin", "gsmcp.js"), "utf8").replace(/^\s*\/\/.*$/gm, "");
  const usesTsx = /tsx|gsmcp-dev/.test(bin);
  if (!/dist\/cli\/main\.js/.test(bin)) return usesTsx ? "tsx over src/*.ts" : "unknown launcher";
  const dist = join(ROOT, "dist", "cli", "main.js");
  if (!existsSync(dist)) return "tsx over src/*.ts (no dist/)";
  const src = join(ROOT, "src");
  if (usesTsx && existsSync(src)) {
    const built = statSync(dist).mtimeMs;
    const stale = readdirSync(src, { recursive: true }).some(
      (f) => /\.(ts|mjs)$/.test(String(f)) && statSync(join(src, String(f))).mtimeMs > built,
    );
    if (stale) return "tsx over src/*.ts (dist/ older than src/)";
  }
  return "compiled dist/cli/main.js";
}

function peakRssKb(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Spawns `node <args>`, speaks MCP over its stdio until tools/list is answered, then ends it. */
export async function coldStart(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Start> {
  const t0 = performance.now();
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const waiting = new Map<number, (msg: { result?: unknown; error?: unknown }) => void>();
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let msg: { id?: number; result?: unknown; error?: unknown };
      try {
        msg = JSON.parse(line);
      } catch {
        continue; // not JSON-RPC (a stray log line); a host would ignore it too
      }
      if (typeof msg.id === "number") waiting.get(msg.id)?.(msg);
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) => reject(new Error(`${args.join(" ")}: ${why}; stderr: ${stderr.slice(-500)}`));
    child.once("error", (e) => fail(e.message));
    void exited.then(() => fail("exited before answering tools/list"));
    setTimeout(() => fail(`no tools/list answer within ${timeoutMs} ms`), timeoutMs).unref();
  });
  const send = (msg: Record<string, unknown>) => child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...msg })}\n`);
  const request = async (id: number, method: string, params: Record<string, unknown>) => {
    const answered = new Promise<{ result?: unknown; error?: unknown }>((resolve) => waiting.set(id, resolve));
    send({ id, method, params });
    const msg = await Promise.race([answered, failed]);
    if (msg.error) throw new Error(`${method}: ${JSON.stringify(msg.error)}`);
    return msg.result;
  };
  try {
    await request(1, "initialize", {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "gsmcp-bench", version: "0" },
    });
    const initializeMs = performance.now() - t0;
    send({ method: "notifications/initialized" });
    const list = (await request(2, "tools/list", {})) as { tools: unknown[] };
    const toolsListMs = performance.now() - t0;
    const hwmKb = child.pid ? peakRssKb(child.pid) : Number.NaN;
    return { toolsListMs, initializeMs, tools: list.tools.length, hwmKb };
  } finally {
    failed.catch(() => undefined);
    child.stdin.end();
    const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(killer);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function bench(): Promise<BenchResult[]> {
  const bh = await benchHome();
  const gsmcp = {
    args: [join(ROOT, "bin", "gsmcp.js"), "serve"],
    env: { GSMCP_HOME: bh.home, GSMCP_CST: await bh.token("bench-coldstart"), GSMCP_POLICY: bh.policyFile },
  };
  const bare = { args: [join(here, "bare-server.mjs")], env: {} };
  const launcherBefore = gsmcpLauncher();

  // One untimed start of each: the OS page cache (and tsx's transform cache) start warm, as on a host that has run
  // the server before.
  await coldStart(gsmcp.args, gsmcp.env);
  await coldStart(bare.args, bare.env);
  const g: Start[] = [];
  const b: Start[] = [];
  for (let i = 0; i < REPS; i++) {
    // Alternate which goes first, so neither always starts right after the other's exit.
    if (i % 2 === 0) {
      g.push(await coldStart(gsmcp.args, gsmcp.env));
      b.push(await coldStart(bare.args, bare.env));
    } else {
      b.push(await coldStart(bare.args, bare.env));
      g.push(await coldStart(gsmcp.args, gsmcp.env));
    }
  }
  const launcherAfter = gsmcpLauncher();
  const launcher =
    launcherBefore === launcherAfter ? launcherBefore : `${launcherBefore}, then ${launcherAfter} (changed mid-run)`;
  const gMs = median(g.map((s) => s.toolsListMs));
  const bMs = median(b.map((s) => s.toolsListMs));
  const ratio = gMs / bMs;
  const range = (xs: Start[]) =>
    `min ${Math.min(...xs.map((s) => s.toolsListMs)).toFixed(0)} / max ${Math.max(...xs.map((s) => s.toolsListMs)).toFixed(0)} ms`;
  const mb = (kb: number) => kb / 1024;
  const gRss = mb(median(g.map((s) => s.hwmKb)));
  const bRss = mb(median(b.map((s) => s.hwmKb)));
  return [
    {
      area: AREA,
      name: "gsmcp serve: spawn → tools/list answered (stdio)",
      headline: "cold start gsmcp serve → tools/list, p50",
      value: gMs,
      unit: "ms (p50)",
      p50Ms: gMs,
      notes: `launcher: node bin/gsmcp.js → ${launcher}; ${REPS} starts, ${range(g)}; initialize answered at p50 ${median(g.map((s) => s.initializeMs)).toFixed(0)} ms; ${g[0]!.tools} tools listed`,
    },
    {
      area: AREA,
      name: "bare MCP SDK server (1 tool): spawn → tools/list answered",
      headline: "cold start bare SDK server → tools/list, p50",
      value: bMs,
      unit: "ms (p50)",
      p50Ms: bMs,
      notes: `node bench/bare-server.mjs; ${REPS} starts interleaved with gsmcp's, ${range(b)}`,
    },
    {
      area: AREA,
      name: "cold start gsmcp / bare (p50)",
      headline: `cold start gsmcp / bare (${launcher})`,
      value: ratio,
      unit: "×",
      target: `≤ ${MAX_RATIO}×`,
      holds: ratio <= MAX_RATIO,
      notes: `launcher ${launcher}; gsmcp adds ${(gMs - bMs).toFixed(0)} ms`,
    },
    {
      area: AREA,
      name: "peak RSS at first tools/list: gsmcp serve",
      headline: "peak RSS gsmcp serve (VmHWM)",
      value: gRss,
      unit: "MB (VmHWM, p50)",
      notes: `launcher ${launcher}; ${(gRss / bRss).toFixed(1)}× the bare server`,
    },
    {
      area: AREA,
      name: "peak RSS at first tools/list: bare MCP SDK server",
      headline: "peak RSS bare SDK server (VmHWM)",
      value: bRss,
      unit: "MB (VmHWM, p50)",
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await bench()) console.log(JSON.stringify(r));
}
