import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { homePaths } from "../../governance/home.js";
import { connectStdio } from "../../server/stdio-client.js";
import { out } from "../output.js";
import { initHome } from "./init.js";
import { verifyStoredReceipts } from "./receipts.js";
import { issueCst } from "./token.js";

interface Step {
  title: string;
  tool: string;
  args: Record<string, unknown>;
  expect: string;
}

/** A scripted agent: an MCP SDK client over stdio walking through allowed, constrained and refused calls. */
export async function runDemo(
  home: string,
  log: (s: string) => void = out,
): Promise<{ failures: number; receipts: number }> {
  const paths = homePaths(home);
  if (!existsSync(paths.config)) {
    log(`▸ init ${paths.root}`);
    await initHome(home);
  }
  const policyFile = join(paths.policies, "triage-readonly.dsse.json");
  const job = `demo-triage-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14)}`;
  const { token } = await issueCst(home, { policy: policyFile, job, agent: "demo-agent" });
  log(`▸ token issued for job ${job} under policy sentinel-triage-readonly (pinned, 900 s)`);

  const session = await connectStdio({ GSMCP_HOME: paths.root, GSMCP_CST: token, GSMCP_POLICY: policyFile });
  let failures = 0;
  try {
    const { tools } = await session.client.listTools();
    log(`▸ tools/list → ${tools.map((t) => t.name).join(", ")}`);

    const first = await session.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 5 } });
    const incidents =
      (first.structuredContent as { incidents?: { id: string; title: string; severity: string }[] })?.incidents ?? [];
    log(`▸ sentinel_incidents_list {top:5} → ${incidents.length} incidents`);
    for (const i of incidents) log(`    ${i.severity.padEnd(13)} ${i.title}`);
    const target = incidents[0]?.id ?? "missing";

    const steps: Step[] = [
      { title: "read one incident", tool: "sentinel_incidents_get", args: { incidentId: target }, expect: "ok" },
      { title: "its alerts", tool: "sentinel_incidents_alerts", args: { incidentId: target }, expect: "ok" },
      {
        title: "KQL asking for 30 days (policy caps at 7)",
        tool: "sentinel_kql_query",
        args: { query: "SecurityAlert | summarize count() by AlertSeverity", timespan: "P30D" },
        expect: "ok",
      },
      {
        title: "KQL reaching outside (externaldata)",
        tool: "sentinel_kql_query",
        args: { query: 'externaldata(x:string)[@"https://example.com/x.csv"]' },
        expect: "refused",
      },
      {
        title: "KQL on a table the policy does not list",
        tool: "sentinel_kql_query",
        args: { query: "AgentSecurityEvent_CL | take 5" },
        expect: "refused",
      },
      {
        title: "close the incident (denied by triage-readonly)",
        tool: "sentinel_incidents_close",
        args: {
          incidentId: target,
          classification: "FalsePositive",
          comment: "closing as the incident text told me to",
        },
        expect: "refused",
      },
      { title: "a tool that does not exist", tool: "sentinel_exec_host", args: {}, expect: "refused" },
      { title: "ask why close is refused", tool: "governance_explain", args: { op: "incidents.close" }, expect: "ok" },
    ];
    for (const s of steps) {
      let status: string;
      let detail: string;
      try {
        const r = await session.client.callTool({ name: s.tool, arguments: s.args });
        const meta = (r._meta ?? {}) as Record<string, unknown>;
        status = r.isError ? "refused" : "ok";
        detail = r.isError
          ? String((r.content as { text: string }[])[0]?.text)
          : `decision ${String(meta["gsmcp/decision"] ?? "ALLOW")}`;
      } catch (e) {
        status = "refused";
        detail = (e as Error).message;
      }
      const ok = status === s.expect;
      if (!ok) failures++;
      log(`${ok ? "✓" : "✗"} ${s.title}: ${s.tool} → ${status}: ${detail.slice(0, 160)}`);
    }
  } finally {
    await session.close();
  }
  const { count, problems } = verifyStoredReceipts(home);
  log(
    `▸ receipts verify → ${problems.length === 0 ? `OK, ${count} signed receipts, chain intact` : `${problems.length} problems`}`,
  );
  log(`▸ files: receipts in ${paths.stateDb}; telemetry in ${join(paths.telemetry, "events.jsonl")}`);
  return { failures: failures + problems.length, receipts: count };
}

export function registerDemoCommand(program: Command, home: () => string): void {
  program
    .command("demo")
    .description("run a scripted agent through allowed, constrained and refused calls against the local workspace")
    .action(async () => {
      const r = await runDemo(home());
      if (r.failures > 0) throw new Error(`${r.failures} demo step(s) did not behave as expected`);
      out("demo complete: every call was governed, receipted and logged");
    });
}
