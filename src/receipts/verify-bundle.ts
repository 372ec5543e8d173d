import { createPublicKey, type KeyObject } from "node:crypto";
import { decodeProtectedHeader, jwtVerify } from "jose";
import bundleSchema from "../../schemas/proof-bundle.schema.json" with { type: "json" };
import receiptSchema from "../../schemas/receipt.schema.json" with { type: "json" };
import { dsseVerifiedKeyIds } from "../crypto/dsse.js";
import { jcs, jcsHash, sha256Hex } from "../crypto/jcs.js";
import { verifyBytes } from "../crypto/keys.js";
import { approvalRuleView, requirementProblem } from "../governance/approval-rules.js";
import { approvalSigningBytes } from "../governance/approvals.js";
import { type DecisionRequest, decide } from "../governance/decide.js";
import { WPC_PAYLOAD_TYPE } from "../governance/policy.js";
import { validateAgainst } from "../governance/schema-validate.js";
import { pinsOf, scopeHash } from "../governance/token.js";
import { keyWindow, setKeyWindow, type TrustStoreFile } from "../governance/trust.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import type { ProofBundle } from "./bundle.js";
import { checkpointWindowProblem, parseCheckpoint, parseCheckpointsFile, verifiedSignerKeys } from "./checkpoint.js";
import { leafHash, merkleRoot, verifyConsistency, verifyInclusion } from "./merkle.js";
import { type Receipt, receiptKeyWindowProblem } from "./receipt.js";
import { badSignatures, type SignatureCheckOptions } from "./signature-pool.js";
import { verifyTreeHead } from "./tree-head.js";
import { type EventProblemCode, verifyEventsAgainstLog } from "./verify-events.js";

// The offline verifier: named steps run in order, each reporting typed problems that name the receipt involved.

export type ProblemCode =
  | "schema"
  | "untrusted_key"
  | "policy_signature"
  | "policy_hash"
  | "policy_missing"
  | "token_signature"
  | "token_binding"
  | "receipt_signature"
  /** A receipt or checkpoint dated outside its signing key's validity window. */
  | "key_outside_window"
  | "receipt_job"
  | "receipt_order"
  | "receipt_duplicate"
  | "job_gap"
  | "chain_link"
  | "merkle_root"
  | "tree_head_signature"
  | "approval_missing"
  | "approval_signature"
  | "approval_binding"
  | "approval_expired"
  | "approval_reused"
  | "approval_requirements"
  | "decision_mismatch"
  | "checkpoint_signature"
  | "checkpoint_inclusion"
  | "checkpoint_consistency"
  | "equivocation"
  | EventProblemCode;

export interface Problem {
  code: ProblemCode;
  message: string;
  receipt?: { seq: number; receipt_id: string };
}

export interface StepResult {
  step: string;
  ok: boolean;
  problems: Problem[];
  notes: string[];
}

export interface VerifyReport {
  verdict: "valid" | "invalid";
  /** "trusted": keys checked against a trust store; "self-consistent": only against the bundle's own keys. */
  trust: "trusted" | "self-consistent";
  job: string;
  receipts: number;
  steps: StepResult[];
}

export class UnreadableBundle extends Error {}

export function parseBundle(text: string): ProofBundle {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UnreadableBundle(`not JSON: ${(e as Error).message}`);
  }
  const problems = validateAgainst(bundleSchema, doc);
  if (problems.length) throw new UnreadableBundle(`not a proof bundle: ${problems.slice(0, 5).join("; ")}`);
  return doc as ProofBundle;
}

const ref = (r: Receipt) => ({ seq: r.seq, receipt_id: r.receipt_id });

export interface VerifyOptions extends SignatureCheckOptions {
  /**
   * Compact JWS tokens the auditor holds (the bundle carries only their sha256): a token whose hash matches one of
   * the bundle's has its issuer signature checked as if the bundle carried it.
   */
  tokens?: string[];
  /** Checkpoint files held by witnesses: the bundle's receipts are checked against each of their checkpoints. */
  witnesses?: { name: string; text: string }[];
  /** The SOC's copy of the AgentSecurityEvents (JSON lines): the job's events against its receipts and approvals. */
  events?: string[];
  /** Receipts done of all, per phase (signatures, receipts, decisions), as the work happens (`proof verify`'s bar). */
  onProgress?: (p: { phase: "signatures" | "receipts" | "decisions"; done: number; total: number }) => void;
}

