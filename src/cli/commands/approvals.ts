import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { signingKeyFromPem } from "../../crypto/keys.js";
import { approvalDecisionEvent } from "../../governance/approval-events.js";
import { approvalRuleView } from "../../governance/approval-rules.js";
import { type Approval, ApprovalStore, statusOf } from "../../governance/approvals.js";
import { type HomePaths, requireHome } from "../../governance/home.js";
import { loadPolicy } from "../../governance/policy.js";
import { loadSigningKey, TrustStore } from "../../governance/trust.js";
import type { SentinelBackend } from "../../sentinel/backend.js";
import { openBackend } from "../../sentinel/open.js";
import { openStore } from "../../state/open.js";
import { openTelemetry } from "../../telemetry/open.js";
import type { TelemetrySink } from "../../telemetry/sink.js";
import type { WorkPolicyContract } from "../../types/wpc.js";
import { CliError, out } from "../output.js";
import { withStore } from "../store-access.js";

function withApprovals<T>(home: string, fn: (a: ApprovalStore) => Promise<T>): Promise<T> {
  return withStore(home, (s) => fn(new ApprovalStore(s.approvals)));
}

function line(a: Approval & { consumed_at?: string }): string {
  return `${a.approval_id}\t${statusOf(a)}\t${a.job}\t${a.op}\t${a.requested_at}\texpires ${a.expires_at}`;
}

/**
 * Approves or denies with this home's approver key (keys/approver.pem), or the PEM named by --key. The signed decision
 * is published as an ApprovalDecision event to the telemetry sinks of the approval's policy (the JSONL file, and Log
 * Analytics when the policy sends events there) before it is stored: a decision that cannot be published under a
 * fail-closed policy is not stored.
 */
export async function decideApproval(
  home: string,
  id: string,
  decision: "approved" | "denied",
  reason: string,
  keyFile?: string,
  changeTicket?: string,
): Promise<Approval> {
  const { paths, config } = requireHome(home);
  const state = await openStore(paths);
  let backend: Promise<SentinelBackend> | undefined;
  let telemetry: TelemetrySink | undefined;
  try {
    const store = new ApprovalStore(state.approvals);
    const key = keyFile ? signingKeyFromPem(readFileSync(keyFile, "utf8")) : loadSigningKey(paths, "approver");
    const pending = await store.get(id);
    const wpc = pending ? policyOf(paths, pending.policy_hash) : undefined;
    const rule = wpc?.approvals?.find((r) => r.name === pending?.rule);
    telemetry = openTelemetry(paths, wpc, () => {
      backend ??= openBackend(paths, (process.env.GSMCP_BACKEND as "local" | "azure" | undefined) ?? config.backend);
      return backend;
    });
    const sink = telemetry;
    const decided = await store.decide(id, decision, key, reason, new Date(), {
      ...(rule ? { rule: approvalRuleView(rule) } : {}),
      ...(changeTicket ? { changeTicket } : {}),
      publish: (a) => sink.emit(approvalDecisionEvent(a, process.env.AZURE_TENANT_ID ?? "local")),
    });
    await sink.flush();
    return decided;
  } finally {
    await telemetry?.close().catch(() => undefined);
    if (backend) await (await backend.catch(() => undefined))?.close();
    await state.close();
  }
}

/** The approval's policy, for where its events go; undefined (events to the JSONL file only) when it cannot be read. */
function policyOf(paths: HomePaths, hash: string): WorkPolicyContract | undefined {
  try {
    return loadPolicy(hash, paths, TrustStore.load(paths)).wpc;
  } catch {
    return undefined;
  }
}

export function registerApprovalCommands(program: Command, home: () => string): void {
  const approvals = program.command("approvals").description("human approvals for gated writes");
  approvals
    .command("list")
    .option("--status <s>", "pending | approved | denied | consumed | expired")
    .option("--job <id>", "only this job")
    .option("--json", "JSON output")
    .action(async (o: { status?: string; job?: string; json?: boolean }) => {
      const list = await withApprovals(home(), (s) =>
        s.list({ ...(o.status ? { status: o.status } : {}), ...(o.job ? { job: o.job } : {}) }),
      );
      if (o.json) return out(JSON.stringify(list, null, 2));
      if (!list.length) return out("no approvals");
      for (const a of list) out(line(a));
    });
  approvals
    .command("show")
    .argument("<id>", "approval id (apr_…)")
    .action(async (id: string) => {
      const a = await withApprovals(home(), (s) => s.get(id));
      if (!a) throw new CliError(`no approval "${id}"`, 1, "see gsmcp approvals list");
      out(JSON.stringify({ ...a, status: statusOf(a) }, null, 2));
    });
  for (const [verb, decision] of [
    ["approve", "approved"],
    ["deny", "denied"],
  ] as const) {
    approvals
      .command(verb)
      .argument("<id>", "approval id (apr_…)")
      .option("--reason <text>", "recorded with the signed decision", `${decision} by operator`)
      .option("--key <file>", "approver private key (PEM); default: GSMCP_HOME/keys/approver.pem")
      .option("--ticket <ref>", "change-ticket reference, recorded in the approval and the receipt")
      .action(async (id: string, o: { reason: string; key?: string; ticket?: string }) => {
        const a = await decideApproval(home(), id, decision, o.reason, o.key, o.ticket);
        out(`${a.approval_id} ${decision} (${a.op} for job ${a.job}), signed by ${a.approver}`);
      });
  }
}
