import { decideWitnessed, policyOf } from "../governance/approval-decide.js";
import { type ApprovalRuleView, approvalRuleView } from "../governance/approval-rules.js";
import { ApprovalStore, statusOf } from "../governance/approvals.js";
import { GovernanceError } from "../governance/errors.js";
import type { StoredApproval } from "../state/contract.js";
import type { Approval } from "../types/approval.js";
import type { Receipt } from "../types/receipt.js";
import { type ApprovalContext, approvalContext, type DiffRow } from "./context.js";
import { CSRF_FIELD } from "./csrf.js";
import { html, type Markup } from "./html.js";
import { field, HttpError } from "./http-util.js";
import { hasMfa, isRecent, type Person } from "./oidc.js";
import { type PageRequest, type PageResult, requireRole } from "./page.js";

const TABS = ["pending", "decided", "expired", "all"] as const;
type Tab = (typeof TABS)[number];

function inTab(status: string, tab: Tab): boolean {
  if (tab === "all") return true;
  if (tab === "decided") return status === "approved" || status === "denied" || status === "consumed";
  return status === tab;
}

export async function approvalsPage(p: PageRequest): Promise<PageResult> {
  const asked = p.url.searchParams.get("status") ?? "pending";
  const tab: Tab = (TABS as readonly string[]).includes(asked) ? (asked as Tab) : "pending";
  const now = p.deps.now?.() ?? Date.now();
  const all = await new ApprovalStore(p.deps.state.approvals).list();
  const shown = all.filter((a) => inTab(statusOf(a, now), tab));
  const body = html`<nav aria-label="Approval status" class="tabs">${TABS.map(
    (t) => html`<a href="/approvals?status=${t}"${t === tab ? html` aria-current="page"` : ""}>${t}</a> `,
  )}</nav>
${
  shown.length
    ? html`<table id="approvals"><caption>${shown.length} ${tab === "all" ? "" : tab} approval(s)</caption>
<tr><th scope="col">approval</th><th scope="col">status</th><th scope="col">operation</th><th scope="col">job</th><th scope="col">agent</th><th scope="col">requested</th><th scope="col">expires</th></tr>
${shown.map((a) => {
  const s = statusOf(a, now);
  return html`<tr><td><a href="/approvals/${a.approval_id}">${a.approval_id}</a></td><td><span class="badge ${s}">${s}</span></td><td>${a.op}</td><td><a href="/jobs/${a.job}">${a.job}</a></td><td>${a.agent ?? "-"}</td><td>${a.requested_at}</td><td>${a.expires_at}</td></tr>`;
})}</table>`
    : html`<p id="empty">No ${tab === "all" ? "" : tab} approvals.</p>`
}`;
  return { title: "Approvals", body, active: "/approvals" };
}

async function load(p: PageRequest, id: string): Promise<StoredApproval> {
  const a = await new ApprovalStore(p.deps.state.approvals).get(id);
  if (!a) throw new HttpError(404, `no approval ${id}`, "see the approvals inbox");
  return a;
}

function ruleOf(p: PageRequest, a: Approval): ApprovalRuleView | undefined {
  const rule = policyOf(p.deps.paths, a.policy_hash)?.approvals?.find((r) => r.name === a.rule);
  return rule ? approvalRuleView(rule) : undefined;
}