const jwsHash = (jws: string) => `sha256:${sha256Hex(jws)}`;

export async function verifyBundle(
  b: ProofBundle,
  trust?: TrustStoreFile,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  // Each receipt's canonical form feeds both the chain link and the Merkle leaf: compute it once.
  const canonCache = new WeakMap<Receipt, string>();
  const canonical = (r: Receipt): string => {
    let c = canonCache.get(r);
    if (c === undefined) {
      c = jcs(r);
      canonCache.set(r, c);
    }
    return c;
  };
  const steps: StepResult[] = [];
  const step = (name: string): StepResult => {
    const s: StepResult = { step: name, ok: true, problems: [], notes: [] };
    steps.push(s);
    return s;
  };
  const fail = (s: StepResult, p: Problem) => {
    s.ok = false;
    s.problems.push(p);
  };

  // 1. Keys: which keys may be used for which role. With a trust store, only keys it lists (active or retired).
  const keysStep = step("keys");
  const roleKeys = new Map<string, Map<string, KeyObject>>();
  for (const k of b.keys) {
    // The key's validity window: the trust store's when one is given (it is the authority), else the bundle's.
    let window = keyWindow(k);
    if (trust) {
      const t = (trust[k.role as keyof TrustStoreFile] ?? []).find((x) => x.keyid === k.keyid);
      if (!t || t.public_key.trim() !== k.public_key.trim()) {
        fail(keysStep, {
          code: "untrusted_key",
          message: `${k.role} key ${k.keyid} (${k.name}) is not in the trust store`,
        });
        continue;
      }
      window = keyWindow(t);
    }
    const m = roleKeys.get(k.role) ?? new Map<string, KeyObject>();
    m.set(k.keyid, setKeyWindow(createPublicKey(k.public_key), window));
    roleKeys.set(k.role, m);
  }
  if (!trust) keysStep.notes.push("no trust store given: keys are checked only for consistency with the bundle itself");
  const keys = (role: string) => roleKeys.get(role) ?? new Map<string, KeyObject>();
  // Receipt signatures are the bulk of the work: start them now (on worker threads for large bundles) and collect
  // the result in step 4, after the checks that run here meanwhile.
  const total = b.receipts.length;
  const progress = (phase: "signatures" | "receipts" | "decisions", done: number) => {
    if (opts.onProgress && (done % 500 === 0 || done === total)) opts.onProgress({ phase, done, total });
  };
  const signatures = badSignatures(b.receipts, canonical, keys("receipt_signers"), {
    ...opts,
    ...(opts.onProgress ? { onChecked: (done: number) => progress("signatures", done) } : {}),
  });

  // 2. Policies: signed by a policy signer, hash matches the canonical payload.
  const polStep = step("policy");
  const policies = new Map<string, WorkPolicyContract>();
  for (const p of b.policies) {
    if (
      p.envelope.payloadType !== WPC_PAYLOAD_TYPE ||
      dsseVerifiedKeyIds(p.envelope, keys("policy_signers")).length === 0
    ) {
      fail(polStep, { code: "policy_signature", message: `policy ${p.hash} is not signed by a trusted policy signer` });
      continue;
    }
    const payload = Buffer.from(p.envelope.payload, "base64").toString("utf8");
    const wpc = JSON.parse(payload) as WorkPolicyContract;
    if (jcsHash(wpc) !== p.hash || jcs(wpc) !== payload) {
      fail(polStep, { code: "policy_hash", message: `policy ${wpc.policy_name} does not hash to ${p.hash}` });
      continue;
    }
    policies.set(p.hash, wpc);
    polStep.notes.push(`${wpc.policy_name} ${p.hash}`);
  }

  // 3. Tokens: bound to this job, scope hash, policy pin; the issuer signature where the JWS is at hand (in the bundle,
  // or supplied by the auditor and matched by its sha256), else withheld: the server keeps only the token's hash.
  const tokStep = step("tokens");
  const supplied = new Map((opts.tokens ?? []).map((jws) => [jwsHash(jws), jws]));
  const matched = new Set<string>();
  for (const t of b.tokens) {
    const c = t.claims as { job?: string; scope?: string[]; scope_hash?: string; policy_hash?: string };
    if (c.job !== b.job)
      fail(tokStep, { code: "token_binding", message: `token ${t.jti} is for job ${c.job}, not ${b.job}` });
    if (
      !Array.isArray(c.scope) ||
      scopeHash(c.scope, pinsOf(c as { workspaces?: string[]; tenants?: string[] })) !== c.scope_hash
    )
      fail(tokStep, { code: "token_binding", message: `token ${t.jti} scope_hash does not match its scope` });
    if (c.policy_hash && !policies.has(c.policy_hash))
      fail(tokStep, {
        code: "token_binding",
        message: `token ${t.jti} is pinned to policy ${c.policy_hash}, which is not in the bundle`,
      });
    const given = t.jws_sha256 ? supplied.get(t.jws_sha256) : undefined;
    if (given) matched.add(t.jws_sha256!);
    const jws = t.jws ?? given;
    if (jws && t.jws_sha256 && jwsHash(jws) !== t.jws_sha256) {
      fail(tokStep, { code: "token_binding", message: `token ${t.jti} JWS does not hash to its jws_sha256` });
      continue;
    }
    if (jws) {
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(jws).kid;
      } catch {
        kid = undefined;
      }
      const key = keys("token_issuers").get(String(kid));
      // Verified as of its issue time: an expired token in an old bundle is still evidence of what was authorized.
      const at = new Date((((t.claims as { iat?: number }).iat ?? 0) + 1) * 1000);
      const verified = key
        ? await jwtVerify(jws, key, { algorithms: ["EdDSA"], currentDate: at }).catch(() => undefined)
        : undefined;
      if (!verified)
        fail(tokStep, {
          code: "token_signature",
          message: `token ${t.jti} signature does not verify with a trusted token issuer`,
        });
      else if (jcs(t.claims) !== jcs(verified.payload) || jcs(t.header) !== jcs(verified.protectedHeader))
        fail(tokStep, { code: "token_binding", message: `token ${t.jti} claims differ from its signed payload` });
      else if (given) tokStep.notes.push(`token ${t.jti}: issuer signature checked on the token supplied for it`);
    } else
      tokStep.notes.push(
        `token ${t.jti}: issuer signature withheld (${t.signature_withheld ?? "not included"}); job binding, scope hash and policy pin checked${t.jws_sha256 ? `; token ${t.jws_sha256}` : ""}`,
      );
  }
  for (const h of supplied.keys())
    if (!matched.has(h)) tokStep.notes.push(`supplied token ${h} is none of this bundle's tokens: not used`);

  // 4. Receipts: schema, signature, job, order, duplicates, and the chain where neighbours are consecutive.
  const recStep = step("receipts");
  const seen = new Set<string>();
  let prev: Receipt | undefined;
  let recDone = 0;
  for (const r of b.receipts) {
    progress("receipts", recDone++);
    const schemaProblems = validateAgainst(receiptSchema, r);
    if (schemaProblems.length)
      fail(recStep, { code: "schema", message: `receipt is malformed: ${schemaProblems[0]}`, receipt: ref(r) });
    const outside = receiptKeyWindowProblem(r, keys("receipt_signers"));
    if (outside) fail(recStep, { code: "key_outside_window", message: outside.message, receipt: ref(r) });
    if (r.job !== b.job)
      fail(recStep, { code: "receipt_job", message: `receipt belongs to job ${r.job}`, receipt: ref(r) });
    if (seen.has(r.receipt_id))
      fail(recStep, { code: "receipt_duplicate", message: "receipt appears twice", receipt: ref(r) });
    seen.add(r.receipt_id);
    if (prev && r.seq <= prev.seq)
      fail(recStep, { code: "receipt_order", message: `seq ${r.seq} follows seq ${prev.seq}`, receipt: ref(r) });
    if (prev && r.seq === prev.seq + 1 && r.prev_hash !== `sha256:${sha256Hex(canonical(prev))}`)
      fail(recStep, { code: "chain_link", message: "prev_hash does not match the previous receipt", receipt: ref(r) });
    if (r.policy_hash !== "-" && !policies.has(r.policy_hash))
      fail(recStep, {
        code: "policy_missing",
        message: `policy ${r.policy_hash} is not in the bundle (or not verified)`,
        receipt: ref(r),
      });
    // Per-job completeness: each receipt names the job's previous one (signed), so a receipt of this job missing
    // from the bundle — deleted from the log, or left out at export — is a gap.
    if (r.job_prev_seq !== undefined) {
      const expected = prev ? prev.seq : 0;
      if (r.job_prev_seq !== expected)
        fail(recStep, {
          code: "job_gap",
          message:
            r.job_prev_seq > expected
              ? `the job's receipt at seq ${r.job_prev_seq} is missing (this receipt follows it; the bundle's previous is ${expected || "none"})`
              : `receipt names seq ${r.job_prev_seq} as the job's previous, but the bundle's previous is ${expected || "none"}`,
          receipt: ref(r),
        });
    }
    prev = r;
  }
  progress("receipts", total);
  recStep.notes.push(
    "the receipt chain is global to the server: links are checked between receipts with consecutive seq; gaps are other jobs' receipts, covered by the signed tree head",
  );

  // 5. Merkle root over the receipts vs the signed tree head.
  const treeStep = step("tree_head");
  if (!verifyTreeHead(b.tree_head, keys("receipt_signers")))
    fail(treeStep, {
      code: "tree_head_signature",
      message: "tree head signature does not verify with a trusted receipt signer",
    });
  const root = `sha256:${merkleRoot(b.receipts.map((r) => leafHash(canonical(r)))).toString("hex")}`;
  if (b.tree_head.tree_size !== b.receipts.length || b.tree_head.root_hash !== root || b.tree_head.job !== b.job) {
    fail(treeStep, {
      code: "merkle_root",
      message: `receipts hash to ${root} (${b.receipts.length}), tree head says ${b.tree_head.root_hash} (${b.tree_head.tree_size}) for job ${b.tree_head.job}`,
    });
  }

  // 5b. The whole-log checkpoint: its signature, each receipt's inclusion proof, and every witnessed checkpoint.
  if (b.checkpoint || opts.witnesses?.length)
    checkpointStep(b, step("checkpoint"), keys("receipt_signers"), opts, canonical);

  // 6. Approvals: every receipt that names one is backed by a signed, bound, unexpired, single-use approval.
  const aprStep = step("approvals");
  const approvals = new Map(b.approvals.map((a) => [a.approval_id, a]));
  const used = new Map<string, number>();
  for (const r of b.receipts) {
    if (!r.approval_id || r.phase !== "intent") continue;
    const a = approvals.get(r.approval_id);
    if (!a) {
      fail(aprStep, {
        code: "approval_missing",
        message: `approval ${r.approval_id} is not in the bundle`,
        receipt: ref(r),
      });
      continue;
    }
    // A client-asserted approval (given in the agent's own MCP client) verifies only against a client-assertion key,
    // and only where the bundle's policy lets its rule take one; an approver's only against an approver key.
    const rule = policies.get(a.policy_hash)?.approvals?.find((x) => x.name === a.rule);
    const signer = a.client_asserted
      ? rule?.mode === "interactive" && rule.required_for.includes(a.op)
        ? keys("client_assertion_signers").get(a.signature?.keyid ?? "")
        : undefined
      : keys("approvers").get(a.signature?.keyid ?? "");
    if (
      a.decision !== "approved" ||
      !a.signature ||
      !signer ||
      !verifyBytes(signer, approvalSigningBytes(a), a.signature.sig)
    ) {
      fail(aprStep, {
        code: "approval_signature",
        message: `approval ${a.approval_id} is not an approved decision signed by a trusted approver`,
        receipt: ref(r),
      });
    }
    if (a.job !== r.job || a.op !== r.op || a.args_hash !== r.args_hash || a.policy_hash !== r.policy_hash) {
      fail(aprStep, {
        code: "approval_binding",
        message: `approval ${a.approval_id} is bound to ${a.job}/${a.op}/${a.args_hash.slice(0, 15)}…, not this call`,
        receipt: ref(r),
      });
    }
    // What the rule asks of who decided (separation of duties, MFA, recent sign-in, change ticket), and the receipt
    // naming the same approver and ticket as the signed approval.
    const unmet = rule ? requirementProblem(a, approvalRuleView(rule)) : undefined;
    const misnamed =
      (r.approved_by ?? undefined) !== a.approved_by?.id || (r.change_ticket ?? undefined) !== a.change_ticket
        ? `the receipt names approver ${r.approved_by ?? "none"} and ticket ${r.change_ticket ?? "none"}, the approval ${a.approved_by?.id ?? "none"} and ${a.change_ticket ?? "none"}`
        : undefined;
    if (unmet || misnamed)
      fail(aprStep, {
        code: "approval_requirements",
        message: `approval ${a.approval_id}: ${unmet ?? misnamed}`,
        receipt: ref(r),
      });
    if (Date.parse(r.time) > Date.parse(a.expires_at))
      fail(aprStep, {
        code: "approval_expired",
        message: `approval ${a.approval_id} had expired at ${a.expires_at}`,
        receipt: ref(r),
      });
    used.set(a.approval_id, (used.get(a.approval_id) ?? 0) + 1);
    if ((used.get(a.approval_id) ?? 0) > 1)
      fail(aprStep, {
        code: "approval_reused",
        message: `approval ${a.approval_id} authorized more than one write`,
        receipt: ref(r),
      });
  }

  // 6b. The SOC's events of this job, both ways: receipts ↔ events, and witnessed approval decisions ↔ approvals ↔ the
  // receipts that used them (a write whose receipts were removed is named by its approval).
  if (opts.events) {
    const evStep = step("events");
    const ev = verifyEventsAgainstLog(opts.events, b.receipts, b.approvals, { job: b.job, until: b.created_at });
    for (const p of ev.problems)
      fail(evStep, { code: p.code, message: p.line ? `event line ${p.line}: ${p.message}` : p.message });
    evStep.notes.push(
      `${ev.matched} event(s) matched their receipts; ${ev.receiptsWithoutEvent} receipt(s) without an event; ${ev.decisions} witnessed approval decision(s) checked${ev.outOfScope ? `; ${ev.outOfScope} event(s) of other jobs or after the export left out` : ""}`,
    );
    if (ev.unused.length) evStep.notes.push(`approved but never used: ${ev.unused.join(", ")}`);
  }

  // 7. Decisions: re-evaluate each recorded decision under the bundled policy; a different answer is a failure.
  const decStep = step("decisions");
  let checked = 0;
  let decDone = 0;
  for (const r of b.receipts) {
    progress("decisions", decDone++);
    const input = r.decision_input as DecisionRequest | undefined;
    const wpc = policies.get(r.policy_hash);
    if (!input || !wpc || r.phase === "outcome") continue;
    const d = decide(wpc, input);
    const code = r.outcome.error?.code;
    const gated = code === "approval_required" || code === "approval_invalid";
    const expected = gated ? "BLOCK" : d.effect;
    const sameReasons = jcs(d.reasons.map((x) => x.code)) === jcs(r.decision.reasons.map((x) => x.code));
    if (expected !== r.decision.effect || (gated && !d.approval) || !sameReasons) {
      fail(decStep, {
        code: "decision_mismatch",
        message: `recorded ${r.decision.effect} (${r.decision.reasons.map((x) => x.code).join(",")}), policy says ${d.effect} (${d.reasons.map((x) => x.code).join(",")})`,
        receipt: ref(r),
      });
    }
    checked++;
  }
  progress("decisions", total);
  decStep.notes.push(`${checked} decisions re-evaluated`);

  // 4 (continued). The receipt signatures started after step 1.
  for (const i of await signatures)
    fail(recStep, { code: "receipt_signature", message: "signature does not verify", receipt: ref(b.receipts[i]!) });

  return {
    verdict: steps.every((s) => s.ok) ? "valid" : "invalid",
    trust: trust ? "trusted" : "self-consistent",
    job: b.job,
    receipts: b.receipts.length,
    steps,
  };
}

