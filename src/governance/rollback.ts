import type { SentinelBackend } from "../sentinel/backend.js";
import { toolByOp } from "../tools/registry.js";
import type { CstClaims } from "../types/cst.js";
import type { Receipt } from "../types/receipt.js";
import { toGovernanceError } from "./codes.js";
import type { Decision } from "./decide.js";
import { GovernanceError } from "./errors.js";
import type { Governor } from "./pipeline.js";
import { finishCall } from "./stages/finish.js";
import { draftReceipt } from "./stages/receipt-draft.js";
import { errorResult } from "./stages/result.js";
import { type CallRecord, failed, refused, type ToolCallResult } from "./stages/types.js";

/**
 * Rolls back a write from its intent receipt, as an operator: refused unless the write completed, its posture allows
 * rollback and it was not rolled back before. Two-phase receipts like any write, written by the server's governor.
 */
export async function rollbackWrite(gov: Governor, intentReceiptId: string, operator: string): Promise<ToolCallResult> {
  const { env, telemetry } = gov;
  const { deps } = env;
  const record: CallRecord = {
    op: "rollback",
    tool: "gsmcp rollback",
    args: { receipt_id: intentReceiptId },
    meta: {},
    started: performance.now(),
  };
  if (deps.policy instanceof GovernanceError) return gov.refuse(record, refused(deps.policy));
  const intent = await deps.receipts.get(intentReceiptId);
  const tool = intent ? toolByOp(intent.op) : undefined;
  record.caller = {
    policy: deps.policy,
    claims: { job: intent?.job ?? "-", sub: `operator:${operator}`, jti: "-" } as CstClaims,
  };
  const problem = rollbackProblem(
    intentReceiptId,
    intent,
    await deps.receipts.followUps(intentReceiptId),
    !!tool?.revert,
  );
  if (problem || !intent?.rollback || !tool?.revert)
    return gov.refuse(
      record,
      refused(
        new GovernanceError(
          "invalid_arguments",
          problem ?? "cannot roll back",
          "see gsmcp receipts list for write intents",
        ),
      ),
    );
  const rb = intent.rollback;
  const decision: Decision = {
    effect: "ALLOW",
    reasons: [
      { code: "operator_rollback", message: `operator ${operator} rolls back ${intent.op} of job ${intent.job}` },
    ],
    constraints: [],
  };
  // The real arguments and prior state, kept apart from the receipt; receipts written before that store existed
  // carry them only in the receipt.
  const saved = await deps.rollbackState?.get(intentReceiptId);
  const args = saved?.args ?? (intent.args_redacted as Record<string, unknown>);
  const priorState = saved ? saved.prior : rb.prior_state;
  // The backend unreachable or the current state unreadable: refused with a receipt, like any other call.
  let backend: SentinelBackend;
  let current: unknown;
  try {
    backend = await deps.backend(intent.workspace);
    current = tool.capture ? await tool.capture(args, { backend, decision }) : undefined;
  } catch (e) {
    return gov.refuse(record, refused(toGovernanceError(e, "backend_error")));
  }
  Object.assign(record, {
    decision,
    ...(intent.workspace && intent.tenant ? { workspace: { name: intent.workspace, tenant: intent.tenant } } : {}),
  });
  let phase2: Receipt;
  try {
    phase2 = await deps.receipts.append(
      draftReceipt(
        {
          ...record,
          status: "pending",
          phase: "intent",
          intentReceiptId,
          rollback: {
            posture: rb.posture,
            description: `state before rolling back ${intentReceiptId}`,
            ...(current !== undefined ? { prior_state: env.redactor.redact(current).value } : {}),
          },
        },
        env,
      ),
    );
  } catch (e) {
    return errorResult(
      new GovernanceError(
        "receipt_persist_failed",
        `rollback intent receipt could not be persisted, nothing was changed: ${(e as Error).message}`,
        "check GSMCP_HOME (disk space, permissions)",
      ),
    );
  }
  const outcome = { ...record, phase: "outcome" as const, intentReceiptId: phase2.receipt_id };
  try {
    const output = await tool.revert(args, priorState, { backend, decision });
    return finishCall({ ...outcome, status: "ok", output, text: JSON.stringify(output) }, env, telemetry);
  } catch (e) {
    return gov.refuse(outcome, failed(toGovernanceError(e, "backend_error")));
  }
}

function rollbackProblem(
  id: string,
  intent: Receipt | undefined,
  followUps: Receipt[],
  revertible: boolean,
): string | undefined {
  if (!intent) return `no receipt ${id}`;
  if (intent.phase !== "intent" || !intent.rollback) return `receipt ${id} is not the intent receipt of a write`;
  if (intent.rollback.posture === "none" || !revertible)
    return `${intent.op} has rollback posture "${intent.rollback.posture}": it cannot be rolled back automatically`;
  if (!followUps.some((r) => r.phase === "outcome" && r.op === intent.op && r.outcome.status === "ok"))
    return `the write of ${id} did not complete; there is nothing to roll back`;
  if (followUps.some((r) => r.op === "rollback")) return `${id} was already rolled back`;
  return undefined;
}
