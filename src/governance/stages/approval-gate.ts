import { jcsHash } from "../../crypto/jcs.js";
import type { AgentSecurityEvent } from "../../types/agent-security-event.js";
import { approvalDecisionEvent } from "../approval-events.js";
import { type Approval, verifyApproval } from "../approvals.js";
import type { Decision } from "../decide.js";
import { GovernanceError } from "../errors.js";
import { cancelledAt } from "./cancel.js";
import { type CallEnv, type Caller, type ProgressSink, refused, type StageResult } from "./types.js";

/**
 * Asks the user in the MCP client (elicitation); undefined when the client cannot ask. `signal` (the call was
 * cancelled) withdraws the question: the SDK sends notifications/cancelled for the elicitation request.
 */
export type Elicitor = (
  message: string,
  signal?: AbortSignal,
) => Promise<{ approve: boolean; reason?: string } | undefined>;

export interface Approved {
  approvalId?: string;
  /** The approval was given in the agent's own MCP client: it proves the host said yes, not who did. */
  clientAsserted?: boolean;
  /** The signed-in person who approved (approved_by.id), and the change ticket given with the decision. */
  approvedBy?: string;
  changeTicket?: string;
}

/**
 * Stage 4, approval gate: a gated write runs only with an approved, signed approval bound to job + op + arguments +
 * policy. An approval the policy's rule does not accept (wrong signer, client-asserted where the rule needs an
 * approver) is refused; a missing one is requested and the call refused with `approval_required`.
 */
export async function approvalGate(
  caller: Caller,
  op: string,
  args: Record<string, unknown>,
  decision: Decision,
  env: CallEnv,
  elicit?: Elicitor,
  /** Publishes an AgentSecurityEvent to the SOC's sinks (throws under a fail-closed policy when it cannot). */
  publish?: (e: AgentSecurityEvent) => void,
  /** The call's cancellation and progress: a wait for the user's answer reports itself and ends when cancelled. */
  call: { signal?: AbortSignal; progress?: ProgressSink } = {},
): Promise<StageResult<Approved>> {
  const rule = decision.approval;
  if (!rule) return { ok: true };
  const { approvals, trust, clientAssertionSigner } = env.deps;
  const { claims, policy } = caller;
  const argsHash = jcsHash(args);
  const now = new Date(env.now());
  const existing = await approvals.findForBinding(claims.job, op, argsHash, policy.hash);
  const live = existing && new Date(existing.expires_at).getTime() > now.getTime() ? existing : undefined;
  if (live?.decision === "approved") {
    const problem = verifyApproval(live, trust, rule);
    if (problem)
      return refused(new GovernanceError("approval_invalid", `approval ${live.approval_id}: ${problem}`), {
        approvalId: live.approval_id,
      });
    return {
      ok: true,
      approvalId: live.approval_id,
      ...(live.client_asserted ? { clientAsserted: true } : {}),
      ...(live.approved_by ? { approvedBy: live.approved_by.id } : {}),
      ...(live.change_ticket ? { changeTicket: live.change_ticket } : {}),
    };
  }
  if (live?.decision === "denied") {
    await approvals.consume(live.approval_id, "denied", now);
    return refused(
      new GovernanceError(
        "approval_invalid",
        `approval ${live.approval_id} was denied${live.reason ? `: ${live.reason}` : ""}`,
        "do not retry this action without a new human decision",
      ),
      { approvalId: live.approval_id },
    );
  }
  const shownArgs = env.redactor.redact(args).value;
  // A live pending request is the same request again; otherwise a new one is made.
  const created = live
    ? undefined
    : await approvals.request(
        {
          job: claims.job,
          agent: claims.sub,
          op,
          args_hash: argsHash,
          args_redacted: shownArgs,
          policy_hash: policy.hash,
          rule: rule.name,
          ...(claims.requested_by ? { requested_by: claims.requested_by } : {}),
        },
        rule.ttl_seconds,
        now,
      );
  const pending: Approval = live ?? (created as Approval);
  // Approvers hear of a request once, when it is created and left pending; a call that finds it again says nothing new.
  const announce = () => {
    if (created) notifyApproval(env, created);
  };
  // Only where the policy's rule opts in (mode "interactive") is the user asked in the MCP client; its answer is
  // signed with the client-assertion key and marked client_asserted, never with an approver's key.
  if (rule.mode === "interactive" && elicit && clientAssertionSigner) {
    call.progress?.("waiting for approval", `approval ${pending.approval_id} is asked in your client`);
    const answer = await elicit(
      `The agent (job ${claims.job}) asks to run ${op} with ${JSON.stringify(shownArgs)}. Approve this exact call?`,
      call.signal,
    ).catch(() => undefined);
    // Cancelled while the question was open: the answer (if one raced in) is not recorded; the request stays pending
    // for an approver, as when the client cannot ask.
    const stopped = cancelledAt(call.signal, "awaiting approval", { approvalId: pending.approval_id });
    if (stopped) {
      announce();
      return stopped;
    }
    if (answer) {
      let decided: Approval;
      try {
        decided = await approvals.decide(
          pending.approval_id,
          answer.approve ? "approved" : "denied",
          clientAssertionSigner,
          `${answer.reason ?? (answer.approve ? "approved in the client" : "declined in the client")}`,
          now,
          {
            clientAsserted: true,
            publish: (a) => publish?.(approvalDecisionEvent(a, env.deps.tenantId, now)),
          },
        );
      } catch (e) {
        // The decision could not be witnessed under a fail-closed policy: it is not stored and the write does not run.
        // The request stays pending for an approver.
        announce();
        return refused(
          new GovernanceError(
            "telemetry_failed",
            `the decision on ${pending.approval_id} could not be published: ${(e as Error).message}`,
            undefined,
            undefined,
            { cause: e },
          ),
          { approvalId: pending.approval_id },
        );
      }
      if (answer.approve) return { ok: true, approvalId: decided.approval_id, clientAsserted: true };
      await approvals.consume(pending.approval_id, "denied", now);
      return refused(
        new GovernanceError(
          "approval_invalid",
          `${op} was declined in the client (${pending.approval_id})`,
          "do not retry without a new human decision",
        ),
        { approvalId: pending.approval_id },
      );
    }
  }
  announce();
  return refused(
    new GovernanceError(
      "approval_required",
      `${op} requires approval "${rule.name}"; request ${pending.approval_id} is pending until ${pending.expires_at}`,
      `an approver runs: gsmcp approvals approve ${pending.approval_id} — then call again with the same arguments`,
      { approval_id: pending.approval_id, expires_at: pending.expires_at, args_hash: argsHash },
    ),
    { approvalId: pending.approval_id },
  );
}

/** Hands a new pending approval to the notifier without waiting for it or letting it fail the call. */
function notifyApproval(env: CallEnv, a: Approval): void {
  try {
    env.deps.notifyApproval?.(a);
  } catch {
    // a notification problem is the notifier's to report; the call's outcome does not depend on it
  }
}
