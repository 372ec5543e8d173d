import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, it } from "vitest";
import { verifyStoredReceipts } from "../../src/cli/commands/receipts.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { startHttpServer } from "../../src/server/http.js";
import { openRuntime } from "../../src/server/runtime.js";
import { makeHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";
import { receiptsOf } from "../helpers/state.js";

// A bounded load test on loopback: N jobs call concurrently over Streamable HTTP for a fixed time.
describe("load: concurrent jobs over HTTP", () => {
  it("8 jobs for 8 seconds: no errors, no receipt gaps, a verifiable chain, bounded memory", async () => {
    const h = await makeHome();
    // Budgets off the critical path: this measures the server, not the policy's rate limits (tested elsewhere).
    const wpc = examplePolicy("triage-readonly");
    const policy = signTestPolicy(h, {
      ...wpc,
      policy_name: "triage-load",
      budgets: { max_calls: 1_000_000, max_rows: 1_000_000_000, calls_per_minute: 1_000_000 },
    });
    const runtime = await openRuntime({ home: h.home, policyRef: policy });
    const http = await startHttpServer(runtime, { host: "127.0.0.1", port: 0, ratePerMinute: 100_000 });
    const JOBS = 8;
    const clients: Client[] = [];
    try {
      for (let j = 0; j < JOBS; j++) {
        const { token } = await issueCst(h.home, { policy, job: `load-${j}`, agent: `agent-${j}` });
        const c = new Client({ name: `load-${j}`, version: "1" });
        await c.connect(
          new StreamableHTTPClientTransport(new URL(http.url), {
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
        clients.push(c);
      }
      const first = await clients[0]!.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
      const incidentId = (first.structuredContent as { incidents: { id: string }[] }).incidents[0]!.id;
      const rssBefore = process.memoryUsage().rss;
      const until = Date.now() + 8_000;
      let calls = 0;
      let errors = 0;
      let firstError = "";
      await Promise.all(
        clients.map(async (c, j) => {
          while (Date.now() < until) {
            const r = await c.callTool({
              name: j % 2 ? "sentinel_incidents_get" : "governance_whoami",
              arguments: j % 2 ? { incidentId } : {},
            });
            calls++;
            if (r.isError) {
              errors++;
              firstError ||= JSON.stringify(r.content);
            }
          }
        }),
      );
      const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
      expect(errors, firstError).toBe(0);
      expect(calls).toBeGreaterThan(JOBS * 20);
      const receipts = receiptsOf(h);
      expect(receipts.map((r) => r.seq)).toEqual(receipts.map((_, i) => i + 1)); // no gaps
      expect(receipts.filter((r) => r.job.startsWith("load-")).length).toBe(calls + 1);
      expect((await verifyStoredReceipts(h.home)).problems).toEqual([]);
      expect(rssGrowthMb).toBeLessThan(300);
      console.log(
        `load: ${calls} calls in 8 s by ${JOBS} jobs (${Math.round(calls / 8)} calls/s), RSS +${rssGrowthMb.toFixed(0)} MB`,
      );
    } finally {
      for (const c of clients) await c.close();
      await http.close();
      await runtime.close();
    }
  }, 60_000);
});