function checkpointStep(
  b: ProofBundle,
  s: StepResult,
  logKeys: Map<string, KeyObject>,
  opts: VerifyOptions,
  canonical: (r: Receipt) => string,
): void {
  const fail = (p: Problem) => {
    s.ok = false;
    s.problems.push(p);
  };
  const ref = (r: Receipt) => ({ seq: r.seq, receipt_id: r.receipt_id });
  if (!b.checkpoint) {
    fail({
      code: "checkpoint_inclusion",
      message: "witness checkpoints were given but the bundle carries no checkpoint",
    });
    return;
  }
  let cp: ReturnType<typeof parseCheckpoint>;
  try {
    cp = parseCheckpoint(b.checkpoint.note);
  } catch (e) {
    fail({ code: "checkpoint_signature", message: `the bundle's checkpoint is malformed: ${(e as Error).message}` });
    return;
  }
  const keys = [...logKeys.values()];
  const signers = verifiedSignerKeys(cp, keys);
  const outside = signers.length ? checkpointWindowProblem(cp, signers) : undefined;
  if (!signers.length)
    fail({
      code: "checkpoint_signature",
      message: `checkpoint of size ${cp.size} is not signed by a trusted receipt signer`,
    });
  else if (outside) fail({ code: "key_outside_window", message: `the bundle's ${outside}` });
  const proofs = new Map(b.checkpoint.inclusion.map((p) => [p.seq, p.path]));
  let covered = 0;
  for (const r of b.receipts) {
    if (r.seq > cp.size) continue;
    covered++;
    const path = proofs.get(r.seq);
    const leaf = leafHash(canonical(r));
    if (!path) {
      fail({
        code: "checkpoint_inclusion",
        message: `no inclusion proof in checkpoint of size ${cp.size}`,
        receipt: ref(r),
      });
      continue;
    }
    const p = path.map((h) => Buffer.from(h, "base64"));
    if (!verifyInclusion(leaf, r.seq - 1, cp.size, p, cp.root))
      fail({
        code: "checkpoint_inclusion",
        message: `not included at leaf ${r.seq - 1} of the log in checkpoint of size ${cp.size}`,
        receipt: ref(r),
      });
  }
  s.notes.push(
    `${covered} of ${b.receipts.length} receipts proven in the log's checkpoint of size ${cp.size}${covered < b.receipts.length ? " (later receipts are newer than the checkpoint)" : ""}`,
  );

  for (const w of opts.witnesses ?? []) {
    const { checkpoints, errors } = parseCheckpointsFile(w.text);
    for (const e of errors)
      fail({ code: "checkpoint_signature", message: `witness ${w.name} note #${e.index + 1}: ${e.message}` });
    let checked = 0;
    let newer = 0;
    for (const wc of checkpoints) {
      if (wc.origin !== cp.origin) continue;
      const wSigners = verifiedSignerKeys(wc, keys);
      if (!wSigners.length) {
        fail({
          code: "checkpoint_signature",
          message: `witness ${w.name}: checkpoint of size ${wc.size} has no valid signature by a trusted receipt signer`,
        });
        continue;
      }
      const wOutside = checkpointWindowProblem(wc, wSigners);
      if (wOutside) {
        fail({ code: "key_outside_window", message: `witness ${w.name}: ${wOutside}` });
        continue;
      }
      if (wc.size > cp.size) {
        newer++;
        continue;
      }
      checked++;
      if (wc.size === cp.size) {
        if (!wc.root.equals(cp.root))
          fail({
            code: "equivocation",
            message: `witness ${w.name} holds a checkpoint of size ${wc.size} with root ${wc.root.toString("base64")}, the bundle's has ${cp.root.toString("base64")}`,
          });
        continue;
      }
      const proof = b.checkpoint.consistency.find((c) => c.size === wc.size);
      if (!proof) {
        fail({
          code: "checkpoint_consistency",
          message: `no consistency proof from the witnessed size ${wc.size} to the bundle's checkpoint of size ${cp.size}`,
        });
        continue;
      }
      const path = proof.path.map((h) => Buffer.from(h, "base64"));
      if (!verifyConsistency(wc.size, cp.size, wc.root, cp.root, path))
        fail({
          code: "checkpoint_consistency",
          message: `witness ${w.name}: the checkpoint of size ${wc.size} is not consistent with the bundle's checkpoint of size ${cp.size} (RFC 9162 consistency proof fails): the log was rewritten or forked`,
        });
    }
    s.notes.push(
      `witness ${w.name}: ${checked} checkpoint(s) consistent-checked${newer ? `, ${newer} newer than the bundle's (export again to cover them)` : ""}`,
    );
  }
}
