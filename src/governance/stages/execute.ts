import { ApprovalAlreadyUsed } from "../../state/contract.js";
import type { CallFacts, ToolContext, ToolDef } from "../../tools/types.js";
import type { Receipt } from "../../types/receipt.js";
import { toGovernanceError } from "../codes.js";
import type { Decision, DecisionRequest } from "../decide.js";
import { GovernanceError } from "../errors.js";
import { cancelledRefusal } from "./cancel.js";
import { draftReceipt } from "./receipt-draft.js";
import {
  type CallEnv,
  type Caller,
  type CallRecord,
  failed,
  type ProgressSink,
  refused,
  type StageResult,
} from "./types.js";

export interface ExecuteInput {
  tool: ToolDef;
  args: Record<string, unknown>;
  caller: Caller;
  decision: Decision;
  request: DecisionRequest;
  facts: CallFacts;
  /** The call so far, for the intent receipt of a write. */
  record: CallRecord;
  /** What the governance_* tools read about their caller. */
  governance: ToolContext["governance"];
  /** The call's cancellation: handed to a read's backend work only (a write, once executing, completes). */
  signal?: AbortSignal;
  progress?: ProgressSink;
}

/**
 * Stage 5, execute: the handler runs on the backend with the decision's constraints. A write is two-phase: the state
 * it will change is captured, the real arguments and prior state are stored for rollback, the intent receipt (redacted
 * forms) is persisted and the approval consumed — only then does the write run. Without the intent nothing executes.
 * A read gets the call's abort signal (its query stops when the client cancels); a write never does.
 */
export async function execute(
  input: ExecuteInput,
  env: CallEnv,
): Promise<StageResult<{ output: Record<string, unknown>; intent?: Receipt }>> {
  const { tool, args, decision, request, facts, record } = input;
  const read = tool.effects.readOnly;
  const signal = read ? input.signal : undefined;
  let intent: Receipt | undefined;
  const after = () => (intent ? { intentReceiptId: intent.receipt_id } : {});
  try {
    const ctx: ToolContext = {
      backend: await env.deps.backend(record.workspace?.name),
      decision,
      facts,
      ...constraintsOf(decision),
      ...(request.kql ? { kql: request.kql } : {}),
      ...(input.governance ? { governance: input.governance } : {}),
      ...(signal ? { signal } : {}),
      ...(input.progress ? { progress: input.progress } : {}),
    };
    if (!tool.effects.readOnly) {
      const prior = tool.capture ? await tool.capture(args, ctx) : undefined;
      ctx.prior = prior;
      const written = await writeIntent(record, tool, args, prior, env);
      if (!written.ok)
        return written.error.code === "approval_invalid"
          ? { ...written, decision: { ...decision, effect: "BLOCK" } }
          : written;
      intent = written.intent;
    }
    return { ok: true, output: (await tool.run(args, ctx)) as Record<string, unknown>, ...(intent ? { intent } : {}) };
  } catch (e) {
    // A read stopped by its cancellation fails however the backend words it (aborted request, terminated worker).
    if (signal?.aborted) return cancelledRefusal(signal, "while running");
    const err = toGovernanceError(e, "backend_error");
    // A cancellation that did not come from this call (e.g. the workspace shutting down) is a failure like any other.
    return failed(
      err.code === "cancelled"
        ? new GovernanceError("backend_error", err.message, err.fix, err.details, { cause: e })
        : err,
      after(),
    );
  }
}

function constraintsOf(decision: Decision): Pick<ToolContext, "maxRows" | "timespan"> {
  const out: Pick<ToolContext, "maxRows" | "timespan"> = {};
  for (const c of decision.constraints) {
    if (c.kind === "max_rows") out.maxRows = c.value;
    if (c.kind === "timespan") out.timespan = c.value;
  }
  return out;
}

/**
 * The intent of a write, in one transaction: the approval consumed (single use, also against other processes on the
 * same store), the real arguments and prior state stored for rollback, the intent receipt (redacted forms) appended.
 * Of concurrent identical approved writes exactly one gets an intent; the others are refused, and their receipts do
 * not cite the approval (`withoutApproval`), so the job's proof bundle shows one use.
 */
async function writeIntent(
  record: CallRecord,
  tool: ToolDef,
  args: Record<string, unknown>,
  prior: unknown,
  env: CallEnv,
): Promise<StageResult<{ intent: Receipt }>> {
  const { receipts } = env.deps;
  const draft = draftReceipt(
    {
      ...record,
      status: "pending",
      phase: "intent",
      rollback: {
        posture: tool.rollback.posture,
        description: tool.rollback.description,
        ...(prior !== undefined ? { prior_state: env.redactor.redact(prior).value } : {}),
      },
    },
    env,
  );
  try {
    const intent = await receipts.append(draft, {
      ...(record.approvalId ? { consumeApproval: record.approvalId } : {}),
      rollbackState: { args, prior },
    });
    return { ok: true, intent };
  } catch (e) {
    if (e instanceof ApprovalAlreadyUsed)
      return refused(
        new GovernanceError(
          "approval_invalid",
          `approval ${record.approvalId} was already used by another call; nothing was executed`,
          "each approval authorizes one call; request a new one",
        ),
        { withoutApproval: true },
      );
    return failed(
      new GovernanceError(
        "receipt_persist_failed",
        `intent receipt could not be persisted, nothing was executed: ${(e as Error).message}`,
        "check GSMCP_HOME (disk space, permissions)",
        undefined,
        { cause: e },
      ),
      { unsealed: true },
    );
  }
}
