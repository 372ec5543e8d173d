import { type KeyObject, timingSafeEqual } from "node:crypto";
import { publicKeyFromPem, type SigningKey } from "../crypto/keys.js";
import { type ProofBundle, receiptLeaf } from "../receipts/bundle.js";
import { merkleRoot } from "../receipts/merkle.js";
import type { Receipt } from "../receipts/receipt.js";
import { signTreeHead, type TreeHead, verifyTreeHead } from "../receipts/tree-head.js";
import { parseBundle, type VerifyReport } from "../receipts/verify-bundle.js";

// Forensics of one job for a Sentinel incident comment (the collect-forensics playbook, GET /admin/jobs/{job}/forensics).
//
// What the hash covers (the digest, format gsmcp-forensics/v1): the RFC 9162 Merkle root over the job's receipts
// 1..tree_size in log order, each leaf SHA-256(0x00 || JCS(receipt)) — exactly `tree_head.root_hash` of a proof bundle
// exported when the job had tree_size receipts. Receipts are append-only and each job's receipts are chained, so a
// bundle exported later holds the same receipts as its first tree_size: recomputing the root over them gives the same
// value. The comment also carries the receipt signer's signature over {job, tree_size, root_hash, timestamp} (a tree
// head, JCS-signed like the bundle's own), so the comment verifies with the public key alone, whoever posted it.
//
// Everything else in the comment (the summary figures, the timeline rows) is a pure function of those receipts and of
// the bundle verification, shown for the analyst; only the digest line is the checkable claim.
//
// Attacker text (job and agent names, operation arguments, refusal messages) is rendered so that neither HTML nor
// Markdown can interpret it: every character other than ASCII letters, digits and space becomes a numeric character
// reference, so the comment source holds no tag, link, emphasis, table pipe or bare URL from attacker text. Values are
// clipped before escaping and rows are dropped whole, so truncation never cuts a character reference or a tag.

export const FORENSICS_FORMAT = "gsmcp-forensics/v1";
/**
 * The longest incident comment this server writes. The SecurityInsights OpenAPI spec sets no maxLength on
 * IncidentComment `properties.message` (checked: 2022-09-01-preview and stable 2024-09-01 Incidents.json); the
 * embedded workspace and the incidents.comments.add tool enforce 30,000 characters, the limit Sentinel applies.
 */
export const SENTINEL_COMMENT_MAX = 30_000;
/** The smallest comment budget a caller may ask for: the digest line and headings always fit. */
export const COMMENT_MIN = 4_000;

export interface ForensicsDigest {
  format: typeof FORENSICS_FORMAT;
  job: string;
  tree_size: number;
  /** "sha256:<hex>": RFC 9162 Merkle root over the job's receipts 1..tree_size, leaves SHA-256(0x00 || JCS(receipt)). */
  root_hash: string;
  /** The receipt_id of receipt number tree_size of the job. */
  last_receipt_id: string;
  /** {job, tree_size, root_hash, timestamp} signed by the receipt signer (verify with the bundle's receipt_signers key). */
  tree_head: TreeHead;
}

/** The Merkle root ("sha256:<hex>") over the first `n` of the job's receipts. */
export function receiptsRoot(receipts: readonly Receipt[], n = receipts.length): string {
  return `sha256:${merkleRoot(receipts.slice(0, n).map(receiptLeaf)).toString("hex")}`;
}

