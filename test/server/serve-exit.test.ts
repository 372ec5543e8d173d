import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { CLI } from "../helpers/cli.js";
import { makeHome } from "../helpers/home.js";

// A stdio server ends when its client closes stdin — also after a KQL call started the language-service worker
// (a piped worker stdout used to keep the process alive for good).

describe("gsmcp serve over stdio", () => {
  it("exits when stdin closes after a KQL call", async () => {
    const h = await makeHome();
    const policy = h.policyFile("triage-readonly");
    const { token } = await issueCst(h.home, { policy, job: "j", agent: "a" });
    const child = spawn(process.execPath, [CLI, "serve"], {
      env: { PATH: process.env.PATH ?? "", GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: policy },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
    const reply = async (id: number) => {
      for (let t = 0; t < 600; t++) {
        const l = lines.find((x) => x.includes(`"id":${id}`));
        if (l) return JSON.parse(l);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no reply ${id}`);
    };
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    await reply(1);
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "sentinel_kql_query", arguments: { query: "SigninLogs | take 1", timespan: "P1D" } },
    });
    const r = await reply(2);
    expect(r.result.isError, JSON.stringify(r)).toBeFalsy();
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdin.end();
    const code = await Promise.race([
      exited,
      new Promise<"still running">((r) => setTimeout(() => r("still running"), 10_000)),
    ]);
    if (code === "still running") child.kill("SIGKILL");
    expect(code).toBe(0);
  }, 60_000);
});
