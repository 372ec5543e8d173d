import { GovernanceError } from "../errors.js";
import type { Refusal } from "./types.js";

// Cancellation (MCP notifications/cancelled) is checked at every stage boundary and reaches the backend only where
// stopping is safe: a read's query is aborted (local: its worker terminated; Azure: the request aborted through the
// SDK's abortSignal); a write is cancellable only until its execute stage begins — from then on it completes and its
// receipts say what happened. Whatever the moment, the call is sealed like every other: one receipt (two for an
// executed write), events, and the reservation it took counted once. Nothing here decides; it only names the stop.

/** Where a cancellation took effect, as the receipt's message says it. */
export type CancelPoint =
  | "before admission"
  | "before the decision"
  | "after the decision"
  | "before the approval gate"
  | "awaiting approval"
  | "before execution"
  | "while running"
  | "after running";

/** The refusal of a call the client cancelled at `where`; `extra` keeps what the record must cite (approval, intent). */
export function cancelledRefusal(
  signal: AbortSignal | undefined,
  where: CancelPoint,
  extra: Partial<Omit<Refusal, "ok" | "error" | "status">> = {},
): Refusal {
  const what =
    where === "while running"
      ? "its backend work was stopped and nothing was returned"
      : where === "after running"
        ? "the read had finished; its result was discarded, not returned"
        : "nothing was executed";
  return {
    ok: false,
    status: "cancelled",
    error: new GovernanceError("cancelled", `the client cancelled the call ${where}${reasonOf(signal)}; ${what}`),
    ...extra,
  };
}

/** The refusal when `signal` has fired, else undefined: the check at a stage boundary. */
export function cancelledAt(
  signal: AbortSignal | undefined,
  where: CancelPoint,
  extra?: Partial<Omit<Refusal, "ok" | "error" | "status">>,
): Refusal | undefined {
  return signal?.aborted ? cancelledRefusal(signal, where, extra) : undefined;
}

/** The client's stated reason (notifications/cancelled params.reason): untrusted text, quoted and cut to 200 chars. */
function reasonOf(signal: AbortSignal | undefined): string {
  const r = signal?.reason;
  if (typeof r !== "string" || !r.trim()) return "";
  return ` (reason given: ${JSON.stringify(r.replace(/\p{Cc}/gu, " ").slice(0, 200))})`;
}
