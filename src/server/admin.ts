import { createHash, timingSafeEqual } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningKey } from "../crypto/keys.js";
import { GovernanceError } from "../governance/errors.js";
import { loadSigningKey } from "../governance/trust.js";
import {
  buildIncidentNotice,
  type IncidentNoticeJob,
  type IncidentNotifier,
  type IncidentNotifierOptions,
  openIncidentNotifier,
} from "../notify/incident-notice.js";
import { exportBundle, receiptLeaf } from "../receipts/bundle.js";
import { merkleRoot } from "../receipts/merkle.js";
import type { Receipt } from "../receipts/receipt.js";
import { parseBundle, verifyBundle } from "../receipts/verify-bundle.js";
import { BackendError } from "../sentinel/errors.js";
import { pages } from "../state/pages.js";
import { collectBody } from "./body.js";
import {
  COMMENT_MIN,
  FORENSICS_FORMAT,
  makeDigest,
  notVerifiedPulse,
  pulseSummary,
  renderComment,
  SENTINEL_COMMENT_MAX,
  summarize,
} from "./forensics.js";
import { RateLimiter, retryAfterSeconds } from "./rate-limit.js";
import type { RefusalAggregator } from "./refusals.js";
import type { Runtime } from "./runtime.js";

// The operator endpoint for response playbooks (Sentinel Logic Apps): one bearer token (GSMCP_ADMIN_TOKEN or
// GSMCP_HOME/keys/admin-token), compared in constant time; its own rate limits; strict paths, ids and query
// parameters; every bad input a JSON error naming the field and the fix.
//
// Event and receipt policy (the pause endpoint's, for every route):
// - every refusal — no or a wrong token, unknown route or method, bad id or parameter, rate limit, unknown job or
//   incident — is recorded through the HTTP server's RefusalAggregator (op transport.request, tool http.admin): a
//   receipt for the first of a kind per interval, one with the count of the rest;
// - a state change is recorded where the state lives: pause/resume in the job's row (status and reason, shown by
//   `gsmcp jobs list` and the console), a notice in the incident webhook spool (delivered/ or dead/ with its id), and
//   one line on the server's log; it adds nothing to the job's receipt chain (the forensics of a job stay those of the
//   agent's calls);
// - GET routes are read-only: no state, receipt or spool entry is written when they succeed.

export interface AdminRoute {
  method: "GET" | "POST";
  /** Path template: `{name}` segments are ids checked against ADMIN_ID_PATTERNS. */
  path: string;
  readOnly: boolean;
  /** Query parameters the route accepts (anything else is refused). */
  query: readonly string[];
  /** Rate-limit class. */
  budget: "state" | "forensics";
}

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: "POST", path: "/admin/jobs/{job}/pause", readOnly: false, query: [], budget: "state" },
  { method: "POST", path: "/admin/jobs/{job}/resume", readOnly: false, query: [], budget: "state" },
  {
    method: "GET",
    path: "/admin/jobs/{job}/forensics",
    readOnly: true,
    query: ["tree_size", "max_chars"],
    budget: "forensics",
  },
  { method: "POST", path: "/admin/incidents/{incident}/notify", readOnly: false, query: [], budget: "state" },
];

export const ADMIN_ID_PATTERNS: Record<string, { re: RegExp; says: string }> = {
  job: {
    re: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    says: "1-128 characters: letters, digits, '.', '_', ':', '-', starting with a letter or digit",
  },
  incident: {
    re: /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
    says: "the incident's name (its GUID in Sentinel): 1-128 letters, digits, '_', '-'",
  },
};

export interface AdminOptions {
  /** The operator bearer token; absent: every request is refused. */
  token?: string;
  /** Operator requests that change state (pause, resume, notify): per second, and at once. Default 2/s, burst 60. */
  stateRate?: { rate: number; burst: number };
  /** Forensics reads (each exports and verifies a bundle). Default 0.2/s, burst 10. */
  forensicsRate?: { rate: number; burst: number };
  /**
   * Largest bundle the forensics route verifies in the server (verification runs in this process: JCS and chain on
   * the event loop, signatures on worker threads). Above it the digest and summary are served with verdict
   * "not_verified". Default 20,000 receipts.
   */
  forensicsVerifyMax?: number;
  /** The incident webhook (config.json notify.incident_webhook): secret environment and sender tuning (tests). */
  notify?: IncidentNotifierOptions;
  /** Where state changes are logged. Default: stderr. */
  log?: (line: string) => void;
  now?: () => Date;
}