export async function approvalPage(p: PageRequest, id: string, problem?: string): Promise<PageResult> {
  const a = await load(p, id);
  const now = p.deps.now?.() ?? Date.now();
  const status = statusOf(a, now);
  const rule = ruleOf(p, a);
  const context = await approvalContext(a, p.deps.context);
  const decided = p.url.searchParams.get("decided");
  const body = html`
${decided ? html`<p class="notice" role="status" id="notice">Decision recorded: ${a.decision}.</p>` : ""}
${problem ? html`<p class="error" role="alert" id="error">${problem}</p>` : ""}
<dl class="facts">
<dt>Status</dt><dd><span class="badge ${status}" id="status">${status}</span></dd>
<dt>Operation</dt><dd id="op">${a.op}</dd>
<dt>Job</dt><dd><a href="/jobs/${a.job}">${a.job}</a> (agent ${a.agent ?? "-"}${a.requested_by ? html`, started by <span id="requested-by">${a.requested_by}</span>` : ""})</dd>
<dt>Rule</dt><dd>${a.rule}${rule ? html` — ${demands(rule)}` : html` (the policy could not be read)`}</dd>
<dt>Requested</dt><dd>${a.requested_at}, expires ${a.expires_at}</dd>
<dt>Binding</dt><dd><code>${a.args_hash}</code> under policy <a href="/policies/${a.policy_hash}"><code>${a.policy_hash.slice(0, 19)}…</code></a></dd>
</dl>
<h2>Arguments (redacted)</h2>
<pre class="untrusted" id="args">${JSON.stringify(a.args_redacted ?? {}, null, 2)}</pre>
${contextSection(context)}
${await activitySection(p, a.job)}
${a.decision !== "pending" ? decisionSection(a) : ""}
${status === "pending" ? decideForm(p, a, rule, now) : ""}`;
  return { status: problem ? 409 : 200, title: `Approval ${a.approval_id}`, body, active: "/approvals" };
}

/** The job's latest calls: what the agent has been doing before it asked. */
async function activitySection(p: PageRequest, job: string): Promise<Markup> {
  const recent: Receipt[] = [];
  for await (const page of jobPages(p.deps.state, job)) {
    recent.push(...page);
    recent.splice(0, Math.max(0, recent.length - RECENT));
  }
  if (!recent.length) return html``;
  return html`<h2>What the job has been doing</h2>
<table id="activity"><caption>The job's last ${recent.length} call(s); <a href="/jobs/${job}">all of them</a></caption>
<tr><th scope="col">time</th><th scope="col">operation</th><th scope="col">decision</th><th scope="col">outcome</th></tr>
${recent.map((r) => html`<tr><td>${r.time}</td><td>${r.op}</td><td class="${r.decision.effect}">${r.decision.effect}</td><td>${r.outcome.status}${r.outcome.error ? ` (${r.outcome.error.code})` : ""}</td></tr>`)}</table>`;
}

const RECENT = 10;

async function* jobPages(state: PageRequest["deps"]["state"], job: string): AsyncGenerator<Receipt[]> {
  let after = 0;
  for (;;) {
    const rows = await state.receipts.jobRange(job, after, 500);
    if (!rows.length) return;
    yield rows.map((r) => JSON.parse(r.body) as Receipt);
    after = rows[rows.length - 1]!.seq;
  }
}

function demands(rule: ApprovalRuleView): string {
  const d = [
    rule.distinct_approver ? "an approver other than the requester" : "",
    rule.require_mfa ? "multi-factor sign-in" : "",
    rule.max_auth_age_seconds ? `a sign-in within ${rule.max_auth_age_seconds}s` : "",
    rule.require_change_ticket
      ? `a change ticket${rule.change_ticket_pattern ? ` matching ${rule.change_ticket_pattern}` : ""}`
      : "",
  ].filter(Boolean);
  return d.length ? `requires ${d.join(", ")}` : "no further requirements";
}

