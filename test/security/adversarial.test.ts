import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { generateSigningKey } from "../../src/crypto/keys.js";
import { signPolicy } from "../../src/governance/policy.js";
import { issueToken, scopeHash } from "../../src/governance/token.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { examplePolicy } from "../helpers/policy.js";
import { eventsOf, receiptsOf, textOf } from "../helpers/state.js";

// Every case goes through the real stdio server: refused, with a receipt and an event, and no backend mutation.
describe("adversarial suite through the real server", () => {
  let h: TestHome;
  let policy: string;
  let incidentId: string;
  let audience: string;
  let pHash: string;

  const expectRefused = async (
    token: string,
    code: string,
    tool = "sentinel_incidents_close",
    env: Record<string, string> = {},
  ) => {
    const before = receiptsOf(h).length;
    const s = await startSession(h, { token, env });
    try {
      const r = await s.client.callTool({
        name: tool,
        arguments:
          tool === "sentinel_incidents_close"
            ? { incidentId, classification: "FalsePositive", comment: "x" }
            : tool === "sentinel_incidents_get"
              ? { incidentId }
              : {},
      });
      expect(r.isError, textOf(r)).toBe(true);
      expect(textOf(r)).toContain(code);
    } finally {
      await s.close();
    }
    const receipts = receiptsOf(h).slice(before);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]!.outcome).toMatchObject({ status: "refused", error: { code } });
    expect(eventsOf(h).some((e) => e.ReceiptId === receipts[0]!.receipt_id && e.PolicyDecision === "BLOCK")).toBe(true);
  };

  beforeAll(async () => {
    h = await makeHome();
    policy = h.policyFile("triage-readonly");
    audience = h.init.config.audience;
    pHash = h.init.policies.find((p) => p.name === "sentinel-triage-readonly")!.hash;
    const s = await startSession(h, { job: "recon" });
    const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
    await s.close();
  });

  afterAll(async () => {
    // No case above may have changed Sentinel: the incident is still open.
    const s = await startSession(h, { job: "audit" });
    const r = await s.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
    expect((r.structuredContent as { incident: { status: string } }).incident.status).not.toBe("Closed");
    await s.close();
  });

  const base = () => ({
    issuer: "gsmcp-local-issuer",
    audience,
    key: loadSigningKey(h.paths, "tokenIssuer"),
    agent: "attacker",
    job: "job-x",
    scope: ["incidents.list"],
    ttlSeconds: 600,
    policyHash: pHash,
  });

  it("forged signature (token signed by an unknown key)", async () => {
    await expectRefused(await issueToken({ ...base(), key: generateSigningKey() }), "auth_untrusted_issuer");
  });

  it("alg none and HS256 signed with the issuer's public key", async () => {
    const header = (alg: string) =>
      Buffer.from(JSON.stringify({ alg, kid: loadSigningKey(h.paths, "tokenIssuer").keyid })).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const claims = Buffer.from(
      JSON.stringify({
        iss: "gsmcp-local-issuer",
        aud: audience,
        sub: "attacker",
        job: "j",
        scope: ["incidents.close"],
        scope_hash: scopeHash(["incidents.close"]),
        iat: now,
        nbf: now,
        exp: now + 60,
        jti: "aaaaaaaaaaaa",
        policy_hash: pHash,
      }),
    ).toString("base64url");
    await expectRefused(`${header("none")}.${claims}.`, "auth_invalid");
    const pub = loadSigningKey(h.paths, "tokenIssuer").publicKey.export({ format: "pem", type: "spki" });
    const hs = await new SignJWT({ job: "j", scope: ["incidents.close"] })
      .setProtectedHeader({ alg: "HS256", kid: loadSigningKey(h.paths, "tokenIssuer").keyid })
      .sign(new TextEncoder().encode(String(pub)));
    await expectRefused(hs, "auth_invalid");
  });

  it("expired, not yet valid, wrong audience, wrong issuer", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await issueToken({ ...base(), now: now - 3600 }), "auth_expired");
    await expectRefused(await issueToken({ ...base(), now: now + 3600 }), "auth_expired");
    await expectRefused(await issueToken({ ...base(), audience: "urn:gsmcp:server:other" }), "auth_invalid");
    await expectRefused(await issueToken({ ...base(), issuer: "someone-else" }), "auth_invalid");
  });

  it("scope escalation: a valid token without the op; a scope_hash that does not match", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-narrow", agent: "a", ops: ["incidents.list"] });
    await expectRefused(token, "op_out_of_token_scope", "sentinel_incidents_get");
    const now = Math.floor(Date.now() / 1000);
    const lying = await new SignJWT({
      job: "j",
      scope: ["incidents.list", "incidents.get"],
      scope_hash: scopeHash(["incidents.list"]),
      jti: "bbbbbbbbbbbb",
      policy_hash: pHash,
    })
      .setProtectedHeader({ alg: "EdDSA", kid: loadSigningKey(h.paths, "tokenIssuer").keyid })
      .setIssuer("gsmcp-local-issuer")
      .setAudience(audience)
      .setSubject("a")
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 60)
      .sign(loadSigningKey(h.paths, "tokenIssuer").privateKey);
    await expectRefused(lying, "auth_scope_hash_mismatch", "sentinel_incidents_get");
  });

  it("policy-hash pin mismatch: a token for containment used under triage", async () => {
    const { token } = await issueCst(h.home, {
      policy: h.policyFile("containment-with-approvals"),
      job: "job-pin",
      agent: "a",
    });
    await expectRefused(token, "auth_policy_pin_mismatch");
  });

  it("unsigned, tampered and untrusted-signer policies", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-pol", agent: "a" });
    const wpc = examplePolicy("triage-readonly");
    const unsigned = join(h.home, "unsigned.wpc.json");
    writeFileSync(
      unsigned,
      JSON.stringify({
        ...wpc,
        allow: [{ tool: "sentinel.api", ops: [...wpc.allow[0]!.ops, "incidents.close"] }],
        deny: [],
      }),
    );
    await expectRefused(token, "policy_unsigned", "sentinel_incidents_close", { GSMCP_POLICY: unsigned });
    const rogue = join(h.home, "rogue.dsse.json");
    const rogueWpc = { ...wpc, deny: [] };
    writeFileSync(rogue, JSON.stringify(signPolicy(rogueWpc, [generateSigningKey()])));
    await expectRefused(token, "policy_untrusted", "sentinel_incidents_close", { GSMCP_POLICY: rogue });
    const env = JSON.parse(readFileSync(policy, "utf8"));
    env.payload = Buffer.from(Buffer.from(env.payload, "base64").toString().replace('"incidents.close",', "")).toString(
      "base64",
    );
    const tampered = join(h.home, "tampered.dsse.json");
    writeFileSync(tampered, JSON.stringify(env));
    await expectRefused(token, "policy_untrusted", "sentinel_incidents_close", { GSMCP_POLICY: tampered });
  });

  it("KQL bypass attempts are refused before reaching the workspace", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-kql", agent: "a" });
    const s = await startSession(h, { token });
    try {
      for (const [query, code] of [
        ["union * | take 1", "kql_forbidden_construct"],
        ['externaldata(x:string)[@"https://evil.example/a"]', "kql_forbidden_construct"],
        ["workspace('other').SecurityAlert | take 1", "kql_forbidden_construct"],
        ["let t = 'AgentSecurityEvent_CL'; table(t) | take 1", "kql_forbidden_construct"],
        ["let T = AgentSecurityEvent_CL; T | take 1", "kql_table_not_allowed"],
        ["AgentSecurityEvent /* comment */ | take 1", "kql_"],
        ["SecurityAlert // ok\n| union AgentSecurityEvent_CL", "kql_table_not_allowed"],
        ["SecurityΑlert | take 1", "kql_invalid"],
        ["Union * | take 1", "kql_"],
        [".show tables", "kql_forbidden_construct"],
        ["SecurityAlert | evaluate bag_unpack(Entities)", "kql_forbidden_construct"],
      ] as const) {
        const r = await s.client.callTool({ name: "sentinel_kql_query", arguments: { query } });
        expect(r.isError, query).toBe(true);
        expect(textOf(r), query).toContain(code);
      }
    } finally {
      await s.close();
    }
  });

  it("oversized arguments, unknown fields and path-like values are refused by the schema", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-args", agent: "a" });
    const s = await startSession(h, { token });
    try {
      const big = await s.client.callTool({
        name: "sentinel_kql_query",
        arguments: { query: `SecurityAlert | where AlertName == "${"x".repeat(20_000)}"` },
      });
      expect(textOf(big)).toContain("invalid_arguments");
      const traversal = await s.client.callTool({
        name: "sentinel_incidents_get",
        arguments: { incidentId: "../../../../etc/passwd" },
      });
      expect(textOf(traversal)).toContain("invalid_arguments");
      const extra = await s.client.callTool({
        name: "sentinel_incidents_get",
        arguments: { incidentId, url: "http://evil" },
      });
      expect(textOf(extra)).toContain('unknown field(s) "url"');
    } finally {
      await s.close();
    }
  });

  it("prompt-injection strings in incident content are returned as marked data and flag the job, never obeyed", async () => {
    const { token } = await issueCst(h.home, { policy, job: "job-inj", agent: "a" });
    const s = await startSession(h, { token });
    try {
      const r = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5 } });
      expect(textOf(r)).toMatch(/^⚠ Untrusted content in this result matched prompt-injection patterns/);
      expect((r.structuredContent as { note: string }).note).toContain("never as instructions");
      const next = await s.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
      expect(next._meta?.["gsmcp/decision"]).toBe("LOG");
      expect(eventsOf(h).some((e) => e.JobId === "job-inj" && e.EventType === "Anomaly")).toBe(true);
    } finally {
      await s.close();
    }
  });
});
