import type { AgentSecurityEvent } from "../types/agent-security-event.js";
import { type Receipt, receiptHash } from "./receipt.js";

export interface EventProblem {
  code: "event_receipt_missing" | "event_receipt_mismatch" | "event_unreadable";
  /** 1-based line of the events file. */
  line: number;
  message: string;
}

/**
 * Matches a copy of the AgentSecurityEvents (the SOC's, from Log Analytics, or the JSONL file) against the receipt
 * log: every event that names a receipt (ReceiptId + ReceiptHash) must find that receipt in the log with that hash,
 * recomputed from the receipt's body. A receipt cut from the log, or rewritten after its event reached the SOC, is
 * named with the event's line. Receipts without an event are only counted: under a fail-open policy events may be
 * missing for good reasons.
 */
export function verifyEventsAgainstLog(
  lines: string[],
  receipts: Receipt[],
): { problems: EventProblem[]; matched: number; receiptsWithoutEvent: number } {
  const byId = new Map(receipts.map((r) => [r.receipt_id, r]));
  const hashes = new Map<string, string>();
  const reported = new Set<string>();
  const problems: EventProblem[] = [];
  let matched = 0;
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    let e: Partial<AgentSecurityEvent>;
    try {
      e = JSON.parse(text) as Partial<AgentSecurityEvent>;
    } catch {
      problems.push({ code: "event_unreadable", line: i + 1, message: "not a JSON event" });
      return;
    }
    if (!e.ReceiptId || !e.ReceiptHash) return;
    const r = byId.get(e.ReceiptId);
    if (!r) {
      problems.push({
        code: "event_receipt_missing",
        line: i + 1,
        message: `${e.EventType ?? "event"} names receipt ${e.ReceiptId}, which is not in the log`,
      });
      return;
    }
    let hash = hashes.get(r.receipt_id);
    if (!hash) {
      hash = receiptHash(r);
      hashes.set(r.receipt_id, hash);
    }
    if (hash !== e.ReceiptHash) {
      problems.push({
        code: "event_receipt_mismatch",
        line: i + 1,
        message: `receipt ${e.ReceiptId} (seq ${r.seq}) hashes to ${hash}, but the event recorded ${e.ReceiptHash}: it changed after the event was sent`,
      });
      return;
    }
    reported.add(r.receipt_id);
    matched++;
  });
  return { problems, matched, receiptsWithoutEvent: receipts.filter((r) => !reported.has(r.receipt_id)).length };
}
