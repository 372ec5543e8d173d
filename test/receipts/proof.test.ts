import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { exportJob, verifyFile } from "../../src/cli/commands/proof.js";
import { signPolicy } from "../../src/governance/policy.js";
import type { TrustStoreFile } from "../../src/governance/trust.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import type { ProofBundle } from "../../src/receipts/bundle.js";
import { inclusionProof, leafHash, merkleRoot, verifyInclusion } from "../../src/receipts/merkle.js";
import { verifyBundle } from "../../src/receipts/verify-bundle.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy } from "../helpers/policy.js";
import { textOf } from "../helpers/state.js";

const run = promisify(execFile);

describe("RFC 9162 Merkle tree", () => {
  it("every leaf's inclusion proof verifies, for every tree size up to 33; a wrong index or leaf does not", () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(`leaf-${i}`));
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, leaves);
        expect(verifyInclusion(leaves[i]!, i, n, proof, root)).toBe(true);
        if (n > 1) expect(verifyInclusion(leaves[i]!, (i + 1) % n, n, proof, root)).toBe(false);
        expect(verifyInclusion(leafHash("other"), i, n, proof, root)).toBe(false);
      }
    }
  });

  it("hashes leaves and nodes with domain separation (0x00 / 0x01)", () => {
    const a = leafHash("a");
    const b = leafHash("b");
    expect(merkleRoot([a])).toEqual(a);
    expect(merkleRoot([a, b]).equals(merkleRoot([b, a]))).toBe(false);
    // Three leaves split 2 + 1, as RFC 9162 specifies: MTH(a,b,c) = H(0x01 || H(0x01 || a || b) || c).
    const node = (l: Buffer, r: Buffer) =>
      createHash("sha256")
        .update(Buffer.concat([Buffer.from([1]), l, r]))
        .digest();
    const c = leafHash("c");
    expect(merkleRoot([a, b, c])).toEqual(node(node(a, b), c));
    expect(leafHash("a")).toEqual(
      createHash("sha256")
        .update(Buffer.concat([Buffer.from([0]), Buffer.from("a")]))
        .digest(),
    );
  });
});

