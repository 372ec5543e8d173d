// Prompt-injection signals in content that comes from Sentinel (incident titles, descriptions, comments, alert text,
// log rows, TI descriptions). The scanner only flags: the content is returned as marked data, the job is flagged and
// later calls in the job are LOGged so the SOC sees them. It is a tripwire, not the boundary — what an agent may do is
// decided by the policy, the token's scope and approvals, whatever any text says.
//
// How a string is scored (src/governance/injection/): folded (NFKC, case, diacritics, zero-width and bidi controls,
// Cyrillic/Greek look-alikes, leetspeak inside words), split into words with spacing tricks undone (s p a c e d,
// split w-ords, gluedwords, snake_case), filler words dropped, then weighted rules over word classes in several
// languages (override of earlier instructions, role reassignment, chat-template markers, addressing the AI, tool
// actions, exfiltration, secrecy, encoded payloads, prompt leaks, claims of authority) are summed per window of words
// and compared with a threshold. See docs/policies.md for the measured recall and false-positive rate.
import { scoreText } from "./injection/score.js";

/** Strings shorter than this carry no instruction worth flagging (and are most of a result: ids, times, enums). */
const MIN_LENGTH = 12;
/**
 * Bounded work per string: a string longer than HEAD + TAIL characters is scanned on its first HEAD and its last TAIL
 * characters only (an injection buried in the middle of a 320K-character value is not seen). Every scan is linear in
 * what it reads, so a whole result costs time linear in its size.
 */
export const SCAN_HEAD_CHARS = 256 * 1024;
export const SCAN_TAIL_CHARS = 64 * 1024;

/** The part of a string the scanner reads (see SCAN_HEAD_CHARS). */
export function scannedPart(s: string): string {
  return s.length <= SCAN_HEAD_CHARS + SCAN_TAIL_CHARS
    ? s
    : `${s.slice(0, SCAN_HEAD_CHARS)}\n${s.slice(s.length - SCAN_TAIL_CHARS)}`;
}

/** Names of the injection signals found in a JSON value's strings (deduplicated); empty when clean. */
export function scanForInjection(value: unknown): string[] {
  const hits = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.length < MIN_LENGTH) return;
      for (const s of scoreText(scannedPart(v)).signals) hits.add(s);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return [...hits];
}
