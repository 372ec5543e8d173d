import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideApproval } from "../../src/cli/commands/approvals.js";
import { exportJob, verifyFile } from "../../src/cli/commands/proof.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { startHttpServer } from "../../src/server/http.js";
import { openRuntime, type Runtime } from "../../src/server/runtime.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { receiptsOf, textOf } from "../helpers/state.js";

// Concurrent identical approved writes execute exactly once — across processes sharing the store (stdio servers) and
// across sessions of one HTTP server — and the job's proof bundle stays VALID: the approval is consumed in the same
// transaction as the one intent receipt, and the losers' refusals do not cite it.

type Call = (args: Record<string, unknown>) => Promise<{ isError?: boolean; text: string }>;

async function raceRounds(h: TestHome, job: string, callers: Call[], rounds: number, incidentId: string) {
  for (let round = 0; round < rounds; round++) {
    const args = { incidentId, severity: round % 2 ? "Low" : "High" };
    const first = await callers[0]!(args);
    const approvalId = /apr_[0-9a-f]{16}/.exec(first.text)?.[0];
    expect(approvalId, first.text).toBeDefined();
    await decideApproval(h.home, approvalId!, "approved", `round ${round}`);
    const results = await Promise.all(callers.map((c) => c(args)));
    expect(
      results.filter((r) => !r.isError),
      results.map((r) => r.text).join("\n"),
    ).toHaveLength(1);
    for (const r of results.filter((x) => x.isError)) expect(r.text).toMatch(/^approval_(invalid|required)/);
    const citing = receiptsOf(h).filter((r) => r.approval_id === approvalId && r.phase !== "single");
    expect(citing.map((r) => r.phase).sort()).toEqual(["intent", "outcome"]);
  }
  const outcomes = receiptsOf(h).filter((r) => r.job === job && r.op === "incidents.update" && r.phase === "outcome");
  expect(outcomes.filter((r) => r.outcome.status === "ok")).toHaveLength(rounds);
  const v = await verifyFile((await exportJob(h.home, job, {})).file, h.paths.trust);
  expect(v.verdict, JSON.stringify(v.steps.filter((s) => !s.ok))).toBe("valid");
}

describe("identical approved writes racing", () => {
  let h: TestHome;
  let incidentId: string;
  let runtime: Runtime;
  let http: Awaited<ReturnType<typeof startHttpServer>>;

  beforeAll(async () => {
    h = await makeHome();
    const s = await startSession(h, { job: "probe" });
    const list = await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
    incidentId = (list.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
    await s.close();
    runtime = await openRuntime({ home: h.home, policyRef: h.policyFile("containment-with-approvals") });
    http = await startHttpServer(runtime, { host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await http?.close();
    await runtime?.close();
  });

  it("four stdio server processes on one store, four rounds: exactly one write per approval", async () => {
    const sessions = await Promise.all(
      Array.from({ length: 4 }, () => startSession(h, { policy: "containment-with-approvals", job: "job-race-stdio" })),
    );
    try {
      const callers: Call[] = sessions.map((s) => async (args) => {
        const r = await s.client.callTool({ name: "sentinel_incidents_update", arguments: args });
        return { isError: r.isError as boolean | undefined, text: textOf(r) };
      });
      await raceRounds(h, "job-race-stdio", callers, 4, incidentId);
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });

  it("eight sessions of one HTTP server, four rounds: exactly one write per approval", async () => {
    const { token } = await issueCst(h.home, {
      policy: h.policyFile("containment-with-approvals"),
      job: "job-race-http",
      agent: "agent-http",
    });
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = new Client({ name: "racer", version: "1" });
        await c.connect(
          new StreamableHTTPClientTransport(new URL(http.url), {
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
        return c;
      }),
    );
    try {
      const callers: Call[] = clients.map((c) => async (args) => {
        const r = await c.callTool({ name: "sentinel_incidents_update", arguments: args });
        return { isError: r.isError as boolean | undefined, text: textOf(r) };
      });
      await raceRounds(h, "job-race-http", callers, 4, incidentId);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
