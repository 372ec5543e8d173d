import type { WorkPolicyContract } from "../types/wpc.js";
import type { ProofBundle } from "./bundle.js";
import type { Receipt } from "./receipt.js";
import type { VerifyReport } from "./verify-bundle.js";

// The Trust Pulse: a human-readable account of one job. Everything from the bundle is attacker-influenced text
// (incident titles end up in arguments), so every value is escaped; the HTML carries no script and no external asset.

const esc = (s: unknown) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
const md = (s: unknown) =>
  String(s ?? "")
    .replace(/[|`*_<>[\]\\]/g, (c) => `\\${c}`)
    .replace(/\n/g, " ");

interface Facts {
  job: string;
  agent: string;
  policies: { name: string; hash: string; signers: string[] }[];
  timeline: {
    seq: number;
    time: string;
    op: string;
    phase: string;
    effect: string;
    status: string;
    reasons: string;
    args: string;
  }[];
  approvals: { id: string; op: string; decision: string; approver: string; reason: string; expires: string }[];
  changes: { receipt: string; op: string; time: string; posture: string; rollback: string; prior: string }[];
}

function facts(b: ProofBundle): Facts {
  const agents = [...new Set(b.receipts.map((r) => r.agent))];
  return {
    job: b.job,
    agent: agents.join(", "),
    policies: b.policies.map((p) => {
      const wpc = JSON.parse(Buffer.from(p.envelope.payload, "base64").toString("utf8")) as WorkPolicyContract;
      return {
        name: wpc.policy_name,
        hash: p.hash,
        signers: p.envelope.signatures.map((s) => b.keys.find((k) => k.keyid === s.keyid)?.name ?? s.keyid),
      };
    }),
    timeline: b.receipts.map((r: Receipt) => ({
      seq: r.seq,
      time: r.time,
      op: r.op,
      phase: r.phase,
      effect: r.decision.effect,
      status: r.outcome.status + (r.outcome.error ? `: ${r.outcome.error.code}` : ""),
      reasons: r.decision.reasons.map((x) => x.code).join(", "),
      args: JSON.stringify(r.args_redacted).slice(0, 200),
    })),
    approvals: b.approvals.map((a) => ({
      id: a.approval_id,
      op: a.op,
      decision: a.decision,
      // A client-asserted approval says only that the agent's own MCP client answered yes: shown as such, never as an approver.
      approver: `${a.approved_by ? `${a.approved_by.name ?? a.approved_by.email ?? a.approved_by.id} (${a.approved_by.id}), key ` : ""}${b.keys.find((k) => k.keyid === a.approver)?.name ?? a.approver ?? "—"}${a.client_asserted ? " (client-asserted, not a separate approver)" : ""}${a.change_ticket ? `, ticket ${a.change_ticket}` : ""}`,
      reason: a.reason ?? "",
      expires: a.expires_at,
    })),
    changes: b.receipts
      .filter(
        (r) =>
          r.phase === "intent" &&
          r.rollback &&
          b.receipts.some((o) => o.intent_receipt_id === r.receipt_id && o.outcome.status === "ok"),
      )
      .map((r) => ({
        receipt: r.receipt_id,
        op: r.op,
        time: r.time,
        posture: r.rollback!.posture,
        rollback: r.op === "rollback" ? "(this was a rollback)" : `gsmcp rollback ${r.receipt_id}`,
        prior: JSON.stringify(r.rollback!.prior_state ?? null).slice(0, 300),
      })),
  };
}

export function renderMarkdown(b: ProofBundle, v: VerifyReport): string {
  const f = facts(b);
  const lines = [
    `# Trust Pulse — job ${md(f.job)}`,
    "",
    `**Verification: ${v.verdict.toUpperCase()}** (${v.trust}) — ${v.receipts} receipts, Merkle root \`${b.tree_head.root_hash}\``,
    "",
    `- Agent: ${md(f.agent)}`,
    ...f.policies.map((p) => `- Policy: **${md(p.name)}** \`${p.hash}\`, signed by ${p.signers.map(md).join(", ")}`),
    `- Exported: ${b.created_at} from server ${md(b.server_id)}`,
    "",
    "## Verification steps",
    "",
    "| step | result | details |",
    "| --- | --- | --- |",
    ...v.steps.map(
      (s) =>
        `| ${s.step} | ${s.ok ? "ok" : "FAILED"} | ${md([...s.problems.map((p) => `${p.code}${p.receipt ? ` (seq ${p.receipt.seq})` : ""}: ${p.message}`), ...s.notes].join("; "))} |`,
    ),
    "",
    "## Timeline",
    "",
    "| seq | time | operation | phase | decision | outcome | reasons |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...f.timeline.map(
      (t) => `| ${t.seq} | ${t.time} | ${md(t.op)} | ${t.phase} | ${t.effect} | ${md(t.status)} | ${md(t.reasons)} |`,
    ),
    "",
    "## Approvals",
    "",
    ...(f.approvals.length
      ? [
          "| approval | operation | decision | approver | reason |",
          "| --- | --- | --- | --- | --- |",
          ...f.approvals.map((a) => `| ${a.id} | ${md(a.op)} | ${a.decision} | ${md(a.approver)} | ${md(a.reason)} |`),
        ]
      : ["None."]),
    "",
    "## Changes made and how to roll them back",
    "",
    ...(f.changes.length
      ? [
          "| operation | time | posture | roll back with | prior state |",
          "| --- | --- | --- | --- | --- |",
          ...f.changes.map((c) => `| ${md(c.op)} | ${c.time} | ${c.posture} | \`${c.rollback}\` | ${md(c.prior)} |`),
        ]
      : ["No changes were made to Sentinel."]),
    "",
  ];
  return lines.join("\n");
}

