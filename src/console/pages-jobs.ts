import { policyOf } from "../governance/approval-decide.js";
import { ApprovalStore, statusOf } from "../governance/approvals.js";
import { JobStore } from "../governance/jobs.js";
import type { Receipt } from "../types/receipt.js";
import { CSRF_FIELD } from "./csrf.js";
import { html, type Markup } from "./html.js";
import { field, HttpError } from "./http-util.js";
import { type PageRequest, type PageResult, requireRole } from "./page.js";

/** Receipts a job page lists (a long job's full record is the proof bundle's). */
const RECEIPTS_SHOWN = 500;

function budget(used: number, max: number | undefined): string {
  return max === undefined ? `${used}` : `${used} / ${max}`;
}

export async function jobsPage(p: PageRequest): Promise<PageResult> {
  const jobs = new JobStore(p.deps.state.jobs);
  const list = await jobs.list();
  // Each policy verified once per page, however many jobs share it.
  const hashes = new Set(list.map((j) => j.policy_hash));
  const policies = new Map([...hashes].map((h) => [h, policyOf(p.deps.paths, h)]));
  const rows = await Promise.all(
    list.map(async (j) => ({ j, flags: await jobs.flags(j.job), wpc: policies.get(j.policy_hash) })),
  );
  const body = rows.length
    ? html`<table id="jobs"><caption>${rows.length} job(s)</caption>
<tr><th scope="col">job</th><th scope="col">status</th><th scope="col">agent</th><th scope="col">policy</th><th scope="col">calls</th><th scope="col">rows</th><th scope="col">flags</th><th scope="col">last seen</th></tr>
${rows.map(
  ({ j, flags, wpc }) =>
    html`<tr data-job="${j.job}"><td><a href="/jobs/${j.job}">${j.job}</a></td><td><span class="badge ${j.status === "active" ? "ok" : "bad"}">${j.status}</span>${j.reason ? html` <small>${j.reason}</small>` : ""}</td><td>${j.agent}</td><td>${wpc?.policy_name ?? j.policy_hash.slice(0, 19)}</td><td>${budget(j.calls, wpc?.budgets?.max_calls)}</td><td>${budget(j.rows, wpc?.budgets?.max_rows)}</td><td>${flags.length ? flags.join(", ") : "-"}</td><td>${j.last_seen}</td></tr>`,
)}</table>`
    : html`<p id="empty">No jobs yet.</p>`;
  return { title: "Jobs", body, active: "/jobs" };
}