export interface AdminHooks {
  /** The HTTP server's refusal of a request without a valid token (per-address budget, aggregated receipt). */
  refuseUnauthenticated(req: IncomingMessage, res: ServerResponse, err: GovernanceError, what: string): void;
  refusals: RefusalAggregator;
  clientOf(req: IncomingMessage): string;
}

export interface AdminEndpoint {
  handle(req: IncomingMessage, res: ServerResponse, rawUrl: string): Promise<void>;
  close(): void;
}

const WHAT = "http.admin";
const MAX_NOTIFY_BODY = 16 * 1024;
const MAX_NOTIFY_JOBS = 20;
const FIX_ROUTES = `operator routes: ${ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`).join(", ")} (see examples/playbooks/README.md)`;

/** A refusal: HTTP status, error code, the field at fault (when one is), message, fix. */
class AdminRefusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly field: string | undefined,
    message: string,
    readonly fix: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
const bad = (field: string, message: string, fix: string) =>
  new AdminRefusal(400, "invalid_request", field, message, fix);

const digestOf = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Constant-time comparison of the presented token with the operator token (both hashed: no length leak). */
export function operatorTokenMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (!expected || presented === undefined) return false;
  return timingSafeEqual(digestOf(presented), digestOf(expected));
}

interface Matched {
  route: AdminRoute;
  params: Record<string, string>;
}

/** The route of a method and raw path (no query), or the refusal: unknown path 404, wrong method 405, bad id 400. */
export function matchAdminRoute(method: string, path: string): Matched {
  const raw = path.split("/");
  const segs: string[] = [];
  for (const [i, s] of raw.entries()) {
    try {
      segs.push(decodeURIComponent(s));
    } catch {
      throw bad("path", `path segment ${i} is not valid percent-encoding`, "encode ids with encodeURIComponent");
    }
  }
  let shapeMatches: AdminRoute[] = [];
  let idProblem: AdminRefusal | undefined;
  for (const route of ADMIN_ROUTES) {
    const tpl = route.path.split("/");
    if (tpl.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    let problem: AdminRefusal | undefined;
    for (let i = 0; i < tpl.length && ok; i++) {
      const t = tpl[i]!;
      const m = /^\{(\w+)\}$/.exec(t);
      if (!m) {
        ok = t === segs[i];
        continue;
      }
      const name = m[1]!;
      const pattern = ADMIN_ID_PATTERNS[name]!;
      if (!pattern.re.test(segs[i]!))
        problem ??= bad(
          name,
          `${name} ${JSON.stringify(segs[i]!.slice(0, 140))} is not a valid ${name} id`,
          `give ${pattern.says}`,
        );
      params[name] = segs[i]!;
    }
    if (!ok) continue;
    if (problem) {
      idProblem ??= problem;
      continue;
    }
    shapeMatches = [...shapeMatches, route];
    if (route.method === method) return { route, params };
  }
  if (shapeMatches.length) {
    const allow = [...new Set(shapeMatches.map((r) => r.method))].join(", ");
    throw new AdminRefusal(
      405,
      "method_not_allowed",
      "method",
      `${method} is not allowed on ${path}`,
      `use ${allow}${shapeMatches.every((r) => r.readOnly) ? " (a read-only route)" : ""}`,
      { allow },
    );
  }
  if (idProblem) throw idProblem;
  throw new AdminRefusal(404, "not_found", "path", `no operator route ${method} ${path.slice(0, 200)}`, FIX_ROUTES);
}

/** The query string of a route: only its parameters, each at most once. */
export function parseAdminQuery(route: AdminRoute, search: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const name = k.slice(0, 60);
    if (!route.query.includes(k))
      throw bad(
        `query.${name}`,
        `unknown query parameter ${JSON.stringify(name)}`,
        route.query.length
          ? `${route.method} ${route.path} accepts ${route.query.join(", ")}`
          : `${route.method} ${route.path} takes no query parameters`,
      );
    if (k in out) throw bad(`query.${name}`, `query parameter ${name} is given twice`, "give it once");
    out[k] = v;
  }
  return out;
}

function intParam(q: Record<string, string>, name: string, min: number, max: number): number | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(v) || Number(v) < min || Number(v) > max)
    throw bad(
      `query.${name}`,
      `${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(v.slice(0, 40))})`,
      `give ${name}=${min}…${max}`,
    );
  return Number(v);
}

/** The job's receipts now: their count and Merkle root, streamed page by page from the store. */
async function jobHead(runtime: Runtime, job: string): Promise<{ tree_size: number; root_hash: string }> {
  const leaves: Buffer[] = [];
  for await (const row of pages((after, n) => runtime.store.receipts.jobRange(job, after, n)))
    leaves.push(receiptLeaf(JSON.parse(row.body) as Receipt));
  return { tree_size: leaves.length, root_hash: `sha256:${merkleRoot(leaves).toString("hex")}` };
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers["content-type"] ?? "");
  const chunks = await collectBody(req, MAX_NOTIFY_BODY);
  if (!chunks)
    throw new AdminRefusal(
      413,
      "payload_too_large",
      "body",
      `the body exceeds ${MAX_NOTIFY_BODY} bytes`,
      `send at most {"jobs": [...]} with up to ${MAX_NOTIFY_JOBS} job ids`,
      { connection: "close" },
    );
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) return {};
  if (!/^application\/json\b/i.test(type))
    throw bad(
      "content-type",
      `content-type ${JSON.stringify(type.slice(0, 60))} is not application/json`,
      "send content-type: application/json",
    );
  try {
    return JSON.parse(text);
  } catch {
    throw bad("body", "the body is not JSON", 'send {"jobs": ["<job id>", ...]} or no body');
  }
}

/** The notify body: {} or {"jobs": [job ids]}; every problem names its field. */
export function parseNotifyBody(body: unknown): { jobs: string[] } {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw bad("body", "the body must be a JSON object", 'send {"jobs": ["<job id>", ...]} or no body');
  const unknown = Object.keys(body).filter((k) => k !== "jobs");
  if (unknown.length)
    throw bad(
      `body.${unknown[0]!.slice(0, 60)}`,
      `unknown field ${JSON.stringify(unknown[0]!.slice(0, 60))}`,
      'the body has one field, "jobs"',
    );
  const jobs = (body as { jobs?: unknown }).jobs;
  if (jobs === undefined) return { jobs: [] };
  if (!Array.isArray(jobs)) throw bad("body.jobs", "jobs must be an array of job ids", 'send {"jobs": ["triage-42"]}');
  if (jobs.length > MAX_NOTIFY_JOBS)
    throw bad("body.jobs", `jobs lists ${jobs.length} ids, at most ${MAX_NOTIFY_JOBS} are accepted`, "send fewer jobs");
  for (const [i, j] of jobs.entries())
    if (typeof j !== "string" || !ADMIN_ID_PATTERNS.job!.re.test(j))
      throw bad(`body.jobs[${i}]`, `jobs[${i}] is not a valid job id`, `give ${ADMIN_ID_PATTERNS.job!.says}`);
  return { jobs: [...new Set(jobs as string[])] };
}

export function createAdminEndpoint(runtime: Runtime, opts: AdminOptions, hooks: AdminHooks): AdminEndpoint {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const limits = {
    state: new RateLimiter(opts.stateRate ?? { rate: 2, burst: 60 }),
    forensics: new RateLimiter(opts.forensicsRate ?? { rate: 0.2, burst: 10 }),
  };
  // Fail closed: a configured incident webhook whose secret is missing stops the server from starting.
  const notifier: IncidentNotifier | undefined = openIncidentNotifier(runtime.paths, runtime.config, opts.notify);
  let receiptKey: SigningKey | undefined;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(body));
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, r: AdminRefusal) => {
    const code = r.status === 429 ? "rate_limited" : r.status >= 500 ? "backend_error" : "invalid_arguments";
    hooks.refusals.refuse(
      // The kind names the field, not the caller's parameter or element names (they would make kinds without bound).
      `admin\u0000${r.status}\u0000${r.error}\u0000${(r.field ?? "").replace(/^(query|body)\..*$/, "$1.*")}`,
      new GovernanceError(code, `operator endpoint: ${r.message}`, r.fix),
      { what: WHAT, client: hooks.clientOf(req) },
    );
    send(
      res,
      r.status,
      { error: r.error, ...(r.field ? { field: r.field } : {}), message: r.message, fix: r.fix, ...r.extra },
      r.headers,
    );
  };

  const pauseResume = async (res: ServerResponse, job: string, verb: "pause" | "resume") => {
    const status = verb === "pause" ? "paused" : "active";
    const ok = await runtime.jobs.setStatus(job, status, `${verb}d by playbook (operator endpoint)`);
    if (!ok)
      throw new AdminRefusal(404, "no_such_job", "job", `no job ${job}`, "check the id: gsmcp jobs list", {}, { job });
    log(`gsmcp: operator endpoint: job ${job} ${status}`);
    send(res, 200, { job, status });
  };

  const forensics = async (res: ServerResponse, job: string, q: Record<string, string>) => {
    const treeSizeParam = intParam(q, "tree_size", 1, 1_000_000_000);
    const maxChars = intParam(q, "max_chars", COMMENT_MIN, SENTINEL_COMMENT_MAX) ?? SENTINEL_COMMENT_MAX;
    const record = await runtime.jobs.get(job);
    if (!record)
      throw new AdminRefusal(404, "no_such_job", "job", `no job ${job}`, "check the id: gsmcp jobs list", {}, { job });
    receiptKey ??= loadSigningKey(runtime.paths, "receiptSigner");
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-forensics-"));
    let text: string;
    try {
      const file = join(dir, "bundle.json");
      try {
        await exportBundle({
          paths: runtime.paths,
          serverId: runtime.config.server_id,
          store: runtime.store,
          trust: runtime.trust,
          receiptKey,
          job,
          out: file,
        });
      } catch (e) {
        if (/^no receipts for job/.test((e as Error).message))
          throw new AdminRefusal(
            404,
            "no_receipts",
            "job",
            `job ${job} has no receipts yet`,
            "call again once the job has made a call",
            {},
            { job },
          );
        throw e;
      }
      text = readFileSync(file, "utf8");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const b = parseBundle(text);
    const size = treeSizeParam ?? b.receipts.length;
    if (size > b.receipts.length)
      throw bad(
        "query.tree_size",
        `job ${job} has ${b.receipts.length} receipts; tree_size ${size} is more`,
        `give tree_size from 1 to ${b.receipts.length}`,
      );
    const verifyMax = opts.forensicsVerifyMax ?? 20_000;
    const pulse =
      b.receipts.length > verifyMax
        ? notVerifiedPulse(b.receipts.length, verifyMax)
        : pulseSummary(await verifyBundle(b, runtime.trust.file, b.receipts.length > 2_000 ? {} : { workers: 1 }));
    const digest = makeDigest(job, b.receipts, size, receiptKey, now());
    const summary = summarize(b.receipts.slice(0, size));
    const current = { tree_size: b.receipts.length, root_hash: b.tree_head.root_hash };
    const comment = renderComment({ digest, summary, pulse, receipts: b.receipts, current }, maxChars);
    send(res, 200, {
      job,
      status: record.status,
      digest,
      covers: `${FORENSICS_FORMAT}: root_hash is the RFC 9162 Merkle root over the job's receipts 1..tree_size in log order, each leaf SHA-256(0x00 || JCS(receipt)); it equals tree_head.root_hash of a proof bundle exported at tree_size, and the root over the first tree_size receipts of any later bundle of the job. tree_head is {job, tree_size, root_hash, timestamp} signed by the receipt signer.`,
      current,
      summary,
      trust_pulse: pulse,
      comment,
    });
  };

  const notify = async (req: IncomingMessage, res: ServerResponse, incidentId: string) => {
    if (!notifier)
      throw new AdminRefusal(
        503,
        "notify_not_configured",
        "notify.incident_webhook",
        "this server has no incident webhook",
        `add notify.incident_webhook {url, secret_env} to ${runtime.paths.config} (see docs/notifications.md) and restart gsmcp serve`,
      );
    const { jobs } = parseNotifyBody(await readJsonBody(req));
    const backend = await runtime.backend();
    const backendFailure = (e: unknown, what: string): AdminRefusal => {
      if (e instanceof BackendError && e.failure === "not_found")
        return new AdminRefusal(
          404,
          "no_such_incident",
          "incident",
          `no incident ${incidentId} in the workspace`,
          "give the incident's name (triggerBody()?['object']?['name'])",
          {},
          { incident: incidentId },
        );
      return new AdminRefusal(
        502,
        "backend_error",
        undefined,
        `reading the ${what} from Sentinel failed: ${(e as Error).message?.slice(0, 300)}`,
        "retry later; the Logic App retries by itself on 502",
      );
    };
    const incident = await backend.getIncident(incidentId).catch((e) => {
      throw backendFailure(e, "incident");
    });
    const alerts = await backend.incidentAlerts(incidentId).catch((e) => {
      throw backendFailure(e, "incident's alerts");
    });
    const noticeJobs: IncidentNoticeJob[] = [];
    for (const [i, job] of jobs.entries()) {
      const rec = await runtime.jobs.get(job);
      if (!rec)
        throw new AdminRefusal(
          404,
          "no_such_job",
          `body.jobs[${i}]`,
          `no job ${job}`,
          "check the id: gsmcp jobs list",
          {},
          { job },
        );
      noticeJobs.push({ job, agent: rec.agent, status: rec.status, ...(await jobHead(runtime, job)) });
    }
    const notice = buildIncidentNotice(runtime.config.server_id, incident, alerts, noticeJobs);
    const r = await notifier.send(notice);
    log(`gsmcp: operator endpoint: incident ${incidentId} notice ${r.id}: ${r.status}`);
    const status = r.status === "delivered" || r.status === "duplicate" ? 200 : r.status === "spooled" ? 202 : 502;
    send(res, status, {
      incident: incidentId,
      delivery: { id: r.id, status: r.status, attempts: r.attempts, ...("error" in r ? { error: r.error } : {}) },
      ...(status === 502
        ? {
            error: "notify_failed",
            message: `the webhook refused the notice (${r.status})`,
            fix: "see the receiver's log; the notice is in the spool's dead/ directory",
          }
        : {}),
    });
  };

  return {
    async handle(req, res, rawUrl) {
      const q = rawUrl.indexOf("?");
      const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
      const search = q < 0 ? "" : rawUrl.slice(q + 1);
      // Authenticate first: nothing about routes or jobs is told to a caller without the operator token.
      const bearer = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (!operatorTokenMatches(bearer, opts.token)) {
        const err = new GovernanceError(
          bearer ? "auth_invalid" : "auth_missing",
          "operator token required",
          opts.token
            ? "send Authorization: Bearer <the operator token: GSMCP_ADMIN_TOKEN or keys/admin-token>"
            : "this server has no operator token: set GSMCP_ADMIN_TOKEN or write keys/admin-token, then restart it",
        );
        return hooks.refuseUnauthenticated(req, res, err, WHAT);
      }
      try {
        let m: Matched;
        try {
          m = matchAdminRoute(req.method ?? "GET", path);
        } catch (e) {
          // Unknown routes spend the state budget too: an operator token in a loop is throttled either way.
          limits.state.take("operator");
          throw e;
        }
        const wait = limits[m.route.budget].take("operator");
        if (wait > 0) {
          const after = retryAfterSeconds(wait);
          throw new AdminRefusal(
            429,
            "rate_limited",
            undefined,
            `too many operator ${m.route.budget === "forensics" ? "forensics reads" : "requests"}`,
            `retry after ${after} s`,
            { "retry-after": String(after) },
            { retry_after_seconds: after },
          );
        }
        const query = parseAdminQuery(m.route, search);
        const { job, incident } = m.params;
        if (m.route.path.endsWith("/pause")) return await pauseResume(res, job!, "pause");
        if (m.route.path.endsWith("/resume")) return await pauseResume(res, job!, "resume");
        if (m.route.path.endsWith("/forensics")) return await forensics(res, job!, query);
        return await notify(req, res, incident!);
      } catch (e) {
        if (e instanceof AdminRefusal) return refuse(req, res, e);
        throw e;
      }
    },
    close() {
      notifier?.close();
    },
  };
}