export function renderHtml(b: ProofBundle, v: VerifyReport): string {
  const f = facts(b);
  const badge = v.verdict === "valid" ? "ok" : "bad";
  const rows = (cells: unknown[][]) =>
    cells.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Trust Pulse — job ${esc(f.job)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.ok{background:#dafbe1;color:#116329}.bad{background:#ffebe9;color:#a40e26}
.verdict{display:inline-block;padding:.3rem .8rem;border-radius:6px;font-weight:600}.BLOCK{color:#a40e26;font-weight:600}
code{font-size:12px}
</style></head><body>
<h1>Trust Pulse — job <span id="job">${esc(f.job)}</span></h1>
<p><span id="verdict" class="verdict ${badge}">Verification: ${esc(v.verdict.toUpperCase())}</span> (${esc(v.trust)}) — ${v.receipts} receipts, Merkle root <code>${esc(b.tree_head.root_hash)}</code></p>
<ul>
<li>Agent: <span id="agent">${esc(f.agent)}</span></li>
${f.policies.map((p) => `<li>Policy: <strong class="policy">${esc(p.name)}</strong> <code>${esc(p.hash)}</code>, signed by ${esc(p.signers.join(", "))}</li>`).join("\n")}
<li>Exported ${esc(b.created_at)} from server ${esc(b.server_id)}</li>
</ul>
<h2>Verification steps</h2>
<table><tr><th>step</th><th>result</th><th>details</th></tr>
${v.steps.map((s) => `<tr><td>${esc(s.step)}</td><td class="${s.ok ? "ok" : "bad"}">${s.ok ? "ok" : "FAILED"}</td><td>${esc([...s.problems.map((p) => `${p.code}${p.receipt ? ` (seq ${p.receipt.seq})` : ""}: ${p.message}`), ...s.notes].join("; "))}</td></tr>`).join("\n")}
</table>
<h2>Timeline</h2>
<table id="timeline"><tr><th>seq</th><th>time</th><th>operation</th><th>phase</th><th>decision</th><th>outcome</th><th>reasons</th><th>arguments (redacted)</th></tr>
${f.timeline.map((t) => `<tr><td>${t.seq}</td><td>${esc(t.time)}</td><td>${esc(t.op)}</td><td>${esc(t.phase)}</td><td class="${esc(t.effect)}">${esc(t.effect)}</td><td>${esc(t.status)}</td><td>${esc(t.reasons)}</td><td><code>${esc(t.args)}</code></td></tr>`).join("\n")}
</table>
<h2>Approvals</h2>
${f.approvals.length ? `<table><tr><th>approval</th><th>operation</th><th>decision</th><th>approver</th><th>reason</th><th>expires</th></tr>\n${rows(f.approvals.map((a) => [a.id, a.op, a.decision, a.approver, a.reason, a.expires]))}</table>` : "<p>None.</p>"}
<h2>Changes made and how to roll them back</h2>
${f.changes.length ? `<table><tr><th>operation</th><th>time</th><th>posture</th><th>roll back with</th><th>prior state</th></tr>\n${rows(f.changes.map((c) => [c.op, c.time, c.posture, c.rollback, c.prior]))}</table>` : "<p>No changes were made to Sentinel.</p>"}
</body></html>
`;
}
