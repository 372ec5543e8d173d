import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportJob } from "../../src/cli/commands/proof.js";
import { issueCst } from "../../src/cli/commands/token.js";
import type { ProofBundle } from "../../src/receipts/bundle.js";
import { parseBundle, verifyBundle } from "../../src/receipts/verify-bundle.js";
import {
  COMMENT_GRAMMAR,
  checkDigest,
  checkForensicsComment,
  commentText,
  type ForensicsDigest,
  parseDigestLine,
  receiptsRoot,
  SENTINEL_COMMENT_MAX,
} from "../../src/server/forensics.js";
import { startHttpServer } from "../../src/server/http.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { rawRequest } from "../helpers/raw-http.js";
import { receiptsOf } from "../helpers/state.js";

// The collect-forensics playbook's steps, played against the real server and the embedded workspace: fetch the
// forensics with the operator token, add the comment to an incident through the SentinelBackend (the
// @azure/arm-securityinsight SDK over HTTPS to the embedded workspace), read it back, and check its digest against
// the job's proof bundle — exported then, and again after the job made more calls.

const OPERATOR = "operator-secret-forensics-0123456789";
// Attacker-influenced text that ends up in the job's receipts (arguments) and in the agent name.
const EVIL = `<img src=x onerror=alert(1)> [click](javascript:alert(1)) ![p](https://evil.example/x.png) **bold** | a | https://evil.example/phish www.evil.example &amp; &#60;script&#62; \`code\` \u202Eevil`;
const JOB = "ops:triage.42-x";

const raw = rawRequest;
const auth = { authorization: `Bearer ${OPERATOR}` };

interface ForensicsResponse {
  job: string;
  status: string;
  digest: ForensicsDigest;
  covers: string;
  current: { tree_size: number; root_hash: string };
  summary: { receipts: number; agents: string[]; effects: Record<string, number> };
  trust_pulse: { verdict: string; steps: { step: string; ok: boolean }[] };
  comment: { message: string; chars: number; max_chars: number; truncated: boolean; rows_omitted: number };
}

