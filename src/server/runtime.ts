import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningKey } from "../crypto/keys.js";
import { type Approval, ApprovalStore } from "../governance/approvals.js";
import { type DanglingIntent, danglingIntents } from "../governance/dangling.js";
import { GovernanceError } from "../governance/errors.js";
import { type HomeConfig, type HomePaths, requireHome, validateNotifyConfig } from "../governance/home.js";
import { JobStore } from "../governance/jobs.js";
import { Governor } from "../governance/pipeline.js";
import { loadPolicy, type VerifiedPolicy } from "../governance/policy.js";
import { rollbackWrite } from "../governance/rollback.js";
import type { ToolCallResult } from "../governance/stages/types.js";
import { readTokenRef } from "../governance/token.js";
import { loadSigningKey, TrustStore } from "../governance/trust.js";
import { notifyApprovalRequired } from "../notify/approval-notice.js";
import { WebhookSpool } from "../notify/spool.js";
import {
  startSpoolDrain,
  type WebhookEvent,
  type WebhookSender,
  type WebhookSenderOptions,
  webhookSenderFromConfig,
} from "../notify/webhook.js";
import { exportBundle } from "../receipts/bundle.js";
import { CHECKPOINTS_FILE, Checkpointer } from "../receipts/checkpoint.js";
import { ReceiptStore } from "../receipts/store.js";
import { readRegistry } from "../registry/workspaces.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import { createKqlFactsAnalyzer } from "../sentinel/kql-facts.js";
import { openBackend, openBackendFor } from "../sentinel/open.js";
import type { StateStore } from "../state/contract.js";
import { openStore } from "../state/open.js";
import { ingestByTenant, openTelemetry } from "../telemetry/open.js";
import type { TelemetrySink } from "../telemetry/sink.js";
import { governedSession, type SessionHost } from "./session.js";
import { ungovernedSession } from "./ungoverned.js";

export interface RuntimeOptions {
  home: string;
  /** Raw token or "@file" (GSMCP_CST). */
  tokenRef?: string;
  /** Policy path or hash (GSMCP_POLICY). */
  policyRef?: string;
  backend?: "local" | "azure";
  ungoverned?: boolean;
  /** Checkpoints of the receipt log: every N receipts (GSMCP_CHECKPOINT_EVERY, default 64), every T ms
   * (GSMCP_CHECKPOINT_INTERVAL_MS, default 10 000); 0 turns either off. One is always made at close. */
  checkpoints?: { every?: number; intervalMs?: number };
  /**
   * Send the approval_required webhook of config.json `notify` when a call creates a pending approval, and drain the
   * webhook spool while the runtime is open (`gsmcp serve`). Off by default: other commands that open a runtime send
   * nothing. Without a `notify.webhook` block it does nothing.
   */
  notify?: boolean | NotifyOptions;
}

export interface NotifyOptions {
  /** Where the variable named by notify.webhook.secret_env is read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How often the spool is drained. Default 60 s. */
  drainIntervalMs?: number;
  /** Sender tuning (backoff, spool policy, clock): tests. URL, secret, timeout, attempts and spool come from the home. */
  sender?: Partial<Omit<WebhookSenderOptions, "url" | "secret" | "spool" | "timeoutMs" | "maxAttempts">>;
}

/** The approval_required webhook as `gsmcp serve` sends it. */
export interface ApprovalNotifier {
  sender: WebhookSender;
  /** Fire-and-forget: hands the approval to the sender (which spools it before its first attempt) and returns. */
  notify(a: Approval): void;
  /** Settles when the deliveries begun so far have been delivered, spooled or given up. */
  settled(): Promise<void>;
  /** Stops the spool drain and waits (at most `graceMs`) for deliveries in progress. */
  close(graceMs?: number): Promise<void>;
}

/** Where webhook deliveries wait: GSMCP_HOME/spool/webhooks (shared with `gsmcp console`, which sends reminders). */
export const webhookSpoolDir = (paths: HomePaths): string => join(paths.root, "spool", "webhooks");

/**
 * The approval notifier of a home: undefined without `notify.webhook`. Throws NotifyConfigError for a bad block and
 * NotifyError when the secret's variable is not set (or too short), so a server refuses to start rather than leave
 * approvers unaware. Starts draining the spool now (and every `drainIntervalMs`).
 */
