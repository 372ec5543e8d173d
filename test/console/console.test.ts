import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { ApprovalStore } from "../../src/governance/approvals.js";
import { connectStdio } from "../../src/server/stdio-client.js";
import {
  ConsoleAgent,
  type ConsoleFixture,
  idOf,
  SPRAY_RULE as RULE,
  startConsoleFixture,
} from "../helpers/console.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

type Session = Awaited<ReturnType<typeof connectStdio>>;

describe("approver console over a real OIDC provider", () => {
  let f: ConsoleFixture;
  let agent: Session;
  let incidentId: string;
  const policy = () => f.h.policyFile("containment-with-approvals");
  const call = (s: Session, name: string, args: Record<string, unknown>) =>
    s.client.callTool({ name, arguments: args });
  const approvalOf = (r: unknown) => /apr_[0-9a-f]{16}/.exec(textOf(r))?.[0];
  const stored = (id: string) => new ApprovalStore(f.state.approvals).get(id);

  async function session(job: string, opts: { policyFile?: string; requestedBy?: string } = {}): Promise<Session> {
    const file = opts.policyFile ?? policy();
    const { token } = await issueCst(f.h.home, {
      policy: file,
      job,
      agent: "agent-1",
      ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
    });
    return connectStdio({ GSMCP_HOME: f.h.home, GSMCP_CST: token, GSMCP_POLICY: file });
  }

  // The console's clock (sessions, expiry, sign-in age) runs `skew` ms ahead of the real one when a test moves it.
  let skew = 0;

  beforeAll(async () => {
    f = await startConsoleFixture({ now: () => Date.now() + skew });
    agent = await session("job-console");
    const list = (await call(agent, "sentinel_incidents_list", { status: "Active" })).structuredContent as {
      incidents: { id: string }[];
    };
    incidentId = list.incidents[0]!.id;
  }, 120_000);

  afterAll(async () => {
    await agent?.close();
    await f?.close();
  });

  it("without a session: pages redirect to sign-in, forms are refused", async () => {
    const a = new ConsoleAgent(f);
    const page = await a.get("/approvals");
    expect(page.status).toBe(302);
    expect(page.location).toBe("/login?return=%2Fapprovals");
    const post = await a.post("/approvals/apr_0000000000000000/decide", { decision: "approve" });
    expect(post.status).toBe(401);
  });

  it("an approver sees the incident diff and approves; the agent's retry executes once, a further one needs a new approval", async () => {
    const args = { incidentId, classification: "FalsePositive", comment: "benign admin activity" };
    const first = await call(agent, "sentinel_incidents_close", args);
    const id = approvalOf(first)!;
    expect(textOf(first)).toContain("approval_required");

    const lead = new ConsoleAgent(f);
    expect((await lead.signIn("lead")).status).toBe(303);
    const inbox = await lead.get("/approvals");
    expect(inbox.html).toContain(id);
    const detail = await lead.get(`/approvals/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toMatch(
      /<tr class="changed" data-field="status"><th scope="row">status<\/th><td>Active<\/td><td>Closed<\/td>/,
    );
    expect(detail.html).toMatch(/data-field="classification"/);
    // What the agent did before it asked: its listing call is on the page.
    expect(detail.html).toMatch(/<table id="activity">[\s\S]*<td>incidents\.list<\/td>/);

    const decided = await lead.post(`/approvals/${id}/decide`, {
      csrf_token: await lead.csrf(`/approvals/${id}`),
      args_hash: (await stored(id))!.args_hash,
      decision: "approve",
      reason: "checked with the admin team",
    });
    expect(decided.status).toBe(303);
    const a = (await stored(id))!;
    expect(a.decision).toBe("approved");
    expect(a.approved_by).toMatchObject({ id: idOf("lead"), name: "Lena Lead", amr: ["pwd", "mfa"] });

    const ran = await call(agent, "sentinel_incidents_close", args);
    expect(ran.isError, textOf(ran)).toBeFalsy();
    const again = await call(agent, "sentinel_incidents_close", args);
    expect(textOf(again)).toContain("approval_required");
    expect(approvalOf(again)).not.toBe(id);
    const receipts = receiptsOf(f.h).filter((r) => r.job === "job-console");
    const executed = receipts.filter((r) => r.approval_id === id && r.outcome.status === "ok");
    expect(executed).toHaveLength(1);
    expect(executed[0]!.approved_by).toBe(idOf("lead"));
  });

  it("the rule request: the impact preview shows the would-have-fired count; the ticket is required; denied, the retry is refused", async () => {
    const first = await call(agent, "sentinel_analyticsRules_create", RULE);
    const id = approvalOf(first)!;
    expect(textOf(first)).toContain("approval_required");
    const lead = new ConsoleAgent(f);
    await lead.signIn("lead");
    const detail = await lead.get(`/approvals/${id}`);
    expect(detail.html).toMatch(/would have fired <strong class="fired">\d+<\/strong> time\(s\) in 168 scheduled runs/);
    expect(detail.html).toContain('<input type="text" id="ticket" name="ticket" maxlength="200" required>');
    const argsHash = (await stored(id))!.args_hash;

    const noTicket = await lead.post(`/approvals/${id}/decide`, {
      csrf_token: await lead.csrf(),
      args_hash: argsHash,
      decision: "approve",
      reason: "looks right",
    });
    expect(noTicket.status).toBe(409);
    expect(noTicket.html).toContain("requires a change ticket");
    expect((await stored(id))!.decision).toBe("pending");

    const denied = await lead.post(`/approvals/${id}/decide`, {
      csrf_token: await lead.csrf(),
      args_hash: argsHash,
      decision: "deny",
      reason: "too noisy: would page the night shift",
    });
    expect(denied.status).toBe(303);
    const retry = await call(agent, "sentinel_analyticsRules_create", RULE);
    expect(textOf(retry)).toContain("was denied");
    expect(textOf(retry)).toContain("too noisy");
  });

  it("CSRF: a form without the token, with another token or from another origin decides nothing", async () => {
    const r = await call(agent, "sentinel_incidents_update", { incidentId, severity: "Low" });
    const id = approvalOf(r)!;
    const lead = new ConsoleAgent(f);
    await lead.signIn("lead");
    const token = await lead.csrf();
    const base = { args_hash: (await stored(id))!.args_hash, decision: "approve", reason: "x" };
    const attempts = [
      await lead.post(`/approvals/${id}/decide`, base),
      await lead.post(`/approvals/${id}/decide`, { ...base, csrf_token: `${token.slice(0, -2)}AA` }),
      await lead.post(`/approvals/${id}/decide`, { ...base, csrf_token: token }, { origin: "http://evil.test" }),
      await lead.post(`/approvals/${id}/decide`, { ...base, csrf_token: token }, {}),
    ];
    for (const a of attempts) expect(a.status).toBe(403);
    // Another person's token does not work in this session either.
    const other = new ConsoleAgent(f);
    await other.signIn("second");
    expect((await lead.post(`/approvals/${id}/decide`, { ...base, csrf_token: await other.csrf() })).status).toBe(403);
    expect((await stored(id))!.decision).toBe("pending");
  });

  it("roles: a reviewer reads but cannot decide; a signed-in user without a role sees nothing", async () => {
    const r = await call(agent, "sentinel_incidents_update", { incidentId, severity: "Medium" });
    const id = approvalOf(r)!;
    const viewer = new ConsoleAgent(f);
    await viewer.signIn("viewer");
    const page = await viewer.get(`/approvals/${id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('id="readonly"');
    expect(page.html).not.toContain('id="decide-form"');
    const post = await viewer.post(`/approvals/${id}/decide`, {
      csrf_token: await viewer.csrf(),
      args_hash: (await stored(id))!.args_hash,
      decision: "approve",
      reason: "x",
    });
    expect(post.status).toBe(403);
    expect(post.html).toContain("does not have the approver role");
    for (const path of ["/jobs", "/policies", "/manifests"]) expect((await viewer.get(path)).status).toBe(200);

    const nobody = new ConsoleAgent(f);
    await nobody.signIn("nobody");
    const denied = await nobody.get("/approvals");
    expect(denied.status).toBe(403);
    expect(denied.html).toContain("neither the approver nor the reviewer role");
    expect((await stored(id))!.decision).toBe("pending");
  });

  it("a decision bound to what the approver saw: another argument hash is refused", async () => {
    const r = await call(agent, "sentinel_incidents_update", { incidentId, severity: "High" });
    const id = approvalOf(r)!;
    const lead = new ConsoleAgent(f);
    await lead.signIn("lead");
    const post = await lead.post(`/approvals/${id}/decide`, {
      csrf_token: await lead.csrf(),
      args_hash: `sha256:${"0".repeat(64)}`,
      decision: "approve",
      reason: "x",
    });
    expect(post.status).toBe(409);
    expect(post.html).toContain("not the one you reviewed");
    expect((await stored(id))!.decision).toBe("pending");
  });

  it("a decided approval cannot be decided again, in the console or the CLI", async () => {
    const r = await call(agent, "sentinel_incidents_update", { incidentId, labels: ["reviewed"] });
    const id = approvalOf(r)!;
    const lead = new ConsoleAgent(f);
    await lead.signIn("lead");
    const form = async () => ({
      csrf_token: await lead.csrf(),
      args_hash: (await stored(id))!.args_hash,
      decision: "approve",
      reason: "ok",
    });
    expect((await lead.post(`/approvals/${id}/decide`, await form())).status).toBe(303);
    const twice = await lead.post(`/approvals/${id}/decide`, { ...(await form()), decision: "deny" });
    expect(twice.status).toBe(409);
    expect(twice.html).toContain("already approved");
    await expect(decideApproval(f.h.home, id, "denied", "cli")).rejects.toThrow(/already approved/);
  });

  it("attacker text from the agent's arguments is escaped on every page", async () => {
    const evil = `<script>globalThis.pwned=1</script><img src=x onerror=alert(1)>`;
    const r = await call(agent, "sentinel_incidents_comments_add", { incidentId, message: evil });
    const id = approvalOf(r)!;
    const lead = new ConsoleAgent(f);
    await lead.signIn("lead");
    for (const path of [`/approvals/${id}`, "/jobs/job-console"]) {
      const page = await lead.get(path);
      expect(page.html).not.toContain("<script>");
      expect(page.html).not.toContain("<img src=x");
      expect(page.html).toContain("&lt;script&gt;");
    }
  });

  it("separation of duties: the job's requester cannot approve its writes, another approver can, the CLI key alone cannot", async () => {
    const wpc = examplePolicy("containment-with-approvals");
    wpc.policy_name = "containment-sod";
    wpc.approvals = wpc.approvals!.map((rule) => ({ ...rule, distinct_approver: true }));
    const file = signTestPolicy(f.h, wpc);
    await expect(issueCst(f.h.home, { policy: file, job: "job-sod", agent: "agent-1" })).rejects.toThrow(
      /names no requester/,
    );
    const s = await session("job-sod", { policyFile: file, requestedBy: "lead@contoso.test" });
    try {
      const args = { incidentId, severity: "Low" };
      const id = approvalOf(await call(s, "sentinel_incidents_update", args))!;
      expect((await stored(id))!.requested_by).toBe("lead@contoso.test");

      const lead = new ConsoleAgent(f);
      await lead.signIn("lead");
      const self = await lead.post(`/approvals/${id}/decide`, {
        csrf_token: await lead.csrf(),
        args_hash: (await stored(id))!.args_hash,
        decision: "approve",
        reason: "my own job",
      });
      expect(self.status).toBe(409);
      expect(self.html).toContain("other than the job&#39;s requester");
      await expect(decideApproval(f.h.home, id, "approved", "cli")).rejects.toThrow(/signed-in approver/);

      const second = new ConsoleAgent(f);
      await second.signIn("second");
      const ok = await second.post(`/approvals/${id}/decide`, {
        csrf_token: await second.csrf(),
        args_hash: (await stored(id))!.args_hash,
        decision: "approve",
        reason: "four eyes",
      });
      expect(ok.status).toBe(303);
      const ran = await call(s, "sentinel_incidents_update", args);
      expect(ran.isError, textOf(ran)).toBeFalsy();
      const receipt = receiptsOf(f.h)
        .filter((r) => r.job === "job-sod")
        .find((x) => x.approval_id === id && x.outcome.status === "ok");
      expect(receipt?.approved_by).toBe(idOf("second"));
    } finally {
      await s.close();
    }
  });

  it("jobs: an approver pauses a job from the console and the agent's next call is refused", async () => {
    const lead = new ConsoleAgent(f);
    await lead.signIn("lead");
    const page = await lead.get("/jobs/job-console");
    expect(page.html).toContain('id="job-pause"');
    const post = await lead.post("/jobs/job-console/pause", {
      csrf_token: await lead.csrf("/jobs"),
      reason: "looks off",
    });
    expect(post.status).toBe(303);
    const r = await call(agent, "sentinel_incidents_get", { incidentId });
    expect(textOf(r)).toContain("paused");
    await lead.post("/jobs/job-console/resume", { csrf_token: await lead.csrf("/jobs"), reason: "fine" });
    const ok = await call(agent, "sentinel_incidents_get", { incidentId });
    expect(ok.isError, textOf(ok)).toBeFalsy();
  });

  it("expiry: an approval past its expiry cannot be approved; the inbox lists it as expired", async () => {
    const r = await call(agent, "sentinel_incidents_update", { incidentId, labels: ["late"] });
    const id = approvalOf(r)!;
    skew = 2 * 3600_000; // the approval's TTL is 15 minutes
    try {
      const lead = new ConsoleAgent(f);
      await lead.signIn("lead");
      const page = await lead.get(`/approvals/${id}`);
      expect(page.html).toContain('id="status">expired<');
      expect(page.html).not.toContain('id="decide-form"');
      expect((await lead.get("/approvals?status=expired")).html).toContain(id);
      const post = await lead.post(`/approvals/${id}/decide`, {
        csrf_token: await lead.csrf(),
        args_hash: (await stored(id))!.args_hash,
        decision: "approve",
        reason: "late",
      });
      expect(post.status).toBe(409);
      expect(post.html).toContain("expired");
      expect((await stored(id))!.decision).toBe("pending");
    } finally {
      skew = 0;
    }
  });

  it("step-up: a rule demanding MFA and a recent sign-in sends the approver to sign in again; without MFA the sign-in fails", async () => {
    const wpc = examplePolicy("containment-with-approvals");
    wpc.policy_name = "containment-step-up";
    wpc.approvals = wpc.approvals!.map((rule) => ({ ...rule, require_mfa: true, max_auth_age_seconds: 300 }));
    const file = signTestPolicy(f.h, wpc);
    const s = await session("job-step-up", { policyFile: file });
    try {
      const args = { incidentId, severity: "Informational" };
      const id = approvalOf(await call(s, "sentinel_incidents_update", args))!;
      const form = async (a: ConsoleAgent) => ({
        csrf_token: await a.csrf(),
        args_hash: (await stored(id))!.args_hash,
        decision: "approve",
        reason: "step-up",
      });

      // Sam has no MFA: the page says so, approving sends him to sign in with MFA, which the provider cannot give.
      const sam = new ConsoleAgent(f);
      await sam.signIn("second");
      expect((await sam.get(`/approvals/${id}`)).html).toContain("requires a multi-factor sign-in");
      const bounced = await sam.post(`/approvals/${id}/decide`, await form(sam));
      expect(bounced.status).toBe(303);
      expect(bounced.location).toBe(`/login?return=${encodeURIComponent(`/approvals/${id}`)}&mfa=1`);
      const failed = await sam.signIn("second", `/approvals/${id}`, "&mfa=1");
      expect(failed.status).toBe(401);
      expect((await stored(id))!.decision).toBe("pending");

      // Lena signed in with MFA, but ten minutes ago: approving sends her to sign in again (max_age), then it works.
      const lena = new ConsoleAgent(f);
      await lena.signIn("lead");
      skew = 10 * 60_000;
      const stale = await lena.post(`/approvals/${id}/decide`, await form(lena));
      expect(stale.status).toBe(303);
      expect(stale.location).toBe(`/login?return=${encodeURIComponent(`/approvals/${id}`)}&max_age=300&mfa=1`);
      skew = 0;
      const again = await lena.signIn("lead", `/approvals/${id}`, "&max_age=300&mfa=1");
      expect(again.status).toBe(303);
      const ok = await lena.post(`/approvals/${id}/decide`, await form(lena));
      expect(ok.status).toBe(303);
      expect(ok.location).toBe(`/approvals/${id}?decided=1`);
      const a = (await stored(id))!;
      expect(a.approved_by?.amr).toContain("mfa");
      expect(Date.parse(a.decided_at!) - Date.parse(a.approved_by!.auth_time!)).toBeLessThanOrEqual(300_000);
      const ran = await call(s, "sentinel_incidents_update", args);
      expect(ran.isError, textOf(ran)).toBeFalsy();
    } finally {
      skew = 0;
      await s.close();
    }
  });
});