export function makeDigest(
  job: string,
  receipts: readonly Receipt[],
  treeSize: number,
  key: SigningKey,
  now: Date,
): ForensicsDigest {
  const root = receiptsRoot(receipts, treeSize);
  return {
    format: FORENSICS_FORMAT,
    job,
    tree_size: treeSize,
    root_hash: root,
    last_receipt_id: receipts[treeSize - 1]?.receipt_id ?? "",
    tree_head: signTreeHead({ job, tree_size: treeSize, root_hash: root, timestamp: now.toISOString() }, key),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Summary (a pure function of receipts 1..tree_size)

export interface ProofSummary {
  receipts: number;
  first_time?: string;
  last_time?: string;
  agents: string[];
  policies: string[];
  effects: Record<string, number>;
  outcomes: Record<string, number>;
  /** Refusal and error codes, most frequent first (at most 10). */
  refusals: { code: string; count: number }[];
  /** Operations, most frequent first (at most 10). */
  ops: { op: string; count: number }[];
  /** Writes that ran (an intent receipt whose outcome receipt is ok). */
  writes: number;
  /** Distinct approvals cited by receipts. */
  approvals: number;
}

const top = (m: Map<string, number>, n: number) =>
  [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export function summarize(receipts: readonly Receipt[]): ProofSummary {
  const effects = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const refusals = new Map<string, number>();
  const ops = new Map<string, number>();
  const agents = new Set<string>();
  const policies = new Set<string>();
  const approvals = new Set<string>();
  const okOutcomes = new Set<string>();
  for (const r of receipts) {
    bump(effects, r.decision.effect);
    bump(outcomes, r.outcome.status);
    bump(ops, r.op);
    if (r.outcome.error) bump(refusals, r.outcome.error.code);
    agents.add(r.agent);
    policies.add(r.policy_hash);
    if (r.approval_id) approvals.add(r.approval_id);
    if (r.intent_receipt_id && r.outcome.status === "ok") okOutcomes.add(r.intent_receipt_id);
  }
  return {
    receipts: receipts.length,
    ...(receipts[0] ? { first_time: receipts[0].time } : {}),
    ...(receipts.length ? { last_time: receipts.at(-1)!.time } : {}),
    agents: [...agents].slice(0, 10),
    policies: [...policies].slice(0, 10),
    effects: Object.fromEntries(effects),
    outcomes: Object.fromEntries(outcomes),
    refusals: top(refusals, 10).map(([code, count]) => ({ code, count })),
    ops: top(ops, 10).map(([op, count]) => ({ op, count })),
    writes: receipts.filter((r) => r.phase === "intent" && okOutcomes.has(r.receipt_id)).length,
    approvals: approvals.size,
  };
}

export interface PulseSummary {
  /** "not_verified": the bundle was too large to verify inside the server (see the operator endpoint's limit). */
  verdict: VerifyReport["verdict"] | "not_verified";
  trust: VerifyReport["trust"] | "none";
  receipts: number;
  steps: { step: string; ok: boolean; problems: string[] }[];
}

/** The verdict when the bundle is not verified in the server: the comment says so and how to verify it. */
export function notVerifiedPulse(receipts: number, limit: number): PulseSummary {
  return {
    verdict: "not_verified",
    trust: "none",
    receipts,
    steps: [{ step: `not run in the server (over ${limit} receipts): gsmcp proof verify`, ok: false, problems: [] }],
  };
}

/** The Trust Pulse's verification part, compact: each step, ok or not, and its problem codes (at most 5 each). */
export function pulseSummary(v: VerifyReport): PulseSummary {
  return {
    verdict: v.verdict,
    trust: v.trust,
    receipts: v.receipts,
    steps: v.steps.map((s) => ({
      step: s.step,
      ok: s.ok,
      problems: [...new Set(s.problems.map((p) => p.code))].slice(0, 5),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Escaping

/** Characters shown as U+FFFD: controls, bidi overrides and isolates, zero-width characters, noncharacters. */
function invisible(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x061c ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2069) ||
    cp === 0xfeff ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe
  );
}

/**
 * What a value looks like in the comment, before escaping: at most `max` code points (then "…"), whitespace controls
 * as spaces, other invisible or direction-changing characters as U+FFFD. `escapeText(displayText(s))` is what the
 * comment holds; decoding its character references gives `displayText(s)` back.
 */
export function displayText(s: unknown, max = 200): string {
  const cps = Array.from(String(s ?? ""));
  const clipped = cps.length > max ? [...cps.slice(0, max), "…"] : cps;
  return clipped
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return " ";
      return invisible(cp) ? "\ufffd" : ch;
    })
    .join("");
}

/** ASCII letters, digits and space as they are; every other code point as a decimal character reference. */
export function escapeText(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x20)
      out += ch;
    else out += `&#${invisible(cp) ? 0xfffd : cp};`;
  }
  return out;
}

/** An attacker-influenced value for the comment: clipped, made visible, escaped. */
export const esc = (s: unknown, max = 200): string => escapeText(displayText(s, max));

/** The tags the comment template uses; nothing else in a comment is markup. */
export const COMMENT_TAGS = ["p", "b", "code", "br", "table", "tr", "th", "td"] as const;
/** A whole comment: template tags, ASCII letters, digits, spaces and decimal character references, nothing else. */
export const COMMENT_GRAMMAR = new RegExp(`^(?:</?(?:${COMMENT_TAGS.join("|")})>|[A-Za-z0-9 ]|&#[0-9]{1,7};)*$`);

/** The comment's text as the portal shows it: tags dropped (as spaces), character references decoded. */
export function commentText(message: string): string {
  return (
    message
      .replace(/<\/?[a-z]+>/g, " ")
      // One pass: a decoded "&" never starts another reference.
      .replace(/&(#[0-9]{1,7}|amp|lt|gt|quot);/g, (_m, ref: string) => {
        if (ref[0] !== "#") return ({ amp: "&", lt: "<", gt: ">", quot: '"' } as Record<string, string>)[ref]!;
        const cp = Number(ref.slice(1));
        return cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : "\ufffd";
      })
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// The comment

export interface CommentInput {
  digest: ForensicsDigest;
  summary: ProofSummary;
  pulse: PulseSummary;
  /** The job's receipts 1..tree_size (the timeline shows the latest that fit). */
  receipts: readonly Receipt[];
  /** Also the current size of the job, when the digest is of an earlier size. */
  current?: { tree_size: number; root_hash: string };
}

export interface RenderedComment {
  message: string;
  chars: number;
  max_chars: number;
  /** Timeline rows left out to fit (0 when every receipt is shown). */
  rows_omitted: number;
  /** Sections left out to fit. */
  sections_omitted: string[];
  truncated: boolean;
}

/** The one machine-readable line of the comment (before escaping). `parseDigestLine` reads it back. */
export function digestLine(d: ForensicsDigest): string {
  return `${FORENSICS_FORMAT} job=${d.job} size=${d.tree_size} root=${d.root_hash} at=${d.tree_head.timestamp} key=${d.tree_head.signature.keyid} sig=${d.tree_head.signature.sig}`;
}

export interface ParsedDigest {
  job: string;
  tree_size: number;
  root_hash: string;
  timestamp: string;
  keyid: string;
  sig: string;
}

const DIGEST_LINE =
  /gsmcp-forensics\/v1 job=([A-Za-z0-9][A-Za-z0-9._:-]{0,127}) size=([0-9]{1,10}) root=(sha256:[0-9a-f]{64}) at=([0-9TZ:.+-]{10,40}) key=([A-Za-z0-9._:+/=-]{1,200}) sig=([A-Za-z0-9+/=_-]{16,200})/;

/**
 * The digest claimed by a comment: from its raw message (character references) or the text the portal shows.
 * Undefined when there is no digest line.
 */
export function parseDigestLine(comment: string): ParsedDigest | undefined {
  const m = DIGEST_LINE.exec(commentText(comment));
  if (!m) return undefined;
  return { job: m[1]!, tree_size: Number(m[2]), root_hash: m[3]!, timestamp: m[4]!, keyid: m[5]!, sig: m[6]! };
}

const p = (inner: string) => `<p>${inner}</p>`;
const t = (s: string) => escapeText(s);
const counts = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, n]) => `${esc(k, 40)} ${n}`)
    .join(t(", "));

function timelineRow(r: Receipt): string {
  const status = `${r.outcome.status}${r.outcome.error ? `: ${r.outcome.error.code}` : ""}`;
  let args = "";
  try {
    args = JSON.stringify(r.args_redacted) ?? "";
  } catch {
    args = "(unreadable)";
  }
  return `<tr><td>${r.seq}</td><td>${esc(r.time, 40)}</td><td>${esc(r.op, 80)}</td><td>${esc(r.phase, 20)}</td><td>${esc(r.decision.effect, 20)}</td><td>${esc(status, 80)}</td><td><code>${esc(args, 160)}</code></td></tr>`;
}

/**
 * The incident comment: heading, the checkable digest line, verification verdict, summary, verification steps and the
 * latest timeline rows, within `maxChars` (SENTINEL_COMMENT_MAX by default). Sections that do not fit are left out
 * (named in a marker); timeline rows are dropped oldest first, whole, with a marker saying how many.
 */
export function renderComment(c: CommentInput, maxChars = SENTINEL_COMMENT_MAX): RenderedComment {
  if (!(Number.isInteger(maxChars) && maxChars >= COMMENT_MIN && maxChars <= SENTINEL_COMMENT_MAX))
    throw new RangeError(`maxChars must be an integer from ${COMMENT_MIN} to ${SENTINEL_COMMENT_MAX}`);
  const { digest: d, summary: s, pulse: v } = c;
  const head = [
    p(`<b>${t("governed-sentinel-mcp forensics")}</b>${t(" for job ")}<code>${esc(d.job, 128)}</code>`),
    p(`${t("Digest (check with the receipt signer key or a proof bundle): ")}<code>${esc(digestLine(d), 600)}</code>`),
  ];
  const verdict = p(
    `${t("Proof bundle verification: ")}<b>${esc(v.verdict.toUpperCase(), 20)}</b>${t(` (${v.trust}), ${d.tree_size} receipts, Merkle root `)}<code>${t(d.root_hash)}</code>${
      c.current && c.current.tree_size !== d.tree_size
        ? t(` (the job now has ${c.current.tree_size} receipts, root ${c.current.root_hash})`)
        : ""
    }`,
  );
  const summary = p(
    [
      `${t("Agents: ")}${s.agents.map((a) => `<code>${esc(a, 64)}</code>`).join(t(", ")) || t("none")}`,
      `${t("Decisions: ")}${counts(s.effects) || t("none")}`,
      `${t("Outcomes: ")}${counts(s.outcomes) || t("none")}`,
      `${t("Refusals: ")}${s.refusals.map((x) => `${esc(x.code, 40)} ${x.count}`).join(t(", ")) || t("none")}`,
      `${t("Operations: ")}${s.ops.map((x) => `${esc(x.op, 60)} ${x.count}`).join(t(", ")) || t("none")}`,
      t(
        `Writes executed: ${s.writes}; approvals cited: ${s.approvals}; first ${s.first_time ?? "-"}; last ${s.last_time ?? "-"}`,
      ),
    ].join("<br>"),
  );
  const steps = p(
    `${t("Verification steps: ")}${v.steps
      .map(
        (x) =>
          `${esc(x.step, 60)} ${x.ok ? t("ok") : `<b>${t("FAILED")}</b>`}${x.problems.length ? t(" (") + x.problems.map((c2) => esc(c2, 40)).join(t(", ")) + t(")") : ""}`,
      )
      .join(t("; "))}`,
  );
  const how = p(
    t(
      "To check: GET /admin/jobs/JOB/forensics?tree_size=SIZE returns the same root; or gsmcp proof export --job JOB, gsmcp proof verify the file, then gsmcp proof check-comment BUNDLE COMMENT_FILE. Values are attacker-influenced text, shown escaped.",
    ),
  );
  const tableHead = `<table><tr><th>${t("seq")}</th><th>${t("time")}</th><th>${t("operation")}</th><th>${t("phase")}</th><th>${t("decision")}</th><th>${t("outcome")}</th><th>${t("arguments (redacted)")}</th></tr>`;
  const tableTail = "</table>";
  const receipts = c.receipts.slice(0, d.tree_size);

  const omitted: string[] = [];
  const markerFor = (rows: number, sections: string[]) =>
    rows || sections.length
      ? p(
          t(
            `Truncated to fit the ${maxChars}-character comment limit: ${[
              ...(rows ? [`${rows} earlier receipt(s) not shown`] : []),
              ...(sections.length ? [`left out: ${sections.join(", ")}`] : []),
            ].join("; ")}. The proof bundle holds all ${d.tree_size}.`,
          ),
        )
      : "";
  // The marker is at most this long (worst case: every section left out and a 10-digit row count).
  const markerBudget = markerFor(9_999_999_999, ["verdict", "summary", "steps", "how to check", "timeline"]).length;
  let used = head.join("").length + markerBudget;
  const parts: string[] = [...head];
  for (const [name, html] of [
    ["verdict", verdict],
    ["summary", summary],
    ["steps", steps],
    ["how to check", how],
  ] as const) {
    if (used + html.length <= maxChars) {
      parts.push(html);
      used += html.length;
    } else omitted.push(name);
  }
  let rowsShown: string[] = [];
  if (receipts.length && used + tableHead.length + tableTail.length <= maxChars) {
    let budget = maxChars - used - tableHead.length - tableTail.length;
    for (let i = receipts.length - 1; i >= 0; i--) {
      const row = timelineRow(receipts[i]!);
      if (row.length > budget) break;
      budget -= row.length;
      rowsShown.push(row);
    }
    rowsShown = rowsShown.reverse();
  } else if (receipts.length) omitted.push("timeline");
  const rowsOmitted = receipts.length - rowsShown.length;
  if (rowsShown.length) parts.push(tableHead + rowsShown.join("") + tableTail);
  const marker = markerFor(omitted.includes("timeline") ? 0 : rowsOmitted, omitted);
  if (marker) parts.push(marker);
  const message = parts.join("");
  return {
    message,
    chars: message.length,
    max_chars: maxChars,
    rows_omitted: rowsOmitted,
    sections_omitted: omitted,
    truncated: rowsOmitted > 0 || omitted.length > 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Checking a comment's digest against a proof bundle

export interface DigestCheck {
  ok: boolean;
  problems: string[];
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Checks a digest (from a comment: `parseDigestLine`) against a proof bundle exported at that size or later: the
 * bundle is of the same job and holds at least tree_size receipts, the Merkle root over its first tree_size receipts
 * is the digest's root, and the tree head signature verifies with one of the bundle's receipt_signers keys. Run
 * `gsmcp proof verify` on the bundle as well: this check says the comment matches the bundle, the verifier says the
 * bundle is authentic.
 */
export function checkDigest(b: ProofBundle, d: ParsedDigest): DigestCheck {
  const problems: string[] = [];
  if (b.job !== d.job)
    problems.push(`the bundle is of job ${JSON.stringify(b.job)}, the comment of ${JSON.stringify(d.job)}`);
  if (b.receipts.length < d.tree_size)
    problems.push(
      `the bundle holds ${b.receipts.length} receipts, the comment covers ${d.tree_size}: export the bundle again`,
    );
  else {
    const root = receiptsRoot(b.receipts, d.tree_size);
    if (!sameText(root, d.root_hash))
      problems.push(`the bundle's first ${d.tree_size} receipts hash to ${root}, the comment says ${d.root_hash}`);
  }
  const keys = new Map<string, KeyObject>();
  for (const k of b.keys)
    if (k.role === "receipt_signers") {
      try {
        keys.set(k.keyid, publicKeyFromPem(k.public_key));
      } catch {
        // an unreadable key verifies nothing
      }
    }
  const head: TreeHead = {
    job: d.job,
    tree_size: d.tree_size,
    root_hash: d.root_hash,
    timestamp: d.timestamp,
    signature: { keyid: d.keyid, sig: d.sig },
  };
  if (!keys.has(d.keyid))
    problems.push(`the comment is signed by key ${d.keyid}, which is not a receipt signer of the bundle`);
  else if (!verifyTreeHead(head, keys)) problems.push("the comment's tree head signature does not verify");
  return { ok: problems.length === 0, problems };
}

/** A comment (raw message or the portal's text) against a proof bundle's text: `gsmcp proof check-comment`. */
export function checkForensicsComment(bundleText: string, comment: string): DigestCheck {
  const claimed = parseDigestLine(comment);
  if (!claimed) return { ok: false, problems: [`the comment has no ${FORENSICS_FORMAT} digest line`] };
  return checkDigest(parseBundle(bundleText), claimed);
}
