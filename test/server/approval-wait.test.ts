import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { ApprovalStore } from "../../src/governance/approvals.js";
import type { TrustStoreFile } from "../../src/governance/trust.js";
import { parseBundle, verifyBundle } from "../../src/receipts/verify-bundle.js";
import { RESOURCE_URIS } from "../../src/server/session.js";
import { openSqliteStore } from "../../src/state/sqlite-store.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import { CLI } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf, textOf } from "../helpers/state.js";

// The approval gate while it asks the user in the MCP client (a rule in mode "interactive"): the call reports
// "waiting for approval" to a client that asked for progress, and a cancellation withdraws the question (the server
// sends notifications/cancelled for its elicitation) and seals the write as cancelled — never executed, the approval
// left pending for an approver. The user's answers here wait for what the server reports, never for a clock.

type Held = { message: string; signal: AbortSignal; answer: (r: ElicitResult) => void };

async function elicitingClient(env: Record<string, string>) {
  const client = new Client({ name: "approval-wait", version: "1" }, { capabilities: { elicitation: {} } });
  const held: Held[] = [];
  let told: (h: Held) => void = () => {};
  client.setRequestHandler(
    ElicitRequestSchema,
    (req, extra) =>
      new Promise<ElicitResult>((answer) => {
        const h = { message: req.params.message, signal: extra.signal, answer };
        held.push(h);
        told(h);
      }),
  );
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "serve"],
      env: { PATH: process.env.PATH ?? "", ...env },
    }),
  );
  const asked = () =>
    new Promise<Held>((resolve) => {
      if (held.length) return resolve(held.shift()!);
      told = (h) => {
        held.shift();
        resolve(h);
      };
    });
  return { client, asked };
}

describe("the approval gate while the user is asked in the client", () => {
  let h: TestHome;
  let policy: string;
  let incidentId: string;
  let c: Awaited<ReturnType<typeof elicitingClient>>;

  beforeAll(async () => {
    h = await makeHome();
    const wpc = examplePolicy("containment-with-approvals");
    policy = signTestPolicy(h, {
      ...wpc,
      policy_name: "interactive-waits",
      approvals: [{ ...wpc.approvals![0]!, mode: "interactive" }],
    } as WorkPolicyContract);
    const { token } = await issueCst(h.home, { policy, job: "wait-job", agent: "agent-1" });
    c = await elicitingClient({ GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: policy });
    const list = await c.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
  }, 120_000);
  afterAll(async () => {
    await c?.client.close();
  });

  it('reports "waiting for approval" while the question is open; the answer lets the write run', async () => {
    const notes: { progress: number; message?: string }[] = [];
    let sawWaiting: () => void = () => {};
    const waiting = new Promise<void>((r) => {
      sawWaiting = r;
    });
    const call = c.client.callTool(
      { name: "sentinel_incidents_update", arguments: { incidentId, labels: ["progress-approved"] } },
      undefined,
      {
        onprogress: (p) => {
          notes.push(p);
          if (p.message?.startsWith("waiting for approval")) sawWaiting();
        },
      },
    );
    const q = await c.asked();
    // The user answers only once the client has shown that the call is waiting for them.
    await waiting;
    q.answer({ action: "accept", content: { approve: true, reason: "seen it wait" } });
    const r = await call;
    expect(r.isError, textOf(r)).toBeFalsy();
    const waits = notes.filter((n) => n.message?.startsWith("waiting for approval"));
    expect(waits[0]!.message).toMatch(/^waiting for approval: approval apr_[0-9a-f]+ is asked in your client/);
    for (let i = 1; i < notes.length; i++) expect(notes[i]!.progress).toBeGreaterThan(notes[i - 1]!.progress);
    const outcome = receiptsOf(h)
      .filter((x) => x.job === "wait-job" && x.op === "incidents.update")
      .at(-1)!;
    expect(outcome).toMatchObject({ phase: "outcome", outcome: { status: "ok" } });
  }, 120_000);

  it("cancelling while the user is asked withdraws the question and seals the write as cancelled, never executed", async () => {
    const ac = new AbortController();
    const args = { incidentId, labels: ["cancelled-while-asked"] };
    const call = c.client
      .callTool({ name: "sentinel_incidents_update", arguments: args }, undefined, { signal: ac.signal })
      .then(
        () => "answered" as const,
        (e: unknown) => e,
      );
    const q = await c.asked();
    expect(q.message).toMatch(/incidents\.update/);
    const withdrawn = new Promise<void>((r) => q.signal.addEventListener("abort", () => r(), { once: true }));
    ac.abort("changed my mind");
    expect(await call).not.toBe("answered");
    // The server withdrew its question: the client's elicitation request was cancelled.
    await withdrawn;
    expect(q.signal.aborted).toBe(true);

    const find = () =>
      receiptsOf(h).find(
        (x) =>
          x.job === "wait-job" &&
          x.op === "incidents.update" &&
          (x.args_redacted as { labels?: string[] }).labels?.[0] === "cancelled-while-asked",
      );
    for (let i = 0; !find() && i < 600; i++) await new Promise((r) => setTimeout(r, 50));
    const receipts = receiptsOf(h).filter(
      (x) => (x.args_redacted as { labels?: string[] }).labels?.[0] === "cancelled-while-asked",
    );
    // One receipt, single phase: no intent, nothing executed; the decision stays as made (not a BLOCK).
    expect(receipts).toHaveLength(1);
    const r = receipts[0]!;
    expect(r).toMatchObject({ phase: "single", outcome: { status: "cancelled", error: { code: "cancelled" } } });
    expect(r.outcome.error!.message).toMatch(/awaiting approval.*"changed my mind".*nothing was executed/);
    expect(r.decision.effect).not.toBe("BLOCK");
    // The approval request is still pending for an approver; the incident kept its labels.
    const st = openSqliteStore(h.paths.stateDb);
    const approval = await new ApprovalStore(st.approvals).get(r.approval_id!);
    await st.close();
    expect(approval).toMatchObject({ decision: "pending" });
    expect(approval?.consumed_at).toBeUndefined();
    const now = await c.client.callTool({ name: "sentinel_incidents_get", arguments: { incidentId } });
    expect((now.structuredContent as { incident: { labels: string[] } }).incident.labels).not.toContain(
      "cancelled-while-asked",
    );
    // The job's proof bundle verifies (decisions re-evaluated) with the cancelled write in it.
    const res = await c.client.readResource({ uri: RESOURCE_URIS.proof });
    const trust = JSON.parse(readFileSync(h.paths.trust, "utf8")) as TrustStoreFile;
    const events = readFileSync(`${h.paths.telemetry}/events.jsonl`, "utf8").split("\n").filter(Boolean);
    const report = await verifyBundle(parseBundle((res.contents[0] as { text: string }).text), trust, { events });
    expect(report.steps.filter((s) => !s.ok)).toEqual([]);
  }, 120_000);
});
