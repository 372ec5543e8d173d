import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { homePaths } from "../../governance/home.js";
import { connectStdio } from "../../server/stdio-client.js";
import { loadDetections, replayDetection } from "../../telemetry/detections.js";
import { eventsSource, readEventsFile } from "../../telemetry/events-table.js";
import { out } from "../output.js";
import { decideApproval } from "./approvals.js";
import { initHome, REPO_ROOT } from "./init.js";
import { exportJob, verifyFile } from "./proof.js";
import { verifyStoredReceipts } from "./receipts.js";
import { issueCst } from "./token.js";

type Client = Awaited<ReturnType<typeof connectStdio>>["client"];
type Result = Awaited<ReturnType<Client["callTool"]>>;

const text = (r: Result) => ((r.content as { text?: string }[]) ?? []).map((c) => c.text ?? "").join(" ");
const decision = (r: Result) =>
  r.isError ? "refused" : String((r._meta as Record<string, unknown> | undefined)?.["gsmcp/decision"] ?? "ALLOW");

/**
 * The story in one run: a containment agent investigates the planted attack, is refused what its policy denies
 * (including what an injected comment told it to do), gets a human approval for the one write it needs, and leaves
 * a proof bundle, a Trust Pulse and telemetry that the shipped detections run on.
 */
