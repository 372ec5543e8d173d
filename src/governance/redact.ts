import { compileRegex, type Regex } from "../kql/regex.js";
import type { Redaction } from "../types/wpc.js";

// Redaction patterns run over attacker-influenced text (incident comments, alert descriptions, query output), so they
// run on RE2 (linear time): no input can make a pattern backtrack for seconds.

export const BUILTIN_PATTERNS: Record<string, string> = {
  email: String.raw`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`,
  upn: String.raw`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`,
  ipv4: String.raw`\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`,
  ipv6: String.raw`\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b`,
  // Bearer tokens, JWTs, Azure storage keys / SAS signatures, generic key=value secrets, PEM private keys.
  secrets: String.raw`(?i)(?:eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})|(?:Bearer\s+[A-Za-z0-9._~+/-]{16,}=*)|(?:AccountKey=[A-Za-z0-9+/=]{20,})|(?:sig=[A-Za-z0-9%+/=]{20,})|(?:(?:password|passwd|pwd|secret|api[_-]?key|client[_-]?secret)\s*[:=]\s*["']?[^\s"',;]{6,})|(?:-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)`,
};

/**
 * For each builtin, a text every match must contain, as a plain JavaScript test (literals and classes, no nested
 * quantifiers: linear). A string without it cannot match, so the RE2 scan is skipped; most strings need no scan.
 */
const BUILTIN_HINTS: Record<string, RegExp> = {
  email: /@/,
  upn: /@/,
  ipv4: /\d\./,
  ipv6: /[0-9a-fA-F]:/,
  secrets: /eyj|bearer|accountkey=|sig=|passw|pwd|secret|api[_-]?key|-----begin/i,
};

/** A compiled redactor for one policy: replaces matches with «redacted:kind». */
export class Redactor {
  private readonly patterns: [name: string, re: Regex, hint?: RegExp][];
  private readonly fields: Set<string>;

  constructor(redaction: Redaction | undefined) {
    this.patterns = [
      ...(redaction?.builtin ?? []).map(
        (b) => [b, compileRegex(BUILTIN_PATTERNS[b]!), BUILTIN_HINTS[b]] as [string, Regex, RegExp | undefined],
      ),
      ...(redaction?.patterns ?? []).map((p) => [p.name, compileRegex(p.regex)] as [string, Regex]),
    ];
    this.fields = new Set((redaction?.fields ?? []).map((f) => f.toLowerCase()));
  }

  get active(): boolean {
    return this.patterns.length > 0 || this.fields.size > 0;
  }

  /** Returns a redacted deep copy and how many replacements were made. */
  redact<T>(value: T): { value: T; count: number } {
    let count = 0;
    const walk = (v: unknown, key?: string): unknown => {
      if (key !== undefined && this.fields.has(key.toLowerCase()) && v !== null && v !== undefined) {
        count++;
        return "«redacted:field»";
      }
      if (typeof v === "string") {
        let s = v;
        for (const [name, re, hint] of this.patterns) {
          if (hint && !hint.test(s)) continue;
          s = re.matcher(s).replaceAll(() => {
            count++;
            return `«redacted:${name}»`;
          });
        }
        return s;
      }
      if (Array.isArray(v)) return v.map((x) => walk(x));
      if (v && typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
        return out;
      }
      return v;
    };
    const value2 = this.active ? (walk(value) as T) : value;
    return { value: value2, count };
  }
}
