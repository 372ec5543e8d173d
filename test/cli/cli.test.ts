import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";

const _run = promisify(execFile);

const gsmcp = (args: string[], env: Record<string, string> = {}) => runCli(args, env);

describe("gsmcp CLI", () => {
  let h: TestHome;
  beforeAll(async () => {
    h = await makeHome();
  });

  it("policy hash matches the signed copy; verify accepts it; a flipped byte is refused", async () => {
    const src = "examples/policies/triage-readonly.wpc.json";
    const hash = (await gsmcp(["policy", "hash", src])).stdout.trim();
    expect(hash).toBe(h.init.policies.find((p) => p.name === "sentinel-triage-readonly")!.hash);
    const ok = await gsmcp(["policy", "verify", h.policyFile("triage-readonly")], { GSMCP_HOME: h.home });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(hash);
    const env = JSON.parse(readFileSync(h.policyFile("triage-readonly"), "utf8"));
    const sig = Buffer.from(env.signatures[0].sig, "base64");
    sig.writeUInt8(sig.readUInt8(0) ^ 1, 0);
    env.signatures[0].sig = sig.toString("base64");
    const bad = join(h.home, "flipped.dsse.json");
    writeFileSync(bad, JSON.stringify(env));
    const r = await gsmcp(["policy", "verify", bad], { GSMCP_HOME: h.home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gsmcp: policy_untrusted: /);
  });

  it("policy sign then verify a new policy; an unsigned edit is refused by hash lookup", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-pol-"));
    const file = join(dir, "mine.wpc.json");
    const wpc = JSON.parse(readFileSync("examples/policies/triage-readonly.wpc.json", "utf8"));
    writeFileSync(file, JSON.stringify({ ...wpc, policy_name: "mine" }));
    const signed = await gsmcp(["policy", "sign", file], { GSMCP_HOME: h.home });
    expect(signed.code, signed.stderr).toBe(0);
    expect((await gsmcp(["policy", "verify", file], { GSMCP_HOME: h.home })).code).toBe(0);
    writeFileSync(file, JSON.stringify({ ...wpc, policy_name: "mine-edited" }));
    const r = await gsmcp(["policy", "verify", file], { GSMCP_HOME: h.home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("policy_unsigned");
  });

  it("policy lint reports findings and explain gives the decision with reasons", async () => {
    const lint = await gsmcp(["policy", "lint", "examples/policies/triage-readonly.wpc.json"]);
    expect(lint.code).toBe(0);
    expect(lint.stdout).toContain("0 error(s)");
    const bad = join(h.home, "bad.wpc.json");
    writeFileSync(
      bad,
      JSON.stringify({ wpc_version: "v1", policy_name: "x", allow: [], token_requirements: {}, extra: 1 }),
    );
    const r = await gsmcp(["policy", "lint", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown field "extra"');
    expect(r.stderr).toContain('missing required field "cst_ttl_seconds_max"');
    const ex = await gsmcp([
      "policy",
      "explain",
      "examples/policies/triage-readonly.wpc.json",
      "--op",
      "incidents.close",
    ]);
    expect(ex.stdout).toContain("incidents.close: BLOCK");
    expect(ex.stdout).toContain("op_denied");
    const ex2 = await gsmcp([
      "policy",
      "explain",
      "examples/policies/containment-with-approvals.wpc.json",
      "--op",
      "incidents.close",
    ]);
    expect(ex2.stdout).toContain('approval "containment-approval" required');
  });

  it("token issue refuses scope escalation and TTLs over the policy maximum", async () => {
    const base = ["token", "issue", "--policy", h.policyFile("triage-readonly"), "--job", "j", "--agent", "a"];
    const ok = await gsmcp(base, { GSMCP_HOME: h.home });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split(".")).toHaveLength(3);
    const esc = await gsmcp([...base, "--ops", "incidents.list,incidents.close"], { GSMCP_HOME: h.home });
    expect(esc.code).toBe(2);
    expect(esc.stderr).toContain("incidents.close");
    const ttl = await gsmcp([...base, "--ttl", "3600"], { GSMCP_HOME: h.home });
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toContain("900");
  });

  it("serve with a missing GSMCP_HOME fails with one clear line", async () => {
    const r = await gsmcp(["serve"], { GSMCP_HOME: join(tmpdir(), "does-not-exist-gsmcp") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gsmcp: home_missing: .* is not initialised .* run "gsmcp init"/);
  });

  it("init refuses to overwrite without --force", async () => {
    const r = await gsmcp(["init"], { GSMCP_HOME: h.home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--force");
  });
});
