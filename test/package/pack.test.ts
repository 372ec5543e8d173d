import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The published package, as a user gets it: `npm pack` → `npm install <tarball>` in an empty folder (no repo, no
// devDependencies: better-sqlite3 compiles from source, a few minutes) → `npx gsmcp ...` there. One install for the
// whole file. Slow, so it runs in CI (CI=true, unless GSMCP_PACK_TEST=0) or when asked (GSMCP_PACK_TEST=1).

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENABLED =
  process.env.GSMCP_PACK_TEST === "1" || (process.env.CI === "true" && process.env.GSMCP_PACK_TEST !== "0");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
const MB = 1024 * 1024;

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

/**
 * Sources whose compiled file in dist/ is missing or older. The tarball packs dist/ as it is: `npm pack` runs with
 * --ignore-scripts, since its prepare script would rebuild dist/ under the other test files that start the built CLI.
 * `npm test` builds first (pretest), `npm ci` too (prepare).
 */
function staleDist(): string[] {
  return files(join(ROOT, "src"))
    .filter((f) => (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.endsWith("signature-worker.mjs"))
    .filter((f) => {
      const out = join(ROOT, "dist", relative(join(ROOT, "src"), f)).replace(/\.ts$/, ".js");
      return !existsSync(out) || statSync(out).mtimeMs < statSync(f).mtimeMs;
    })
    .map((f) => relative(ROOT, f));
}

/** The environment of a user's shell: none of this run's GSMCP_* settings. */
function userEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith("GSMCP_")),
  );
  return { ...env, ...extra };
}

describe.skipIf(!ENABLED)(
  ENABLED
    ? "the npm package: npm pack → npm install <tarball> → npx gsmcp"
    : "the npm package (skipped: runs when CI=true or GSMCP_PACK_TEST=1; npm install compiles better-sqlite3, ~2 min)",
  () => {
    let dir: string;
    let app: string;
    let installed: string;
    const npx = (args: string[], env: Record<string, string>) =>
      run("npx", args, { cwd: app, env: userEnv(env), maxBuffer: 16 * MB });

    beforeAll(async () => {
      expect(staleDist(), "dist/ is older than src/: run `npm run build` first").toEqual([]);
      dir = mkdtempSync(join(tmpdir(), "gsmcp-pack-"));
      const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
        cwd: ROOT,
        maxBuffer: 16 * MB,
      });
      const [tarball] = JSON.parse(packed.stdout) as { filename: string }[];
      app = join(dir, "app");
      mkdirSync(app);
      writeFileSync(join(app, "package.json"), JSON.stringify({ name: "gsmcp-pack-check", private: true }));
      await run("npm", ["install", join(dir, tarball!.filename), "--no-audit", "--no-fund", "--prefer-offline"], {
        cwd: app,
        env: userEnv({}),
        maxBuffer: 16 * MB,
      });
      installed = join(app, "node_modules", PKG.name);
    }, 8 * 60_000);
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true }); // ~180 MB installed
    });

    it("ships the compiled CLI and its runtime files, not the sources", () => {
      for (const f of [
        "bin/gsmcp.js",
        "dist/cli/main.js",
        "dist/cli/main.d.ts",
        // The files the workers start, compiled (src/worker-url.ts; signature-pool.ts).
        "dist/workspace/query-worker-impl.js",
        "dist/kql/analyzer-worker-impl.js",
        "dist/receipts/signature-worker.mjs",
        // Read at run time, relative to the modules.
        "schemas/wpc.schema.json",
        "examples/policies",
        "examples/detections",
      ])
        expect(existsSync(join(installed, f)), f).toBe(true);
      for (const f of ["src", "test", "bin/gsmcp-dev.js", "tsconfig.json"])
        expect(existsSync(join(installed, f)), f).toBe(false);
    });

    it("needs no tsx: not installed, not imported by dist/", async () => {
      expect(existsSync(join(app, "node_modules", "tsx"))).toBe(false);
      const ls = await run("npm", ["ls", "tsx", "--all", "--json"], { cwd: app }).catch((e: { stdout: string }) => e);
      expect((JSON.parse(ls.stdout) as { dependencies?: object }).dependencies).toBeUndefined();
      const importsTsx = files(join(installed, "dist"))
        .filter((f) => /\.m?js$/.test(f))
        .filter((f) => /\bfrom\s*["']tsx|\bimport\(\s*["']tsx/.test(readFileSync(f, "utf8")));
      expect(importsTsx).toEqual([]);
    });

    it("npx gsmcp demo tells the whole story on a fresh GSMCP_HOME", async () => {
      const { stdout } = await npx(["gsmcp", "demo"], { GSMCP_HOME: join(dir, "home-demo") });
      expect(stdout).toContain("verify → VALID (trusted)");
      expect(stdout).toMatch(/FIRED {2}AI agent - repeated attempts at blocked tools/);
    }, 180_000);

    it("npx gsmcp serve answers MCP initialize, tools/list and a KQL query over stdio", async () => {
      const home = join(dir, "home-serve");
      const policy = join(home, "policies", "triage-readonly.dsse.json");
      const token = join(home, "tokens", "pack.jwt");
      await npx(["gsmcp", "init"], { GSMCP_HOME: home });
      await npx(["gsmcp", "token", "issue", "--policy", policy, "--job", "pack-1", "--agent", "pack", "-o", token], {
        GSMCP_HOME: home,
      });
      const transport = new StdioClientTransport({
        command: "npx",
        args: ["gsmcp", "serve"],
        cwd: app,
        env: userEnv({ GSMCP_HOME: home, GSMCP_CST: `@${token}`, GSMCP_POLICY: policy }),
        stderr: "pipe",
      });
      let stderr = "";
      transport.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const client = new Client({ name: "pack-test", version: PKG.version });
      try {
        await client.connect(transport);
        expect(client.getServerVersion()?.version).toBe(PKG.version);
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain("sentinel_incidents_list");
        // Policy analysis (the KQL analyzer worker) and the query (a query worker), both started from dist/.
        const r = await client.callTool({
          name: "sentinel_kql_query",
          arguments: { query: "SecurityAlert | summarize count() by AlertSeverity", timespan: "P1D" },
        });
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      } catch (e) {
        throw new Error(`${String(e)}\nserver stderr:\n${stderr}`);
      } finally {
        await client.close();
      }
    }, 120_000);

    it("verifies receipt signatures on worker threads from dist/", async () => {
      // Large proof bundles spread signature checks over workers (signature-pool.ts, 2,000 receipts and up).
      const script = `
        import { generateKeyPairSync, sign } from "node:crypto";
        import { jcs } from "${PKG.name}/dist/crypto/jcs.js";
        import { badSignatures } from "${PKG.name}/dist/receipts/signature-pool.js";
        const { privateKey, publicKey } = generateKeyPairSync("ed25519");
        const receipts = Array.from({ length: 2500 }, (_, seq) => {
          const sig = sign(null, Buffer.from(jcs({ seq })), privateKey).toString("base64");
          return { seq, signature: { keyid: "k", sig } };
        });
        receipts[7].seq = -7;
        const bad = await badSignatures(receipts, (r) => JSON.stringify(r), new Map([["k", publicKey]]), { workers: 2 });
        console.log(JSON.stringify(bad));
      `;
      writeFileSync(join(app, "signatures.mjs"), script);
      const { stdout } = await run(process.execPath, ["signatures.mjs"], { cwd: app });
      expect(JSON.parse(stdout)).toEqual([7]);
    }, 60_000);
  },
);