function cell(v: unknown): string {
  if (v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function diffTable(rows: DiffRow[]): Markup {
  return html`<table id="diff"><caption>What the write changes</caption>
<tr><th scope="col">field</th><th scope="col">now</th><th scope="col">after the write</th></tr>
${rows.map((r) => html`<tr class="${r.change}" data-field="${r.field}"><th scope="row">${r.field}</th><td>${cell(r.before)}</td><td>${cell(r.after)}</td></tr>`)}</table>`;
}

interface PreviewView {
  ok: boolean;
  message?: string;
  method?: string;
  runs?: number;
  fired?: number;
  caveat?: string;
  reason?: string;
  frequency?: string;
  period?: string;
  window?: { from: string; to: string };
  firings?: { runTime: string; count: number }[];
  sample?: { columns: { name: string }[]; rows: unknown[][] } | null;
  redactedColumns?: string[];
}

function previewBlock(id: string, label: string, v: unknown): Markup {
  const pv = v as PreviewView | undefined;
  if (!pv) return html`<p id="${id}">${label}: not available (see the errors above).</p>`;
  if (!pv.ok)
    return html`<p class="error" id="${id}">${label}: refused under the job's policy — ${pv.message ?? ""}</p>`;
  if (pv.method === "unavailable") return html`<p id="${id}">${label}: not available — ${pv.reason ?? ""}</p>`;
  return html`<div id="${id}"><p><strong>${label}</strong>: would have fired <strong class="fired">${pv.fired}</strong> time(s) in ${pv.runs} scheduled runs (every ${pv.frequency}, looking back ${pv.period}) from ${pv.window?.from} to ${pv.window?.to}.</p>
${pv.caveat ? html`<p class="untrusted">${pv.caveat}</p>` : ""}
${pv.firings?.length ? html`<details><summary>Runs that fired (${pv.firings.length})</summary><ul>${pv.firings.slice(0, 50).map((f) => html`<li>${f.runTime}: ${f.count} result row(s)</li>`)}</ul></details>` : ""}
${
  pv.sample?.rows.length
    ? html`<table class="sample untrusted"><caption>Sample of what it would have raised${pv.redactedColumns?.length ? ` (masked: ${pv.redactedColumns.join(", ")})` : ""}</caption>
<tr>${pv.sample.columns.map((c) => html`<th scope="col">${c.name}</th>`)}</tr>
${pv.sample.rows.map((r) => html`<tr>${r.map((c) => html`<td>${cell(c)}</td>`)}</tr>`)}</table>`
    : ""
}</div>`;
}

function contextSection(c: ApprovalContext): Markup {
  return html`<h2>Context from Sentinel</h2>
<p class="untrusted">Read from Sentinel just now. Titles, comments and queries are attacker-influenced text: judge them, do not follow them.</p>
${c.errors.map((e) => html`<p class="error">Could not read ${e}</p>`)}
${
  c.current
    ? html`<details id="current"><summary>The ${c.kind === "other" ? "object" : c.kind} as it is now</summary><pre>${JSON.stringify(c.current, null, 2)}</pre></details>`
    : ""
}
${c.diff.length ? diffTable(c.diff) : ""}
${c.affects.length ? html`<h3>What else it affects</h3><ul id="affects">${c.affects.map((x) => html`<li>${x}</li>`)}</ul>` : ""}
${
  c.preview
    ? html`<h3>Impact preview (last 7 days)</h3>${previewBlock("preview", "The proposed rule", c.preview.proposed)}${
        c.preview.current ? previewBlock("preview-current", "The rule as it is now", c.preview.current) : ""
      }`
    : ""
}`;
}

function decisionSection(a: StoredApproval): Markup {
  return html`<h2>Decision</h2><dl id="decision">
<dt>Decision</dt><dd>${a.decision}${a.client_asserted ? " (asserted in the agent's MCP client)" : ""}</dd>
<dt>By</dt><dd>${a.approved_by ? html`<span id="approved-by">${a.approved_by.name ?? a.approved_by.email ?? a.approved_by.id}</span> (${a.approved_by.id})` : "-"}, key ${a.approver ?? "-"}</dd>
<dt>Reason</dt><dd>${a.reason ?? "-"}</dd>
${a.change_ticket ? html`<dt>Change ticket</dt><dd>${a.change_ticket}</dd>` : ""}
<dt>When</dt><dd>${a.decided_at ?? "-"}</dd>
<dt>Used</dt><dd>${a.consumed_at ? `${a.consumed_at} by ${a.consumed_by}` : "not yet"}</dd></dl>`;
}

/** Why this person would have to sign in again before approving under `rule`, with the sign-in link. */
function staleSignIn(
  person: Person,
  rule: ApprovalRuleView | undefined,
  now: number,
): { why: string; link: string } | undefined {
  if (!rule) return undefined;
  if (rule.require_mfa && !hasMfa(person))
    return { why: "this approval requires a multi-factor sign-in", link: "mfa=1" };
  if (rule.max_auth_age_seconds !== undefined && !isRecent(person, rule.max_auth_age_seconds, now))
    return {
      why: `this approval requires a sign-in within the last ${rule.max_auth_age_seconds} seconds`,
      link: `max_age=${rule.max_auth_age_seconds}${rule.require_mfa ? "&mfa=1" : ""}`,
    };
  return undefined;
}

function decideForm(p: PageRequest, a: Approval, rule: ApprovalRuleView | undefined, now: number): Markup {
  if (!p.person.roles.includes("approver"))
    return html`<p id="readonly">You have the reviewer role: an approver decides this request.</p>`;
  const stale = staleSignIn(p.person, rule, now);
  const back = encodeURIComponent(`/approvals/${a.approval_id}`);
  return html`<h2>Decide</h2>
${stale ? html`<p class="notice" id="reauth">${stale.why}. <a href="/login?return=${back}&${stale.link}">Sign in again</a> before approving.</p>` : ""}
<form method="post" action="/approvals/${a.approval_id}/decide" class="decide" id="decide-form">
<input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}">
<input type="hidden" name="args_hash" value="${a.args_hash}">
<label for="reason">Reason (recorded in the signed decision)</label>
<textarea id="reason" name="reason" rows="3" maxlength="2000" required></textarea>
<label for="ticket">Change ticket${rule?.require_change_ticket ? " (required)" : " (optional)"}</label>
<input type="text" id="ticket" name="ticket" maxlength="200"${rule?.require_change_ticket ? html` required` : ""}${rule?.change_ticket_pattern ? html` placeholder="${rule.change_ticket_pattern}"` : ""}>
<div class="buttons"><button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny" formnovalidate>Deny</button></div>
</form>`;
}

/** POST /approvals/:id/decide — signs the decision with the console's approver key, naming the signed-in person. */
export async function decideApprovalForm(p: PageRequest, id: string, form: URLSearchParams): Promise<PageResult> {
  requireRole(p.person, "approver");
  const verb = field(form, "decision", 10);
  if (verb !== "approve" && verb !== "deny")
    throw new HttpError(400, `field "decision" must be approve or deny, got ${verb ?? "nothing"}`);
  const reason = field(form, "reason", 2000) ?? (verb === "deny" ? "denied in the console" : undefined);
  const ticket = field(form, "ticket", 200);
  const a = await load(p, id);
  if (field(form, "args_hash", 100) !== a.args_hash)
    return approvalPage(p, id, "this request is not the one you reviewed (its arguments differ); review it again");
  if (!reason) return approvalPage(p, id, "give a reason: it is recorded in the signed decision");
  const rule = ruleOf(p, a);
  const now = p.deps.now?.() ?? Date.now();
  if (verb === "approve") {
    const stale = staleSignIn(p.person, rule, now);
    if (stale) return { redirect: `/login?return=${encodeURIComponent(`/approvals/${id}`)}&${stale.link}` };
    if (rule?.approvers.length && !rule.approvers.includes(p.deps.approverKey.keyid))
      return approvalPage(
        p,
        id,
        `rule "${rule.name}" accepts only approver keys ${rule.approvers.join(", ")}; this console signs with ${p.deps.approverKey.keyid}`,
      );
  }
  try {
    await decideWitnessed(
      { paths: p.deps.paths, config: p.deps.config, approvals: new ApprovalStore(p.deps.state.approvals) },
      {
        id,
        decision: verb === "approve" ? "approved" : "denied",
        key: p.deps.approverKey,
        reason,
        ...(ticket ? { changeTicket: ticket } : {}),
        approvedBy: approvedBy(p.person),
        now: new Date(now),
      },
    );
  } catch (e) {
    if (e instanceof GovernanceError) return approvalPage(p, id, e.message);
    throw e;
  }
  return { redirect: `/approvals/${id}?decided=1` };
}

/** The person as the signed approval records them (no tokens, only identity and how they signed in). */
function approvedBy(person: Person): NonNullable<Approval["approved_by"]> {
  return {
    id: person.id,
    iss: person.iss,
    ...(person.name ? { name: person.name.slice(0, 200) } : {}),
    ...(person.email ? { email: person.email.slice(0, 200) } : {}),
    ...(person.amr.length ? { amr: person.amr.map((x) => x.slice(0, 40)) } : {}),
    ...(person.auth_time ? { auth_time: new Date(person.auth_time * 1000).toISOString() } : {}),
    roles: person.roles,
  };
}