describe("proof bundles", () => {
  let h: TestHome;
  let file: string;
  let bundle: ProofBundle;
  let trust: TrustStoreFile;
  let token: string;
  const job = "job-proof";

  beforeAll(async () => {
    h = await makeHome();
    const s = await startSession(h, { policy: "containment-with-approvals", job });
    token = s.token;
    try {
      const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 3 } });
      const incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
      await s.client.callTool({
        name: "sentinel_kql_query",
        arguments: { query: "SigninLogs | summarize count() by ResultType", timespan: "P30D" },
      });
      await s.client.callTool({ name: "sentinel_analyticsRules_disable", arguments: { ruleId: "x", reason: "r" } });
      const args = { incidentId, message: "<script>window.pwned = 1</script> spray IP blocked" };
      const pending = await s.client.callTool({ name: "sentinel_incidents_comments_add", arguments: args });
      await decideApproval(h.home, /apr_[0-9a-f]{16}/.exec(textOf(pending))![0], "approved", "ok");
      const ok = await s.client.callTool({ name: "sentinel_incidents_comments_add", arguments: args });
      expect(ok.isError, textOf(ok)).toBeFalsy();
    } finally {
      await s.close();
    }
    file = (await exportJob(h.home, job, {})).file;
    bundle = JSON.parse(readFileSync(file, "utf8")) as ProofBundle;
    trust = JSON.parse(readFileSync(h.paths.trust, "utf8")) as TrustStoreFile;
  });

  const tampered = (fn: (b: ProofBundle) => void) => {
    const b = structuredClone(bundle);
    fn(b);
    return verifyBundle(b, trust);
  };
  const codes = (r: Awaited<ReturnType<typeof verifyBundle>>) => r.steps.flatMap((s) => s.problems.map((p) => p.code));

  it("exports a complete bundle that verifies against the trust store, re-evaluating every decision", async () => {
    expect(bundle.receipts.length).toBeGreaterThanOrEqual(6);
    // The server keeps only a token's sha256 and claims (secrets at rest), so the bundle carries those, no JWS.
    expect(bundle.tokens[0]).toMatchObject({
      jws_sha256: `sha256:${createHash("sha256").update(token).digest("hex")}`,
      signature_withheld: "the server keeps only the token's sha256, never the token",
      claims: { job },
    });
    expect(bundle.tokens[0]!.jws).toBeUndefined();
    expect(bundle.approvals).toHaveLength(1);
    const r = await verifyFile(file, h.paths.trust);
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    expect(r).toMatchObject({ verdict: "valid", trust: "trusted" });
    expect(r.steps.find((s) => s.step === "decisions")!.notes[0]).toMatch(/^[1-9]\d* decisions re-evaluated$/);
  });

  // Was: "with --include-live-token the token's issuer signature is in the bundle and verifies". The server no longer
  // keeps the JWS (only its sha256), so there is nothing to include: whoever holds the token supplies it to verify.
  it("the token's issuer signature is checked when its holder supplies it (proof verify --token)", async () => {
    const tokens = (await verifyBundle(bundle, trust)).steps.find((s) => s.step === "tokens")!;
    expect(tokens.ok).toBe(true);
    expect(tokens.notes[0]).toMatch(/issuer signature withheld/);
    const withToken = (await verifyBundle(bundle, trust, { tokens: [token] })).steps.find((s) => s.step === "tokens")!;
    expect(withToken).toMatchObject({ ok: true });
    expect(withToken.notes[0]).toMatch(/issuer signature checked on the token supplied/);
    // Claims edited in the bundle no longer match the signed token its hash names.
    const forged = structuredClone(bundle);
    (forged.tokens[0]!.claims as { scope: string[] }).scope.push("analyticsRules.disable");
    const r = await verifyBundle(forged, trust, { tokens: [token] });
    expect(r.steps.find((s) => s.step === "tokens")!.ok).toBe(false);
    // A JWS that is not the one the hash names is caught (here: carried in the bundle).
    const other = structuredClone(bundle);
    other.tokens[0]!.jws = `${token}x`;
    expect(codes(await verifyBundle(other, trust))).toContain("token_binding");
    // A bundle exported before tokens were kept as hashes carries the JWS itself: still verified.
    const legacy = structuredClone(bundle);
    const { jws_sha256: _, signature_withheld: __, ...rest } = legacy.tokens[0]!;
    legacy.tokens[0] = { ...rest, jws: token };
    expect(await verifyBundle(legacy, trust)).toMatchObject({ verdict: "valid" });
    // Through the CLI: --token reads the token file; the removed --include-live-token names what replaces it.
    const tokenFile = join(h.home, "tokens", "proof.jwt");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const v = await run(process.execPath, [CLI, "proof", "verify", file, "--token", tokenFile], {
      env: { ...process.env, GSMCP_HOME: h.home },
    });
    expect(v.stdout).toMatch(/issuer signature checked on the token supplied/);
    const old = await run(process.execPath, [CLI, "proof", "export", "--job", job, "--include-live-token"], {
      env: { ...process.env, GSMCP_HOME: h.home },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(old).toMatchObject({ code: 2 });
    expect((old as { stderr: string }).stderr).toMatch(
      /--include-live-token was removed.*gsmcp proof verify BUNDLE --token/,
    );
  });

  it("detects an edited receipt, naming it", async () => {
    const r = await tampered((b) => {
      b.receipts[1]!.decision.effect = "ALLOW";
    });
    expect(r.verdict).toBe("invalid");
    const p = r.steps.flatMap((s) => s.problems).find((x) => x.code === "receipt_signature")!;
    expect(p.receipt?.receipt_id).toBe(bundle.receipts[1]!.receipt_id);
    expect(codes(r)).toContain("merkle_root");
  });

  it("detects truncated, reordered and duplicated receipts", async () => {
    expect(codes(await tampered((b) => b.receipts.pop()))).toContain("merkle_root");
    expect(codes(await tampered((b) => b.receipts.reverse()))).toContain("receipt_order");
    expect(codes(await tampered((b) => b.receipts.push(b.receipts[0]!)))).toEqual(
      expect.arrayContaining(["receipt_duplicate", "merkle_root"]),
    );
  });

  it("detects a bundle signed by keys the auditor does not trust", async () => {
    const other = await makeHome();
    const otherTrust = JSON.parse(readFileSync(other.paths.trust, "utf8")) as TrustStoreFile;
    const r = await verifyBundle(bundle, otherTrust);
    expect(r.verdict).toBe("invalid");
    expect(codes(r)).toContain("untrusted_key");
    // Without a trust store it is only self-consistent, and says so.
    expect(await verifyBundle(bundle)).toMatchObject({ verdict: "valid", trust: "self-consistent" });
  });

  it("detects a policy swapped for another with the same name", async () => {
    const wpc = examplePolicy("containment-with-approvals");
    const swapped = signPolicy(
      { ...wpc, allow: [{ tool: "sentinel.api", ops: [...wpc.allow[0]!.ops, "analyticsRules.disable"] }] },
      [loadSigningKey(h.paths, "policySigner")],
    );
    const r = await tampered((b) => {
      b.policies[0]!.envelope = swapped;
    });
    expect(codes(r)).toContain("policy_hash");
    expect(r.verdict).toBe("invalid");
  });

  it("detects an approval moved to another job", async () => {
    const r = await tampered((b) => {
      b.approvals[0]!.job = "another-job";
    });
    expect(codes(r)).toEqual(expect.arrayContaining(["approval_signature", "approval_binding"]));
  });

  it("detects a recorded decision the policy would not make", async () => {
    // Re-sign nothing: change the decision input so re-evaluation differs (and the signature breaks too).
    const r = await tampered((b) => {
      const x = b.receipts.find((y) => y.op === "analyticsRules.disable")!;
      (x.decision_input as { op: string }).op = "incidents.list";
    });
    expect(codes(r)).toContain("decision_mismatch");
  });

  it("CLI: exit codes distinguish valid (0), invalid (1) and unreadable (2)", async () => {
    const cli = (args: string[]) =>
      run(process.execPath, [CLI, ...args], { env: { ...process.env, GSMCP_HOME: h.home } }).then(
        (x) => ({ code: 0, out: x.stdout }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    expect((await cli(["proof", "verify", file])).code).toBe(0);
    const bad = join(h.home, "bad.proof.json");
    const b = structuredClone(bundle);
    b.receipts.pop();
    writeFileSync(bad, JSON.stringify(b));
    const invalid = await cli(["proof", "verify", bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.out).toContain("merkle_root");
    writeFileSync(join(h.home, "junk.json"), "{not json");
    expect((await cli(["proof", "verify", join(h.home, "junk.json")])).code).toBe(2);
    const json = await cli(["proof", "verify", file, "--json", "--workers", "2"]);
    expect(JSON.parse(json.out)).toMatchObject({ verdict: "valid" });
    const usage = await cli(["proof", "verify", file, "--workers", "0"]);
    expect(usage.code).toBe(2);
    expect(usage.out).toContain("--workers must be an integer from 1 to 64");
  });

  // Outside CI a machine may have no Chromium: the test says so and is skipped. In CI (.ci/run installs Debian's
  // chromium) a missing browser is a failure.
  const noChromium = !existsSync("/usr/bin/chromium") && !process.env.CI;
  if (noChromium)
    console.warn("skipped: Trust Pulse browser test: /usr/bin/chromium not found (apt-get install chromium)");
  it.skipIf(noChromium)(
    "Trust Pulse renders the key facts in headless Chromium and escapes attacker text",
    async () => {
      const report = await run(process.execPath, [CLI, "proof", "report", file], {
        env: { ...process.env, GSMCP_HOME: h.home },
      });
      const html = report.stdout.trim().split("\n")[0]!;
      const mdText = readFileSync(html.replace(/\.html$/, ".md"), "utf8");
      expect(mdText).toContain(`job ${job}`);
      expect(mdText).toContain("VALID");
      const { chromium } = await import("playwright-core");
      const browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        const page = await browser.newPage();
        await page.goto(`file://${html}`);
        expect(await page.textContent("#job")).toBe(job);
        expect(await page.textContent("#verdict")).toContain("VALID");
        expect(await page.textContent(".policy")).toBe("sentinel-containment-with-approvals");
        expect(await page.locator("#timeline td.BLOCK").count()).toBeGreaterThan(0);
        expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
        expect(await page.content()).toContain("&lt;script&gt;");
      } finally {
        await browser.close();
      }
    },
  );
});
