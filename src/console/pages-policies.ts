import { approvalRuleView } from "../governance/approval-rules.js";
import { decide, effectiveScope } from "../governance/decide.js";
import { loadPolicy, storedPolicyHashes, type VerifiedPolicy } from "../governance/policy.js";
import { TrustStore } from "../governance/trust.js";
import { KNOWN_OPS, TOOLS, toolByOp } from "../tools/registry.js";
import { html } from "./html.js";
import { HttpError } from "./http-util.js";
import type { PageRequest, PageResult } from "./page.js";

/** Signed policies in this home, verified against its trust store (an unverifiable one is listed with the reason). */
function policies(p: PageRequest): { hash: string; v?: VerifiedPolicy; error?: string }[] {
  const trust = TrustStore.load(p.deps.paths);
  return storedPolicyHashes(p.deps.paths).map((hash) => {
    try {
      return { hash, v: loadPolicy(hash, p.deps.paths, trust) };
    } catch (e) {
      return { hash, error: (e as Error).message };
    }
  });
}

export function policiesPage(p: PageRequest): PageResult {
  const list = policies(p);
  const body = list.length
    ? html`<table id="policies"><caption>${list.length} signed polic(ies)</caption>
<tr><th scope="col">policy</th><th scope="col">hash</th><th scope="col">signed by</th><th scope="col">ops allowed</th><th scope="col">approval rules</th></tr>
${list.map(({ hash, v, error }) =>
  v
    ? html`<tr><td><a href="/policies/${hash}">${v.wpc.policy_name}</a></td><td><code>${hash.slice(0, 23)}…</code></td><td>${v.signerKeyIds.join(", ")}</td><td>${effectiveScope(v.wpc, KNOWN_OPS, KNOWN_OPS).length}</td><td>${(v.wpc.approvals ?? []).map((r) => r.name).join(", ") || "-"}</td></tr>`
    : html`<tr><td colspan="5" class="bad"><code>${hash}</code>: ${error}</td></tr>`,
)}</table>`
    : html`<p id="empty">No signed policies in this home.</p>`;
  return { title: "Policies", body, active: "/policies" };
}

export function policyPage(p: PageRequest, hash: string): PageResult {
  const found = policies(p).find((x) => x.hash === hash);
  if (!found) throw new HttpError(404, `no signed policy ${hash}`);
  if (!found.v) throw new HttpError(409, `policy ${hash} does not verify: ${found.error}`);
  const { wpc, signerKeyIds } = found.v;
  const askedOp = p.url.searchParams.get("op") ?? "";
  const tool = askedOp ? toolByOp(askedOp) : undefined;
  if (askedOp && !tool) throw new HttpError(400, `unknown op "${askedOp}"`, "choose an op from the list");
  const d = tool
    ? decide(wpc, { op: tool.op, write: !tool.effects.readOnly, tokenScope: KNOWN_OPS, workspace: "*" })
    : undefined;
  const body = html`<p>${wpc.description ?? ""}</p>
<dl class="facts"><dt>Hash</dt><dd><code>${hash}</code></dd><dt>Signed by</dt><dd>${signerKeyIds.join(", ")}</dd>
<dt>Token lifetime</dt><dd>at most ${wpc.token_requirements.cst_ttl_seconds_max}s</dd>
<dt>Budgets</dt><dd>${JSON.stringify(wpc.budgets ?? {})}</dd></dl>
<h2>What it allows</h2>
<table id="ops"><tr><th scope="col">operation</th><th scope="col">write</th><th scope="col">decision</th><th scope="col">approval</th></tr>
${TOOLS.filter((t) => !t.op.startsWith("governance.")).map((t) => {
  const x = decide(wpc, { op: t.op, write: !t.effects.readOnly, tokenScope: KNOWN_OPS, workspace: "*" });
  return html`<tr><td><a href="/policies/${hash}?op=${t.op}">${t.op}</a></td><td>${t.effects.readOnly ? "" : "write"}</td><td class="${x.effect}">${x.effect}</td><td>${x.approval?.name ?? ""}</td></tr>`;
})}</table>
<h2>Approval rules</h2>
${
  (wpc.approvals ?? []).length
    ? html`<ul id="rules">${(wpc.approvals ?? []).map((r) => {
        const v = approvalRuleView(r);
        return html`<li><strong>${r.name}</strong> (${r.mode}, ${v.ttl_seconds}s) for ${r.required_for.join(", ")}${v.distinct_approver ? "; approver ≠ requester" : ""}${v.require_mfa ? "; MFA" : ""}${v.max_auth_age_seconds ? `; sign-in within ${v.max_auth_age_seconds}s` : ""}${v.require_change_ticket ? "; change ticket" : ""}</li>`;
      })}</ul>`
    : html`<p>None.</p>`
}
<h2>Explain an operation</h2>
<form method="get" action="/policies/${hash}" class="decide"><label for="op">Operation</label>
<select id="op" name="op">${KNOWN_OPS.map((op) => html`<option${op === askedOp ? html` selected` : ""}>${op}</option>`)}</select>
<div class="buttons"><button type="submit">Explain</button></div></form>
${
  d && tool
    ? html`<section id="explain"><h3>${tool.op}: ${d.effect}${d.approval ? ` (approval "${d.approval.name}" required)` : ""}</h3>
<ul>${d.reasons.map((r) => html`<li>${r.code}: ${r.message}</li>`)}</ul>
${d.constraints.length ? html`<pre>${JSON.stringify(d.constraints, null, 2)}</pre>` : ""}</section>`
    : ""
}`;
  return { title: `Policy ${wpc.policy_name}`, body, active: "/policies" };
}

/** The reviewer's table: every tool, what it may change, the Azure role it needs, its approval default and rollback. */
export function manifestsPage(_p: PageRequest): PageResult {
  const body = html`<table id="manifests"><caption>${TOOLS.length} tools</caption>
<tr><th scope="col">operation</th><th scope="col">title</th><th scope="col">effects</th><th scope="col">Azure role (action)</th><th scope="col">approval by default</th><th scope="col">rollback</th></tr>
${TOOLS.map(
  (t) =>
    html`<tr><td>${t.op}</td><td>${t.title}</td><td>${t.effects.readOnly ? "read" : t.effects.destructive ? "destructive write" : "write"}</td><td>${t.rbac.role} (<code>${t.rbac.actions.join(", ") || "none"}</code>)</td><td>${t.approvalDefault}</td><td>${t.rollback.posture}: ${t.rollback.description}</td></tr>`,
)}</table>`;
  return { title: "Tool manifests", body, active: "/manifests" };
}