export async function jobPage(p: PageRequest, id: string, notice?: string): Promise<PageResult> {
  const jobs = new JobStore(p.deps.state.jobs);
  const j = await jobs.get(id);
  if (!j) throw new HttpError(404, `no job ${id}`, "see the jobs list");
  const [flags, page, approvals] = await Promise.all([
    jobs.flags(id),
    p.deps.state.receipts.jobRange(id, 0, RECEIPTS_SHOWN),
    new ApprovalStore(p.deps.state.approvals).list({ job: id }),
  ]);
  const receipts = page.map((r) => ({ seq: r.seq, r: JSON.parse(r.body) as Receipt }));
  const wpc = policyOf(p.deps.paths, j.policy_hash);
  const effects = count(receipts.map((x) => x.r.decision.effect));
  const writes = receipts.filter((x) => x.r.rollback && x.r.outcome.status === "ok");
  const canAct = p.person.roles.includes("approver");
  const verb = j.status === "paused" ? "resume" : "pause";
  const body = html`
${notice ? html`<p class="notice" role="status" id="notice">${notice}</p>` : ""}
<dl class="facts">
<dt>Status</dt><dd><span id="job-status">${j.status}</span>${j.reason ? ` — ${j.reason}` : ""}</dd>
<dt>Agent</dt><dd>${j.agent}</dd>
<dt>Policy</dt><dd><a href="/policies/${j.policy_hash}">${wpc?.policy_name ?? j.policy_hash}</a></dd>
<dt>Budgets</dt><dd>calls ${budget(j.calls, wpc?.budgets?.max_calls)}, rows ${budget(j.rows, wpc?.budgets?.max_rows)}${wpc?.budgets?.calls_per_minute ? `, at most ${wpc.budgets.calls_per_minute} calls a minute` : ""}</dd>
<dt>Flags</dt><dd id="flags">${flags.length ? flags.join(", ") : "none"}</dd>
<dt>Seen</dt><dd>${j.first_seen} to ${j.last_seen}</dd></dl>
${
  canAct && (j.status === "active" || j.status === "paused")
    ? html`<form method="post" action="/jobs/${j.job}/${verb}" class="decide" id="job-form">
<input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}">
<label for="job-reason">Reason</label><input type="text" id="job-reason" name="reason" maxlength="500" required>
<div class="buttons"><button type="submit" id="job-${verb}">${verb === "pause" ? "Pause the job" : "Resume the job"}</button></div></form>`
    : ""
}
<h2>Trust Pulse</h2>
<p id="pulse">${receipts.length} receipt(s)${page.length === RECEIPTS_SHOWN ? ` (the first ${RECEIPTS_SHOWN})` : ""}: ${Object.entries(
    effects,
  )
    .map(([e, n]) => `${n} ${e}`)
    .join(
      ", ",
    )}; ${writes.length} change(s) made in Sentinel; ${approvals.length} approval request(s). The signed, verifiable record is the proof bundle: <code>gsmcp proof export --job ${j.job}</code>, then <code>gsmcp proof verify</code>.</p>
${approvals.length ? html`<table id="job-approvals"><caption>Approvals</caption><tr><th scope="col">approval</th><th scope="col">operation</th><th scope="col">status</th><th scope="col">by</th></tr>${approvals.map((a) => html`<tr><td><a href="/approvals/${a.approval_id}">${a.approval_id}</a></td><td>${a.op}</td><td>${statusOf(a)}</td><td>${a.approved_by?.name ?? a.approver ?? "-"}</td></tr>`)}</table>` : ""}
${receiptTable(receipts)}`;
  return { title: `Job ${j.job}`, body, active: "/jobs" };
}

function count(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function receiptTable(receipts: { seq: number; r: Receipt }[]): Markup {
  if (!receipts.length) return html`<p>No receipts yet.</p>`;
  return html`<table id="receipts"><caption>Receipts</caption>
<tr><th scope="col">seq</th><th scope="col">time</th><th scope="col">operation</th><th scope="col">phase</th><th scope="col">decision</th><th scope="col">outcome</th><th scope="col">approval</th><th scope="col">arguments (redacted)</th></tr>
${receipts.map(
  ({ seq, r }) =>
    html`<tr><td>${seq}</td><td>${r.time}</td><td>${r.op}</td><td>${r.phase}</td><td class="${r.decision.effect}">${r.decision.effect}</td><td>${r.outcome.status}${r.outcome.error ? ` (${r.outcome.error.code})` : ""}</td><td>${r.approval_id ?? ""}${r.approved_by ? ` by ${r.approved_by}` : ""}</td><td><code>${JSON.stringify(r.args_redacted)}</code></td></tr>`,
)}</table>`;
}

/** POST /jobs/:job/pause|resume — what `gsmcp jobs pause|resume` does, by a signed-in approver. */
export async function setJobStatus(
  p: PageRequest,
  id: string,
  verb: "pause" | "resume",
  form: URLSearchParams,
): Promise<PageResult> {
  requireRole(p.person, "approver");
  const reason = field(form, "reason", 500);
  if (!reason) return jobPage(p, id, "give a reason for the change");
  const who = p.person.name ?? p.person.email ?? p.person.id;
  const ok = await new JobStore(p.deps.state.jobs).setStatus(
    id,
    verb === "pause" ? "paused" : "active",
    `${reason} (${verb}d by ${who} in the console)`,
  );
  if (!ok) throw new HttpError(404, `no job ${id}`);
  return { redirect: `/jobs/${id}` };
}