describe("collect forensics: GET /admin/jobs/{job}/forensics → incident comment → digest check", () => {
  let h: TestHome;
  let runtime: Runtime;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  let base: string;
  let token: string;

  const agentCalls = async (n: number) => {
    const g = runtime.governorFor(token);
    for (let i = 0; i < n; i++) {
      await g.call("sentinel_incidents_list", { top: 1 });
      // Refused (the policy bounds KQL), but receipted with the attacker's text in its redacted arguments.
      await g.call("sentinel_kql_query", { query: `SecurityEvent | where Account == "${EVIL}"`, timespan: "PT1H" });
    }
  };
  const exportNow = async (): Promise<{ bundle: ProofBundle; text: string }> => {
    const out = join(mkdtempSync(join(tmpdir(), "gsmcp-forensics-test-")), "b.json");
    await exportJob(h.home, JOB, { out });
    const text = readFileSync(out, "utf8");
    return { bundle: parseBundle(text), text };
  };

  beforeAll(async () => {
    h = await makeHome();
    const policy = h.policyFile("triage-readonly");
    runtime = await openRuntime({ home: h.home, policyRef: policy });
    http = await startHttpServer(runtime, {
      host: "127.0.0.1",
      port: 0,
      adminToken: OPERATOR,
      refusalIntervalMs: 60_000,
      admin: { log: () => {}, forensicsRate: { rate: 50, burst: 50 } },
    });
    base = http.url.replace("/mcp", "");
    token = (await issueCst(h.home, { policy, job: JOB, agent: "claude@evil.example" })).token;
    await agentCalls(3);
  });
  afterAll(async () => {
    await http?.close();
    await runtime?.close();
  });

  it("serves the digest, summary and Trust Pulse verdict of the job; the digest is the bundle's Merkle root", async () => {
    const before = receiptsOf(h).length;
    const r = await raw(`${base}/admin/jobs/${encodeURIComponent(JOB)}/forensics`, { headers: auth });
    expect(r.status).toBe(200);
    const f = JSON.parse(r.body) as ForensicsResponse;
    expect(f.job).toBe(JOB);
    expect(f.trust_pulse.verdict).toBe("valid");
    expect(f.summary.receipts).toBe(f.digest.tree_size);
    expect(f.digest.tree_size).toBeGreaterThanOrEqual(6);
    expect(f.covers).toMatch(/RFC 9162 Merkle root over the job's receipts 1\.\.tree_size/);
    // Read-only: no receipt, no state change.
    expect(receiptsOf(h).length).toBe(before);
    expect((await runtime.jobs.get(JOB))?.status).toBe("active");

    const { bundle } = await exportNow();
    expect(bundle.receipts.length).toBe(f.digest.tree_size);
    expect(f.digest.root_hash).toBe(bundle.tree_head.root_hash);
    expect(f.digest.root_hash).toBe(receiptsRoot(bundle.receipts));
    expect((await verifyBundle(bundle, runtime.trust.file)).verdict).toBe("valid");
  });

  it("plays the playbook: the comment goes onto an incident through the SDK, reads back, and verifies against a later bundle", async () => {
    const r = await raw(`${base}/admin/jobs/${encodeURIComponent(JOB)}/forensics`, { headers: auth });
    const f = JSON.parse(r.body) as ForensicsResponse;
    const message = f.comment.message;
    expect(message.length).toBeLessThanOrEqual(SENTINEL_COMMENT_MAX);
    expect(message).toMatch(COMMENT_GRAMMAR);
    expect(message).not.toMatch(/<img|<script|\]\(|javascript:|https?:\/\/|www\.|\*\*|\|/i);
    // The attacker's text is there, escaped: the portal shows it as text.
    expect(commentText(message)).toContain("onerror=alert(1)");

    // The Logic App's "Add comment to incident" step, through the SentinelBackend (SDK → embedded workspace).
    const backend = await runtime.backend();
    const [incident] = await backend.listIncidents({ top: 1 });
    expect(incident).toBeDefined();
    const commentId = "00000000-0000-4000-8000-00000000f0e1";
    await backend.addComment(incident!.id, commentId, message);
    const stored = (await backend.listComments(incident!.id)).find((c) => c.id === commentId || c.message === message);
    expect(stored?.message).toBe(message);

    // The analyst's check, later: the job made more calls, so the new bundle is longer; its first tree_size
    // receipts still hash to the comment's root, and the tree head signature verifies with the receipt key.
    await agentCalls(2);
    const { bundle, text } = await exportNow();
    expect(bundle.receipts.length).toBeGreaterThan(f.digest.tree_size);
    const claimed = parseDigestLine(stored!.message)!;
    expect(claimed).toMatchObject({ job: JOB, tree_size: f.digest.tree_size, root_hash: f.digest.root_hash });
    expect(checkDigest(bundle, claimed)).toEqual({ ok: true, problems: [] });
    // And from the portal's rendered text.
    expect(checkDigest(bundle, parseDigestLine(commentText(stored!.message))!).ok).toBe(true);
    // The analyst's command, as documented: a bundle file and the comment's text; exit 0, or 1 on a mismatch.
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-check-"));
    writeFileSync(join(dir, "b.json"), text);
    writeFileSync(join(dir, "comment.txt"), commentText(stored!.message));
    writeFileSync(
      join(dir, "forged.txt"),
      commentText(stored!.message).replace(f.digest.root_hash, `sha256:${"0".repeat(64)}`),
    );
    expect(checkForensicsComment(text, stored!.message)).toEqual({ ok: true, problems: [] });
    const run = async (comment: string) => {
      const r = await runCli(["proof", "check-comment", join(dir, "b.json"), join(dir, comment)]);
      return { status: r.code, stdout: r.stdout };
    };
    const good = await run("comment.txt");
    expect({ status: good.status, out: good.stdout }).toEqual({ status: 0, out: expect.stringMatching(/^ok: /) });
    const mismatch = await run("forged.txt");
    expect({ status: mismatch.status, out: mismatch.stdout }).toEqual({
      status: 1,
      out: expect.stringMatching(/MISMATCH: /),
    });

    // The endpoint answers the same root for that size.
    const again = JSON.parse(
      (
        await raw(`${base}/admin/jobs/${encodeURIComponent(JOB)}/forensics?tree_size=${f.digest.tree_size}`, {
          headers: auth,
        })
      ).body,
    ) as ForensicsResponse;
    expect(again.digest.root_hash).toBe(f.digest.root_hash);
    expect(again.current.tree_size).toBe(bundle.receipts.length);

    // Tampering is caught: a changed receipt, a forged root, a signature by another key.
    const tampered = structuredClone(bundle);
    (tampered.receipts[1]!.args_redacted as Record<string, unknown>).top = 99;
    expect(checkDigest(tampered, claimed).problems.join(" ")).toMatch(/hash to/);
    const forged = { ...claimed, root_hash: `sha256:${"ab".repeat(32)}` };
    expect(checkDigest(bundle, forged).problems.join(" ")).toMatch(/hash to.*signature does not verify/);
    expect(checkDigest(bundle, { ...claimed, keyid: "nobody" }).problems.join(" ")).toMatch(/not a receipt signer/);
    expect(checkDigest({ ...bundle, job: "other" }, claimed).ok).toBe(false);
  });

  it("keeps a small comment budget: truncates whole rows with a marker, never inside a character reference", async () => {
    await agentCalls(15);
    const r = await raw(`${base}/admin/jobs/${encodeURIComponent(JOB)}/forensics?max_chars=4000`, { headers: auth });
    expect(r.status).toBe(200);
    const f = JSON.parse(r.body) as ForensicsResponse;
    expect(f.comment.chars).toBeLessThanOrEqual(4000);
    expect(f.comment.message.length).toBe(f.comment.chars);
    expect(f.comment.truncated).toBe(true);
    expect(f.comment.message).toMatch(COMMENT_GRAMMAR);
    expect(commentText(f.comment.message)).toMatch(/Truncated to fit the 4000-character comment limit/);
    const { bundle } = await exportNow();
    expect(checkDigest(bundle, parseDigestLine(f.comment.message)!).ok).toBe(true);
  });
  it("does not verify an oversized bundle in the server, says so, and still serves a checkable digest", async () => {
    const small = await startHttpServer(runtime, {
      host: "127.0.0.1",
      port: 0,
      adminToken: OPERATOR,
      admin: { log: () => {}, forensicsVerifyMax: 2 },
    });
    try {
      const r = await raw(`${small.url.replace("/mcp", "")}/admin/jobs/${encodeURIComponent(JOB)}/forensics`, {
        headers: auth,
      });
      const f = JSON.parse(r.body) as ForensicsResponse;
      expect(f.trust_pulse.verdict).toBe("not_verified");
      expect(f.comment.message).toMatch(COMMENT_GRAMMAR);
      expect(commentText(f.comment.message)).toMatch(
        /NOT_VERIFIED .*not run in the server \(over 2 receipts\): gsmcp proof verify/,
      );
      const { bundle } = await exportNow();
      expect(checkDigest(bundle, parseDigestLine(f.comment.message)!).ok).toBe(true);
    } finally {
      await small.close();
    }
  });
});
