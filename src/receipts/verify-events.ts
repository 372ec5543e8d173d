import { approvalHash } from "../governance/approval-events.js";
import type { AgentSecurityEvent } from "../types/agent-security-event.js";
import type { Approval } from "../types/approval.js";
import { type Receipt, receiptHash } from "./receipt.js";

export type EventProblemCode =
  | "event_unreadable"
  | "event_receipt_missing"
  | "event_receipt_mismatch"
  /** A witnessed decision names an approval the log (or bundle) does not hold. */
  | "approval_decision_missing"
  /** The held approval is not the one whose decision was witnessed (re-signed, re-bound, decision changed). */
  | "approval_decision_mismatch"
  /** A receipt used an approval whose decision was never witnessed. */
  | "approval_unwitnessed"
  /** The SOC saw a call run with an approval, but no receipt in the log (or bundle) used it. */
  | "approval_use_missing";

export interface EventProblem {
  code: EventProblemCode;
  /** 1-based line of the events file (0: the problem is a receipt's, not an event's). */
  line: number;
  message: string;
}

export interface EventCheckReport {
  problems: EventProblem[];
  /** Events whose receipt was found with the recorded hash. */
  matched: number;
  receiptsWithoutEvent: number;
  /** Witnessed approval decisions checked against the approvals and the receipts. */
  decisions: number;
  /** Approvals approved (witnessed) that no receipt used and no event reports used: never run, or hidden. */
  unused: string[];
  /** Events left out by the scope (another job, or newer than what is checked). */
  outOfScope: number;
}

export interface EventCheckScope {
  /** Only events of this job (a proof bundle). */
  job?: string;
  /** Only events generated at or before this time (the bundle's export time). */
  until?: string;
}

interface Line {
  line: number;
  e: Partial<AgentSecurityEvent>;
}

/**
 * Events that report a call run with its approval (the write was executed, whatever Sentinel answered). A refused
 * call, and one cancelled before it ran (a write is cancellable only before execute), did not use it.
 */
function reportsUse(e: Partial<AgentSecurityEvent>): boolean {
  const result = String(e.ToolResult ?? "");
  return (
    e.EventType === "ToolInvocation" &&
    !!e.ApprovalId &&
    !result.startsWith("refused") &&
    !result.startsWith("cancelled")
  );
}

/**
 * Matches a copy of the AgentSecurityEvents (the SOC's, from Log Analytics, or the JSONL file) against the receipt log
 * or a bundle, in both directions:
 * - every event that names a receipt (ReceiptId + ReceiptHash) must find it with that hash, recomputed from its body:
 *   a receipt cut from the log, or rewritten after its event reached the SOC, is named with the event's line;
 * - every witnessed ApprovalDecision must find its approval, signed as witnessed; every receipt that used an approval
 *   must find its witnessed decision; and an approval the SOC saw used must be used by a receipt — so a write whose
 *   receipts were removed (even with the chain re-signed) is named by its approval.
 * Receipts without an event are only counted: under a fail-open policy events may be missing for good reasons.
 */
export function verifyEventsAgainstLog(
  lines: string[],
  receipts: Receipt[],
  approvals: Approval[] = [],
  scope: EventCheckScope = {},
): EventCheckReport {
  const problems: EventProblem[] = [];
  const events: Line[] = [];
  let outOfScope = 0;
  const until = scope.until ? Date.parse(scope.until) : undefined;
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    let e: Partial<AgentSecurityEvent>;
    try {
      e = JSON.parse(text) as Partial<AgentSecurityEvent>;
    } catch {
      problems.push({ code: "event_unreadable", line: i + 1, message: "not a JSON event" });
      return;
    }
    if (typeof e !== "object" || e === null) {
      problems.push({ code: "event_unreadable", line: i + 1, message: "not a JSON event" });
      return;
    }
    const late = until !== undefined && e.TimeGenerated !== undefined && Date.parse(e.TimeGenerated) > until;
    if ((scope.job && e.JobId !== scope.job) || late) {
      outOfScope++;
      return;
    }
    events.push({ line: i + 1, e });
  });

  const { matched, reported } = matchReceipts(events, receipts, problems);
  const approvalCheck = crossCheckApprovals(events, receipts, approvals, problems);
  return {
    problems,
    matched,
    receiptsWithoutEvent: receipts.filter((r) => !reported.has(r.receipt_id)).length,
    ...approvalCheck,
    outOfScope,
  };
}

