// Prompt-injection signals in content that comes from Sentinel (incident titles, descriptions, comments, alert text,
// log rows). Matching never blocks reading: the content is returned as marked data, the job is flagged, and later
// calls in the job are LOGged so the SOC sees them. Patterns are conservative phrases seen in real injection attempts.

const PATTERNS: [name: string, re: RegExp][] = [
  [
    "ignore_instructions",
    /\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(previous|prior|above|earlier)\s+(instructions|prompts|rules|directions)/i,
  ],
  ["role_override", /(^|\n|\s)(system|assistant|developer)\s*:\s*(you|call|run|execute|close|disable|delete)/i],
  ["tool_directive", /\b(call|invoke|run|use)\s+(the\s+)?(tool\s+)?(sentinel|governance)_[a-z_]+/i],
  [
    "mass_action",
    /\b(close|delete|disable|resolve)\s+(all|every)\s+(incidents|alerts|rules|analytics rules|automation)/i,
  ],
  ["new_instructions", /\b(new|updated|real)\s+instructions\s*:/i],
  ["exfiltrate", /\b(send|post|upload|exfiltrate)\b.{0,40}\b(https?:\/\/|webhook|pastebin)/i],
  ["hidden_markup", /<\s*\/?\s*(system|instructions?|im_start|im_end)\s*>/i],
];

/** Names of injection patterns found anywhere in a JSON value's strings (deduplicated). */
export function scanForInjection(value: unknown): string[] {
  const hits = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.length < 12) return;
      const text = v.normalize("NFKC");
      for (const [name, re] of PATTERNS) if (re.test(text)) hits.add(name);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return [...hits];
}
