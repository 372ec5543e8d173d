import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";

const README = readFileSync("README.md", "utf8");

/** The commands of the README's Quickstart block, as written (npx gsmcp → this checkout's CLI, from source). */
function quickstart(): string[] {
  const section = README.slice(README.indexOf("## Quickstart"));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

describe("README", () => {
  it("starts with the two fresh-machine commands, and both exist as npm scripts", () => {
    const first = /```bash\n([\s\S]*?)```/.exec(README)![1]!;
    expect(first).toMatch(/^npm install && npm run demo/m);
    expect(first).toMatch(/^npm test/m);
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.scripts.demo).toBeTruthy();
    expect(pkg.scripts.test).toBeTruthy();
  });

  it("the Quickstart commands run as written in a fresh directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-readme-"));
    const cmds = quickstart();
    expect(cmds).toHaveLength(3);
    for (const cmd of cmds) {
      const m = /^((?:\w+=\S+\s+)*)npx gsmcp (.*)$/.exec(cmd);
      expect(m, cmd).not.toBeNull();
      const env = Object.fromEntries(
        (m![1] ?? "")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((kv) => kv.split("=") as [string, string]),
      );
      // serve reads MCP from stdin; an empty stdin ends the session cleanly.
      execFileSync("sh", ["-c", `node ${CLI} ${m![2]}`], {
        cwd: dir,
        env: { ...process.env, GSMCP_HOME: "", ...env },
        input: "",
        stdio: ["pipe", "pipe", "pipe"],
        // A synchronous call blocks this worker, where vitest's own timeout cannot fire: bound it here.
        timeout: 120_000,
        killSignal: "SIGKILL",
      });
    }
    expect(existsSync(join(dir, ".gsmcp", "tokens", "triage-42.jwt"))).toBe(true);
  });

  it("every relative link points at a file that exists", () => {
    for (const [, target] of README.matchAll(/\]\(((?!https?:)[^)#]+)\)/g))
      expect(existsSync(target!), target).toBe(true);
  });
});
