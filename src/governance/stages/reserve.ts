import { withFix } from "../codes.js";
import { type Decision, type DecisionRequest, decide } from "../decide.js";
import { GovernanceError } from "../errors.js";
import { type CallEnv, type Caller, refused, type StageResult } from "./types.js";

/**
 * Stage 3b, reserve: the call takes its slot in the job's call budgets (max_calls, calls_per_minute) atomically in the
 * state store, across every process and replica, so concurrent calls cannot overshoot a limit the decision saw as not
 * yet reached. A refused reservation is decided again on the numbers that refused it, so the receipt's decision and
 * its recorded inputs agree (a verifier re-evaluating them gets the same BLOCK).
 */
export async function reserveCall(
  caller: Caller,
  request: DecisionRequest,
  env: CallEnv,
): Promise<StageResult<{ reserved: true }>> {
  const b = caller.policy.wpc.budgets;
  const r = await env.deps.jobs.reserveCall(caller.claims.job, new Date(env.now()), {
    ...(b?.max_calls !== undefined ? { maxCalls: b.max_calls } : {}),
    ...(b?.calls_per_minute !== undefined ? { perMinute: b.calls_per_minute } : {}),
  });
  if (r.ok) return { ok: true, reserved: true };
  const seen: DecisionRequest = {
    ...request,
    usage: { rows: 0, ...request.usage, calls: r.calls, callsLastMinute: r.lastMinute },
  };
  const decision: Decision = decide(caller.policy.wpc, seen);
  const refusal = decision.refusal ?? {
    code: "budget_exceeded" as const,
    message: `job reached its ${r.limit === "max_calls" ? "max_calls" : "calls_per_minute"} budget`,
  };
  return refused(withFix(new GovernanceError(refusal.code, refusal.message)), { decision, request: seen });
}
