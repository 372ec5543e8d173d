import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReminders } from "../../src/console/reminders.js";
import { ApprovalStore } from "../../src/governance/approvals.js";
import { requireHome } from "../../src/governance/home.js";
import { checkWebhookSignature } from "../../src/notify/webhook.js";
import { openStore } from "../../src/state/open.js";
import { CLI, runCli } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { startTestOidcProvider, type TestOidcProvider } from "../helpers/oidc-provider.js";

describe("gsmcp console", () => {
  let h: TestHome;
  let op: TestOidcProvider;

  beforeAll(async () => {
    h = await makeHome();
    op = await startTestOidcProvider({
      users: [{ sub: "lead", name: "Lena", email: "lead@x.test", roles: ["Approver"] }],
      clients: [{ client_id: "c", client_secret: "s-for-tests", redirect_uris: ["http://127.0.0.1:1/callback"] }],
    });
  }, 60_000);
  afterAll(async () => op?.close());

  it("refuses to start without an OIDC configuration, on a non-loopback host, or with a bad config, saying what to do", async () => {
    const none = await runCli(["console"], { GSMCP_HOME: h.home });
    expect(none.code).toBe(2);
    expect(none.out).toContain("no OIDC configuration");
    expect(none.out).toContain("client_secret_env");
    const remote = await runCli(["console", "--host", "0.0.0.0"], { GSMCP_HOME: h.home });
    expect(remote.code).toBe(2);
    expect(remote.out).toContain("is not loopback");
    const file = join(h.home, "console", "bad.json");
    mkdirSync(join(h.home, "console"), { recursive: true });
    writeFileSync(file, JSON.stringify({ issuer: "http://idp.example.com", client_id: "c", client_secret: "x" }));
    const bad = await runCli(["console", "--oidc", file], { GSMCP_HOME: h.home });
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/issuer/);
    expect(bad.out).toMatch(/client_secret_env/);
  });

  it("starts, serves health, sends a visitor to sign in at the provider, and stops on SIGTERM", async () => {
    const file = join(h.home, "console", "oidc.json");
    writeFileSync(
      file,
      JSON.stringify({
        issuer: op.issuer,
        client_id: "c",
        client_secret_env: "GSMCP_TEST_CONSOLE_SECRET",
        redirect_uri: "http://127.0.0.1:1/callback",
      }),
    );
    const child = spawn(process.execPath, [CLI, "console", "--port", "0"], {
      env: { ...process.env, GSMCP_HOME: h.home, GSMCP_TEST_CONSOLE_SECRET: "s-for-tests" },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      expect(await (await fetch(`${url}/healthz`)).text()).toBe("ok");
      const page = await fetch(`${url}/approvals`, { redirect: "manual" });
      expect(page.headers.get("location")).toBe("/login?return=%2Fapprovals");
      const login = await fetch(`${url}/login`, { redirect: "manual" });
      const to = new URL(login.headers.get("location")!);
      expect(to.origin).toBe(op.issuer);
      expect(to.searchParams.get("code_challenge_method")).toBe("S256");
      expect(to.searchParams.get("nonce")).toBeTruthy();
      const exited = new Promise<number | null>((r) => child.once("exit", r));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("sends one signed approval_reminder when a pending approval nears expiry, none for decided ones", async () => {
    const secret = randomBytes(32).toString("hex");
    const hits: { raw: string; sig: string }[] = [];
    const server: Server = createServer((req, res) => {
      let raw = "";
      req.on("data", (d: Buffer) => {
        raw += d.toString();
      });
      req.on("end", () => {
        hits.push({ raw, sig: String(req.headers["x-gsmcp-signature"]) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const configFile = join(h.home, "config.json");
    const config = JSON.parse(readFileSync(configFile, "utf8"));
    config.notify = {
      webhook: { url: `http://127.0.0.1:${port}/hook`, secret_env: "GSMCP_TEST_HOOK", reminder_before_seconds: 59 },
      console_url: "https://approvals.contoso.test",
    };
    writeFileSync(configFile, JSON.stringify(config));
    const { paths, config: loaded } = requireHome(h.home);
    const state = await openStore(paths);
    try {
      const approvals = new ApprovalStore(state.approvals);
      const base = { job: "job-r", op: "incidents.close", args_hash: `sha256:${"1".repeat(64)}`, rule: "r" };
      const pending = await approvals.request({ ...base, policy_hash: `sha256:${"2".repeat(64)}` }, 60, new Date());
      const decided = await approvals.request({ ...base, policy_hash: `sha256:${"3".repeat(64)}` }, 60, new Date());
      await approvals.rows.saveDecision({ ...decided, decision: "denied" });
      const stop = startReminders({
        paths,
        config: loaded,
        state,
        consoleUrl: "http://unused",
        intervalMs: 100,
        env: { GSMCP_TEST_HOOK: secret },
      })!;
      try {
        await expect.poll(() => hits.length, { timeout: 10_000 }).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 500)); // several more ticks
      } finally {
        stop();
      }
      expect(hits).toHaveLength(1);
      const body = JSON.parse(hits[0]!.raw) as { event: string; data: { approval_id: string; link: string } };
      expect(body.event).toBe("approval_reminder");
      expect(body.data.approval_id).toBe(pending.approval_id);
      expect(body.data.link).toBe(`https://approvals.contoso.test/approvals/${pending.approval_id}`);
      expect(checkWebhookSignature(secret, hits[0]!.sig, hits[0]!.raw).ok).toBe(true);
    } finally {
      await state.close();
      server.close();
    }
  }, 30_000);
});
