import type { SigningKey } from "../crypto/keys.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import { openBackend } from "../sentinel/open.js";
import { openTelemetry } from "../telemetry/open.js";
import type { TelemetrySink } from "../telemetry/sink.js";
import type { Approval } from "../types/approval.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { approvalDecisionEvent } from "./approval-events.js";
import { approvalRuleView } from "./approval-rules.js";
import type { ApprovalStore } from "./approvals.js";
import type { HomeConfig, HomePaths } from "./home.js";
import { loadPolicy } from "./policy.js";
import { TrustStore } from "./trust.js";

export interface DecisionInput {
  id: string;
  decision: "approved" | "denied";
  key: SigningKey;
  reason: string;
  changeTicket?: string;
  /** The signed-in person deciding (approver console); absent for the CLI. */
  approvedBy?: Approval["approved_by"];
  now?: Date;
}

/**
 * One way to decide an approval out of band (CLI and console): the approval's policy rule is checked before signing
 * (separation of duties, MFA, recent sign-in, change ticket), and the signed decision is published as an
 * ApprovalDecision event to that policy's telemetry sinks (JSONL always, Log Analytics when the policy sends events
 * there) before it is stored: a decision that cannot be published under a fail-closed policy is not stored.
 */
export async function decideWitnessed(
  at: { paths: HomePaths; config: HomeConfig; approvals: ApprovalStore },
  d: DecisionInput,
): Promise<Approval> {
  const { paths, config, approvals } = at;
  let backend: Promise<SentinelBackend> | undefined;
  let telemetry: TelemetrySink | undefined;
  try {
    const pending = await approvals.get(d.id);
    const wpc = pending ? policyOf(paths, pending.policy_hash) : undefined;
    const rule = wpc?.approvals?.find((r) => r.name === pending?.rule);
    telemetry = openTelemetry(paths, wpc, () => {
      backend ??= openBackend(paths, (process.env.GSMCP_BACKEND as "local" | "azure" | undefined) ?? config.backend);
      return backend;
    });
    const sink = telemetry;
    const decided = await approvals.decide(d.id, d.decision, d.key, d.reason, d.now ?? new Date(), {
      ...(rule ? { rule: approvalRuleView(rule) } : {}),
      ...(d.changeTicket ? { changeTicket: d.changeTicket } : {}),
      ...(d.approvedBy ? { approvedBy: d.approvedBy } : {}),
      publish: (a) => sink.emit(approvalDecisionEvent(a, process.env.AZURE_TENANT_ID ?? "local")),
    });
    await sink.flush();
    return decided;
  } finally {
    await telemetry?.close().catch(() => undefined);
    if (backend) await (await backend.catch(() => undefined))?.close();
  }
}

/** The approval's policy, for its rule and where its events go; undefined when it cannot be read. */
export function policyOf(paths: HomePaths, hash: string): WorkPolicyContract | undefined {
  try {
    return loadPolicy(hash, paths, TrustStore.load(paths)).wpc;
  } catch {
    return undefined;
  }
}