export function openApprovalNotifier(
  paths: HomePaths,
  config: HomeConfig,
  o: NotifyOptions = {},
): ApprovalNotifier | undefined {
  const notify = validateNotifyConfig(config.notify, paths.config);
  if (!notify?.webhook || !notify.console_url) return undefined;
  const consoleUrl = notify.console_url;
  const report = (e: WebhookEvent) => {
    // Delivered and retried attempts are routine; what an operator must know is a notice that is waiting or lost.
    if (e.type === "delivered" || e.type === "attempt_failed") return;
    process.stderr.write(
      `gsmcp: webhook ${e.event} (delivery ${e.id}) to ${e.target}: ${e.type} after ${e.attempt} attempt(s)${e.error ? ` (${e.error})` : ""}\n`,
    );
  };
  const sender = webhookSenderFromConfig(notify.webhook, {
    env: o.env ?? process.env,
    spool: new WebhookSpool(webhookSpoolDir(paths)),
    ...o.sender,
    onEvent: (e) => {
      report(e);
      o.sender?.onEvent?.(e);
    },
  });
  const inFlight = new Set<Promise<unknown>>();
  const stopDrain = startSpoolDrain(sender, {
    ...(o.drainIntervalMs !== undefined ? { intervalMs: o.drainIntervalMs } : {}),
    onError: (e) => process.stderr.write(`gsmcp: webhook spool drain failed: ${(e as Error).message ?? String(e)}\n`),
  });
  const settled = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    sender,
    notify(a) {
      const p = notifyApprovalRequired(sender.deliver.bind(sender), a, consoleUrl).catch((e) =>
        process.stderr.write(`gsmcp: approval_required webhook for ${a.approval_id} failed: ${(e as Error).message}\n`),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    settled,
    async close(graceMs = 5_000) {
      stopDrain();
      // A delivery still retrying after the grace period stays claimed in the spool; a later drain resumes it.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => {
        timer = setTimeout(r, graceMs);
      });
      await Promise.race([settled(), grace]);
      clearTimeout(timer);
    },
  };
}

export interface Runtime {
  paths: HomePaths;
  config: HomeConfig;
  /** The governor for the session token given in the options (stdio). */
  governor: Governor;
  /** A governor for another token over the same stores and backend (HTTP sessions). */
  governorFor(token: string): Governor;
  /** What the MCP server serves for the options' token: governed, or the bench's ungoverned baseline. */
  session: SessionHost;
  /** A governed MCP session for another token (HTTP). */
  sessionFor(governor: Governor): SessionHost;
  receipts: ReceiptStore;
  /** The one backend connection every session of this runtime shares (opened on first use). */
  backend: () => Promise<SentinelBackend>;
  /** A registry workspace's backend (the default one without a name), shared the same way. */
  backendFor: (workspace?: string) => Promise<SentinelBackend>;
  /** Rolls back a write from its intent receipt, as an operator (receipts and events like any call). */
  rollback(intentReceiptId: string, operator: string): Promise<ToolCallResult>;
  /** Write intents without an outcome, with the resource's state now. */
  danglingIntents(): Promise<DanglingIntent[]>;
  jobs: JobStore;
  approvals: ApprovalStore;
  /** The state store (SQLite in GSMCP_HOME, or PostgreSQL from GSMCP_STORE). */
  store: StateStore;
  trust: TrustStore;
  telemetry: TelemetrySink;
  policy: VerifiedPolicy | GovernanceError;
  /** The approval_required webhook, when the runtime was opened with `notify` and config.json has a webhook. */
  notifier?: ApprovalNotifier;
  /** Signs and publishes a checkpoint of the whole receipt log now (undefined when it did not grow). */
  checkpoint(): Promise<{ note: string; size: number; root: string } | undefined>;
  close(): Promise<void>;
}