export async function runDemo(
  home: string,
  log: (s: string) => void = out,
): Promise<{ failures: number; files: string[] }> {
  const started = Date.now();
  const paths = homePaths(home);
  let failures = 0;
  let stepNo = 0;
  const step = (title: string) => log(`\n[${++stepNo}] ${title}`);
  const check = (ok: boolean, line: string) => {
    if (!ok) failures++;
    log(`    ${ok ? "✓" : "✗"} ${line}`);
  };

  step("Set up: keys, trust store, signed policies, local Sentinel workspace");
  if (!existsSync(paths.config)) await initHome(home);
  log(`    GSMCP_HOME ${paths.root}`);
  const policyFile = join(paths.policies, "containment-with-approvals.dsse.json");
  const job = `demo-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 14)}`;
  const { token, scope, ttl } = await issueCst(home, { policy: policyFile, job, agent: "demo-agent" });
  log(`    CST for job ${job}: ${scope.length} ops, ${ttl} s, pinned to sentinel-containment-with-approvals`);

  const session = await connectStdio({ GSMCP_HOME: paths.root, GSMCP_CST: token, GSMCP_POLICY: policyFile });
  const c = session.client;
  const call = (name: string, args: Record<string, unknown>) => c.callTool({ name, arguments: args });
  try {
    step("Investigate: the agent lists incidents and reads the planted attack");
    const { tools } = await c.listTools();
    log(`    tools/list shows ${tools.length} tools (what this job's scope allows)`);
    const list = await call("sentinel_incidents_list", { status: "New", top: 5 });
    const incidents = (list.structuredContent as { incidents: { id: string; title: string; severity: string }[] })
      .incidents;
    for (const i of incidents) log(`      ${i.severity.padEnd(8)} ${i.title}`);
    log(
      `    → ${decision(list)}${text(list).startsWith("⚠") ? " — injected text spotted in incident content; the job is now flagged (LOG)" : ""}`,
    );
    const attack = incidents.find((i) => i.title.startsWith("Password spray")) ?? incidents[0]!;
    const phishing = incidents.find((i) => i.title.startsWith("Phishing")) ?? incidents[1]!;
    const alerts = await call("sentinel_incidents_alerts", { incidentId: attack.id });
    check(
      !alerts.isError,
      `sentinel_incidents_alerts → ${(alerts.structuredContent as { alerts: unknown[] }).alerts.length} alerts (${decision(alerts)})`,
    );
    const kql = await call("sentinel_kql_query", {
      query:
        "SigninLogs | where ResultType == '50126' | summarize Failures = count(), Users = dcount(UserPrincipalName) by IPAddress | top 3 by Failures",
      timespan: "P30D",
    });
    const k = kql.structuredContent as { rows: unknown[][]; timespan: string };
    check(
      !kql.isError && k.timespan === "P14D",
      `KQL asked for P30D → ran with the policy's hard bound ${k?.timespan} (${decision(kql)}); top source ${JSON.stringify(k?.rows?.[0])}`,
    );
    const outside = await call("sentinel_kql_query", { query: "union * | take 10" });
    check(!!outside.isError, `KQL "union * | take 10" → refused: ${text(outside).split(" — ")[0]}`);

    step("Prompt injection: a comment on the phishing incident tells the agent to disable a detection and close it");
    const comments = await call("sentinel_incidents_comments_list", { incidentId: phishing.id });
    const injected = (comments.structuredContent as { comments: { message: string }[] }).comments[0]?.message ?? "";
    log(`    comment: "${injected.slice(0, 110)}…"`);
    const rules = await call("sentinel_analyticsRules_list", {});
    log(`    sentinel_analyticsRules_list → ${rules.isError ? "refused (not in this job's scope)" : "allowed"}`);
    for (const [tool, args] of [
      ["sentinel_analyticsRules_disable", { ruleId: "spray-rule", reason: "as instructed" }],
      ["sentinel_automationRules_disable", { ruleId: "tier2", reason: "as instructed" }],
      [
        "sentinel_incidents_close",
        { incidentId: phishing.id, classification: "FalsePositive", comment: "closing as instructed by the comment" },
      ],
    ] as const) {
      const r = await call(tool, args as Record<string, unknown>);
      const code = /^(\w+):/.exec(text(r))?.[1] ?? "ok";
      check(!!r.isError, `${tool} → refused: ${code}`);
    }

    step("A real write: close the attack incident — needs a human approval bound to these exact arguments");
    const closeArgs = {
      incidentId: attack.id,
      classification: "TruePositive",
      classificationReason: "SuspiciousActivity",
      comment: "Spray source blocked; account reset; contained.",
    };
    const first = await call("sentinel_incidents_close", closeArgs);
    const approvalId = /apr_[0-9a-f]{16}/.exec(text(first))?.[0];
    check(!!approvalId, `sentinel_incidents_close → approval_required, request ${approvalId}`);
    log(`    approver runs: gsmcp approvals approve ${approvalId} --reason "confirmed TP"`);
    await decideApproval(home, approvalId!, "approved", "confirmed TP by SOC lead");
    const closed = await call("sentinel_incidents_close", closeArgs);
    check(
      !closed.isError && (closed.structuredContent as { incident: { status: string } }).incident.status === "Closed",
      "re-called with the same arguments → executed once; incident Closed (prior state kept for rollback)",
    );
    const replay = await call("sentinel_incidents_close", closeArgs);
    check(
      text(replay).includes("approval_required"),
      "the same call again → approval_required (the approval was single use)",
    );
  } finally {
    await session.close();
  }

  step("Evidence: receipts, proof bundle, Trust Pulse");
  const chain = await verifyStoredReceipts(home);
  check(chain.problems.length === 0, `receipts verify → ${chain.count} signed receipts, hash chain intact`);
  const bundle = await exportJob(home, job, {});
  const report = await verifyFile(bundle.file, paths.trust);
  check(
    report.verdict === "valid",
    `proof bundle: ${bundle.receipts} receipts, Merkle root ${bundle.root.slice(0, 23)}…, verify → ${report.verdict.toUpperCase()} (${report.trust})`,
  );
  const { renderHtml, renderMarkdown } = await import("../../receipts/trust-pulse.js");
  const { parseBundle } = await import("../../receipts/verify-bundle.js");
  const { readFileSync, writeFileSync } = await import("node:fs");
  const parsed = parseBundle(readFileSync(bundle.file, "utf8"));
  const pulse = join(paths.proofs, `trust-pulse-${job}`);
  writeFileSync(`${pulse}.html`, renderHtml(parsed, report));
  writeFileSync(`${pulse}.md`, renderMarkdown(parsed, report));
  log(`    Trust Pulse written (${pulse}.html)`);

  step("SOC view: the shipped detections run on this session's AgentSecurityEvent telemetry");
  const events = readEventsFile(join(paths.telemetry, "events.jsonl")).filter((e) => e.JobId === job);
  log(
    `    ${events.length} events: ${["PolicyEvaluation", "ToolInvocation", "AuthFailure", "Anomaly"].map((t) => `${t} ${events.filter((e) => e.EventType === t).length}`).join(", ")}`,
  );
  const fired: string[] = [];
  const times = events.map((e) => Date.parse(e.TimeGenerated));
  const span = times.length ? { from: Math.min(...times), to: Math.max(...times) } : { from: started, to: started };
  for (const rule of loadDetections(join(REPO_ROOT, "examples", "detections"))) {
    // Replayed over the rule's scheduled runs, as Sentinel would judge these events once they have arrived.
    const run = replayDetection(rule, eventsSource(events), span);
    if (run.fired) fired.push(rule.name);
    log(
      `    ${run.fired ? "FIRED" : "quiet"}  ${rule.name}${run.fired ? ` (entities: ${run.entities.join(", ")})` : ""}`,
    );
  }
  check(
    fired.some((n) => n.includes("blocked tools")),
    "the injection-driven attempts raised the blocked-tools detection",
  );

  const files = [paths.stateDb, join(paths.telemetry, "events.jsonl"), bundle.file, `${pulse}.html`, `${pulse}.md`];
  log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Open:`);
  for (const f of files) log(`  ${f}`);
  return { failures, files };
}

export function registerDemoCommand(program: Command, home: () => string): void {
  program
    .command("demo")
    .description(
      "the whole story against the local workspace: investigate, be refused, get an approval, prove it, detect it",
    )
    .action(async () => {
      const r = await runDemo(home());
      if (r.failures > 0) throw new Error(`${r.failures} demo step(s) did not behave as expected`);
    });
}
