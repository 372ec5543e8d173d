import type { AppendEffects } from "../../state/contract.js";
import type { ToolDef } from "../../tools/types.js";
import type { Receipt } from "../../types/receipt.js";
import type { Decision } from "../decide.js";
import { GovernanceError } from "../errors.js";
import { scanForInjection } from "../untrusted.js";
import { formatZodError } from "./admit.js";
import { draftReceipt, type ReceiptDraft } from "./receipt-draft.js";
import { type CallEnv, type CallRecord, failed, refused, type StageResult } from "./types.js";

export interface SealedOutput {
  output: Record<string, unknown>;
  text: string;
  appliedConstraints: Record<string, unknown>[];
  injections: string[];
}

/**
 * Stage 6a, seal the output: it must match the tool's declared outputSchema (a defect otherwise: withheld), then it is
 * redacted, scanned for prompt-injection text (Sentinel content is untrusted) and held to the result-size cap.
 */
export function sealOutput(
  tool: ToolDef,
  output: Record<string, unknown>,
  decision: Decision,
  env: CallEnv,
): StageResult<SealedOutput> {
  const checked = tool.output.safeParse(output);
  if (!checked.success)
    return failed(
      new GovernanceError(
        "tool_output_invalid",
        `${tool.op} returned a result that does not match its outputSchema (${formatZodError(checked.error)}); it was withheld`,
        "report this defect; the call may be retried",
      ),
    );
  const { value: redacted, count: redactions } = env.redactor.redact(output);
  const appliedConstraints: Record<string, unknown>[] = decision.constraints.map((c) => ({ ...c }));
  if (redactions > 0) appliedConstraints.push({ kind: "redaction_applied", count: redactions });
  const injections = tool.op.startsWith("governance.") ? [] : scanForInjection(redacted);
  const text = JSON.stringify(redacted);
  const maxBytes = decision.constraints.find((c) => c.kind === "max_result_bytes");
  const bytes = Buffer.byteLength(text);
  if (maxBytes?.kind === "max_result_bytes" && bytes > maxBytes.value)
    return refused(
      new GovernanceError(
        "budget_exceeded",
        `result is ${bytes} bytes, over the policy limit of ${maxBytes.value}`,
        "narrow the query (fewer columns or rows)",
      ),
    );
  return { ok: true, output: redacted as Record<string, unknown>, text, appliedConstraints, injections };
}

/**
 * Stage 6b, seal the receipt: the record is chained and signed into the receipt log, and the job's usage counted.
 * Fails closed: without a persisted receipt no result leaves the server.
 */
export async function writeReceipt(
  record: CallRecord,
  env: CallEnv,
): Promise<StageResult<{ receipt: Receipt; draft: ReceiptDraft }>> {
  const draft = draftReceipt(record, env);
  const claims = record.caller?.claims;
  // The job's usage counts in the same transaction as the receipt: one commit per call, and never one without the other.
  const ok = record.status === "ok";
  const effects: AppendEffects = claims
    ? {
        usage: {
          job: claims.job,
          rows: ok ? (draft.outcome.rows ?? 0) : 0,
          redactedPredicates: ok && (record.request?.kql?.lineage?.predicates.length ?? 0) > 0,
          at: new Date(env.now()).toISOString(),
          ...(record.reservedCall ? { reserved: true } : {}),
        },
        ...(ok && record.injections?.length
          ? { flags: { job: claims.job, flags: [...record.injections], at: draft.time } }
          : {}),
      }
    : {};
  let receipt: Receipt;
  try {
    receipt = await env.deps.receipts.append(draft, effects);
  } catch (e) {
    return failed(
      new GovernanceError(
        "receipt_persist_failed",
        `receipt could not be persisted: ${(e as Error).message}`,
        "check GSMCP_HOME (disk space, permissions); nothing was returned",
        undefined,
        { cause: e },
      ),
      { unsealed: true },
    );
  }
  return { ok: true, receipt, draft };
}