/** Builds a governor from GSMCP_HOME and the session's token and policy. A missing home is the only hard error. */
export async function openRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { paths, config } = requireHome(opts.home);
  // First, before anything is opened: a bad notify block or a missing secret stops here, naming the field.
  const notifier =
    opts.notify && !opts.ungoverned
      ? openApprovalNotifier(paths, config, opts.notify === true ? {} : opts.notify)
      : undefined;
  const trust = TrustStore.load(paths);
  const receiptKey = loadSigningKey(paths, "receiptSigner");
  const store = await openStore(paths);
  const receipts = new ReceiptStore(store.receipts, receiptKey);
  const jobs = new JobStore(store.jobs);
  const approvals = new ApprovalStore(store.approvals);

  let policy: VerifiedPolicy | GovernanceError;
  try {
    if (!opts.policyRef) {
      throw new GovernanceError(
        "policy_missing",
        "no policy configured",
        "set GSMCP_POLICY to a signed policy file or its sha256 hash",
      );
    }
    policy = loadPolicy(opts.policyRef, paths, trust);
  } catch (e) {
    policy = e instanceof GovernanceError ? e : new GovernanceError("policy_invalid", (e as Error).message);
  }

  let token = "";
  try {
    token = readTokenRef(opts.tokenRef, (p) => readFileSync(p, "utf8"));
  } catch (e) {
    // An unreadable @file means no token: every call is refused as auth_missing, with a receipt.
    process.stderr.write(`gsmcp: cannot read the token file named by GSMCP_CST: ${(e as Error).message}\n`);
  }

  // A backend kind forced by the caller or GSMCP_BACKEND (else each registry entry's own).
  const forced = opts.backend ?? (process.env.GSMCP_BACKEND as "local" | "azure" | undefined);
  if (opts.ungoverned && (forced ?? config.backend) !== "local") {
    throw new GovernanceError(
      "internal_error",
      "ungoverned mode exists only for benchmarks against the local workspace",
    );
  }
  // One backend per registry workspace, opened on first use. A backend kind forced by the caller or GSMCP_BACKEND
  // that differs from the entry's (a home made for the other kind) opens that kind as before.
  const registry = readRegistry(paths, config);
  const backends = new Map<string, Promise<SentinelBackend>>();
  const backendFor = (workspace?: string) => {
    const entry = registry.resolve(workspace);
    let b = backends.get(entry.name);
    if (!b) {
      b = forced && forced !== entry.backend ? openBackend(paths, forced) : openBackendFor(paths, entry);
      backends.set(entry.name, b);
    }
    return b;
  };
  const backend = () => backendFor();
  const analyzeKql = createKqlFactsAnalyzer(backend);
  // Each tenant's events go to its own workspace's Logs Ingestion endpoint (when the policy sends events there).
  const telemetry = openTelemetry(
    paths,
    policy instanceof GovernanceError ? undefined : policy.wpc,
    backend,
    ingestByTenant(registry.entries, backendFor),
  );

  const envInt = (v: string | undefined) => (v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : undefined);
  const every = opts.checkpoints?.every ?? envInt(process.env.GSMCP_CHECKPOINT_EVERY);
  const intervalMs = opts.checkpoints?.intervalMs ?? envInt(process.env.GSMCP_CHECKPOINT_INTERVAL_MS);
  const checkpointer = new Checkpointer({
    log: store.receipts,
    key: receiptKey,
    serverId: config.server_id,
    file: join(paths.root, CHECKPOINTS_FILE),
    telemetry,
    tenantId: process.env.AZURE_TENANT_ID ?? "local",
    ...(every === undefined ? {} : { every }),
    ...(intervalMs === undefined ? {} : { intervalMs }),
  });
  receipts.onAppended((r) => checkpointer.appended(r));

  const telemetryHealth = { failures: 0 };
  // Approvals given in the MCP client are signed with their own key; a home made before it existed has none, and then
  // the client is never asked (approvals come from an approver).
  let clientAssertionSigner: SigningKey | undefined;
  try {
    clientAssertionSigner = loadSigningKey(paths, "clientAssertionSigner");
  } catch {
    clientAssertionSigner = undefined;
  }
  const rollbackState = store.rollbackState;
  const governorFor = (sessionToken: string) =>
    new Governor({
      serverId: config.server_id,
      audience: config.audience,
      tenantId: process.env.AZURE_TENANT_ID ?? "local",
      trust,
      policy,
      token: sessionToken,
      receipts,
      telemetry,
      jobs,
      approvals,
      ...(clientAssertionSigner ? { clientAssertionSigner } : {}),
      backend: backendFor,
      analyzeKql,
      workspaceName: registry.defaultEntry.name,
      registry,
      telemetryHealth,
      rollbackState,
      ...(notifier ? { notifyApproval: (a: Approval) => notifier.notify(a) } : {}),
    });
  const governor = governorFor(token);
  const proofBundle = async (job: string) => {
    // A private folder per read, removed whole afterwards (removing only the file left one folder per read).
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-proof-"));
    const file = join(dir, "bundle.json");
    try {
      await exportBundle({ paths, serverId: config.server_id, store, trust, receiptKey, job, out: file });
      return readFileSync(file, "utf8");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const sessionFor = (g: Governor) => governedSession(g, proofBundle);

  return {
    paths,
    config,
    governor,
    governorFor,
    session: opts.ungoverned ? ungovernedSession(backend) : sessionFor(governor),
    sessionFor,
    receipts,
    backend,
    backendFor,
    rollback: (id, operator) => rollbackWrite(governor, id, operator),
    danglingIntents: () => danglingIntents({ receipts, backend: backendFor, rollbackState }),
    jobs,
    approvals,
    store,
    trust,
    telemetry,
    policy,
    ...(notifier ? { notifier } : {}),
    checkpoint: () => checkpointer.checkpoint(),
    async close() {
      await notifier?.close();
      await checkpointer.close();
      await telemetry.close().catch(() => undefined);
      await analyzeKql.close();
      for (const b of backends.values()) await (await b.catch(() => undefined))?.close();
      await store.close();
    },
  };
}
