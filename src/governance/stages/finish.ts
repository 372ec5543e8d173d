import { GovernanceError } from "../errors.js";
import type { CallTelemetry } from "./emit.js";
import { recordDecision } from "./receipt-draft.js";
import { errorResult, okResult } from "./result.js";
import { writeReceipt } from "./seal.js";
import type { CallEnv, CallRecord, Refusal, ToolCallResult } from "./types.js";

/** A refusal from any stage, folded into the call's record (status, error, the decision it carries). */
export function withRefusal(record: CallRecord, r: Refusal): CallRecord {
  const { approvalId: _cited, approvalClientAsserted: _ca, approvedBy: _by, changeTicket: _t, ...uncited } = record;
  return {
    ...(r.withoutApproval ? uncited : record),
    status: r.status,
    error: r.error,
    ...(r.decision ? { decision: r.decision } : {}),
    ...(r.request ? { request: r.request } : {}),
    ...(r.approvalId ? { approvalId: r.approvalId } : {}),
    ...(r.intentReceiptId ? { phase: "outcome" as const, intentReceiptId: r.intentReceiptId } : {}),
  };
}

/**
 * Seal and emit, then answer: the receipt is written (fail closed), the events go out (fail closed when the policy
 * says so), and only then does the result — or the refusal — leave the server.
 */
export async function finishCall(record: CallRecord, env: CallEnv, telemetry: CallTelemetry): Promise<ToolCallResult> {
  const sealed = await writeReceipt(record, env);
  if (!sealed.ok) return errorResult(sealed.error);
  const decision = recordDecision(record);
  const emitted = await telemetry.emit(
    record,
    sealed.draft,
    { id: sealed.receipt.receipt_id, hash: env.deps.receipts.hashOf(sealed.receipt) },
    decision,
  );
  if (!emitted.ok) return errorResult(emitted.error);
  const id = sealed.receipt.receipt_id;
  if (record.status === "ok" && record.output)
    return okResult(record.output, record.text ?? JSON.stringify(record.output), record.injections ?? [], id, decision);
  return errorResult(record.error ?? new GovernanceError("internal_error", "call failed"), id, decision);
}