function matchReceipts(
  events: Line[],
  receipts: Receipt[],
  problems: EventProblem[],
): { matched: number; reported: Set<string> } {
  const byId = new Map(receipts.map((r) => [r.receipt_id, r]));
  const hashes = new Map<string, string>();
  const reported = new Set<string>();
  let matched = 0;
  for (const { line, e } of events) {
    if (!e.ReceiptId || !e.ReceiptHash) continue;
    const r = byId.get(e.ReceiptId);
    if (!r) {
      problems.push({
        code: "event_receipt_missing",
        line,
        message: `${e.EventType ?? "event"} names receipt ${e.ReceiptId}, which is not in the log`,
      });
      continue;
    }
    let hash = hashes.get(r.receipt_id);
    if (!hash) {
      hash = receiptHash(r);
      hashes.set(r.receipt_id, hash);
    }
    if (hash !== e.ReceiptHash) {
      problems.push({
        code: "event_receipt_mismatch",
        line,
        message: `receipt ${e.ReceiptId} (seq ${r.seq}) hashes to ${hash}, but the event recorded ${e.ReceiptHash}: it changed after the event was sent`,
      });
      continue;
    }
    reported.add(r.receipt_id);
    matched++;
  }
  return { matched, reported };
}

function crossCheckApprovals(
  events: Line[],
  receipts: Receipt[],
  approvals: Approval[],
  problems: EventProblem[],
): { decisions: number; unused: string[] } {
  const held = new Map(approvals.map((a) => [a.approval_id, a]));
  // An approval may have more than one witnessed decision (two deciders raced; the store kept one): any may match.
  const decided = new Map<string, Line[]>();
  const usedByEvent = new Map<string, Line>();
  for (const l of events) {
    if (l.e.EventType === "ApprovalDecision" && l.e.ApprovalId)
      decided.set(l.e.ApprovalId, [...(decided.get(l.e.ApprovalId) ?? []), l]);
    else if (reportsUse(l.e)) usedByEvent.set(l.e.ApprovalId!, usedByEvent.get(l.e.ApprovalId!) ?? l);
  }
  // Consumption is recorded in the receipt that used the approval (its intent), never by editing the approval.
  const usedByReceipt = new Map<string, Receipt>();
  for (const r of receipts) if (r.approval_id && r.phase === "intent") usedByReceipt.set(r.approval_id, r);

  // Witnessed decision → the approval held, as witnessed.
  const paramsOf = (e: Partial<AgentSecurityEvent>) =>
    (e.ToolParameters ?? {}) as { approval_hash?: string; decision?: string };
  for (const [id, lines] of decided) {
    const a = held.get(id);
    const { line, e } = lines[0]!;
    const params = paramsOf(e);
    if (!a) {
      problems.push({
        code: "approval_decision_missing",
        line,
        message: `approval ${id} (${params.decision ?? "decided"}, job ${e.JobId}, ${e.Action}) was decided, but the log holds no such approval: it was removed`,
      });
      continue;
    }
    if (!lines.some((l) => paramsOf(l.e).approval_hash === approvalHash(a)))
      problems.push({
        code: "approval_decision_mismatch",
        line,
        message: `approval ${id} hashes to ${approvalHash(a)}, the witnessed decision to ${params.approval_hash}: it was changed after the decision (now ${a.decision} by ${a.approver ?? "nobody"})`,
      });
  }
  // Receipt → witnessed decision.
  for (const [id, r] of usedByReceipt) {
    if (decided.has(id)) continue;
    problems.push({
      code: "approval_unwitnessed",
      line: 0,
      message: `receipt seq ${r.seq} (${r.receipt_id}) ran ${r.op} with approval ${id}, whose decision is not among the events`,
    });
  }
  // Witnessed use → the receipt that used it.
  for (const [id, { line, e }] of usedByEvent) {
    if (usedByReceipt.has(id)) continue;
    problems.push({
      code: "approval_use_missing",
      line,
      message: `${e.Action} ran with approval ${id} (event receipt ${e.ReceiptId ?? "-"}), but no receipt in the log used that approval: the write's receipts were removed`,
    });
  }
  const unused = [...decided]
    .filter(
      ([id, lines]) =>
        lines.some((l) => paramsOf(l.e).decision === "approved") && !usedByReceipt.has(id) && !usedByEvent.has(id),
    )
    .map(([id]) => id);
  return { decisions: decided.size, unused };
}
