import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApprovalStore } from "../../../src/governance/approvals.js";
import type { KqlFacts } from "../../../src/governance/decide.js";
import { JobStore } from "../../../src/governance/jobs.js";
import { Governor } from "../../../src/governance/pipeline.js";
import { policyHash, signPolicy, type VerifiedPolicy } from "../../../src/governance/policy.js";
import { Redactor } from "../../../src/governance/redact.js";
import type { CallEnv, Caller, GovernorDeps } from "../../../src/governance/stages/types.js";
import { issueToken } from "../../../src/governance/token.js";
import { ReceiptStore } from "../../../src/receipts/store.js";
import type { IncidentSummary, SentinelBackend } from "../../../src/sentinel/backend.js";
import { openSqliteStore } from "../../../src/state/sqlite-store.js";
import type { AgentSecurityEvent, TelemetrySink } from "../../../src/telemetry/sink.js";
import { KNOWN_OPS } from "../../../src/tools/registry.js";
import type { CstClaims } from "../../../src/types/cst.js";
import type { WorkPolicyContract } from "../../../src/types/wpc.js";
import { makeKeys, type TestKeys } from "../../helpers/keys.js";

// Stages under test without a server: real stores on a throw-away SQLite file, real keys, signed policy and token,
// and a small in-memory Sentinel with the few operations the stage tests call.

export const POLICY: WorkPolicyContract = {
  wpc_version: "v1",
  policy_name: "stage-tests",
  allow: [{ tool: "sentinel.api", ops: ["incidents.get", "incidents.list", "incidents.update", "huntingQueries.run"] }],
  deny: [{ tool: "sentinel.api", ops: ["incidents.close"] }],
  approvals: [{ name: "updates", required_for: ["incidents.update"], mode: "explicit", ttl_seconds: 600 }],
  token_requirements: { cst_ttl_seconds_max: 900 },
  constraints: { "*": { max_rows: 50, max_result_bytes: 200_000 } },
} as WorkPolicyContract;

export function incident(id: string, extra: Partial<IncidentSummary> = {}): IncidentSummary {
  return { id, title: `Incident ${id}`, severity: "Medium", status: "New", labels: [], etag: "e1", ...extra };
}

/** A Sentinel with incidents in a map; `fail` makes every call throw what it returns. */
export class MemorySentinel {
  readonly incidents = new Map<string, IncidentSummary>([["inc-1", incident("inc-1")]]);
  fail?: () => unknown;
  calls: string[] = [];

  backend(): SentinelBackend {
    const guard = (name: string) => {
      this.calls.push(name);
      if (this.fail) throw this.fail();
    };
    const api = {
      getIncident: async (id: string) => {
        guard("getIncident");
        const i = this.incidents.get(id);
        if (!i) throw new Error(`no incident ${id}`);
        return i;
      },
      updateIncident: async (id: string, patch: Partial<IncidentSummary>) => {
        guard("updateIncident");
        const next = { ...this.incidents.get(id)!, ...patch, etag: "e2" };
        this.incidents.set(id, next);
        return next;
      },
      getSavedSearch: async (id: string) => {
        guard("getSavedSearch");
        return { id, displayName: id, category: "Hunting Queries", query: "SecurityIncident | take 1", tags: [] };
      },
      close: async () => undefined,
    };
    return api as unknown as SentinelBackend;
  }
}

export class MemorySink implements TelemetrySink {
  events: AgentSecurityEvent[] = [];
  fail = false;
  emit(e: AgentSecurityEvent): void {
    if (this.fail) throw new Error("sink down");
    this.events.push(e);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

export interface Harness {
  keys: TestKeys;
  policy: VerifiedPolicy;
  deps: GovernorDeps;
  env: CallEnv;
  sentinel: MemorySentinel;
  sink: MemorySink;
  clock: { now: number };
  token(claims?: Partial<{ job: string; scope: string[]; ttl: number }>): Promise<string>;
  caller(job?: string, scope?: string[]): Caller;
  governor(token: string): Governor;
}

export async function harness(
  wpc: WorkPolicyContract = POLICY,
  opts: { backendDown?: boolean } = {},
): Promise<Harness> {
  const keys = makeKeys();
  const state = openSqliteStore(join(mkdtempSync(join(tmpdir(), "gsmcp-stage-")), "state.db"));
  const envelope = signPolicy(wpc, [keys.policySigner]);
  const policy: VerifiedPolicy = { wpc, hash: policyHash(wpc), envelope, signerKeyIds: [keys.policySigner.keyid] };
  const sentinel = new MemorySentinel();
  const sink = new MemorySink();
  const clock = { now: Date.parse("2026-12-01T12:00:00Z") };
  const analyzeKql = async (query: string): Promise<KqlFacts> => ({
    ok: true,
    diagnostics: [],
    tables: /SecurityIncident/.test(query) ? ["SecurityIncident"] : [],
    forbidden: [],
  });
  const deps: GovernorDeps = {
    serverId: "server-under-test",
    audience: "urn:gsmcp:test",
    tenantId: "tenant",
    trust: keys.trust,
    policy,
    token: "",
    receipts: new ReceiptStore(state.receipts, keys.receiptSigner),
    telemetry: sink,
    jobs: new JobStore(state.jobs),
    approvals: new ApprovalStore(state.approvals),
    clientAssertionSigner: keys.clientAssertionSigner,
    backend: async () => {
      if (opts.backendDown) throw new Error("connect ECONNREFUSED 127.0.0.1:443");
      return sentinel.backend();
    },
    analyzeKql,
    workspaceName: "ws",
    now: () => clock.now,
    rollbackState: state.rollbackState,
  };
  const env: CallEnv = { deps, now: () => clock.now, redactor: new Redactor(wpc.redaction) };
  const token = (c: Partial<{ job: string; scope: string[]; ttl: number }> = {}) =>
    issueToken({
      issuer: "test-issuer",
      audience: deps.audience,
      key: keys.tokenIssuer,
      agent: "agent-1",
      job: c.job ?? "job-1",
      scope: c.scope ?? KNOWN_OPS.filter((o) => !o.startsWith("governance.")),
      ttlSeconds: c.ttl ?? 600,
      policyHash: policy.hash,
      now: Math.floor(clock.now / 1000),
    });
  const caller = (job = "job-1", scope = KNOWN_OPS): Caller => ({
    policy,
    claims: { sub: "agent-1", job, jti: `jti-${job}`, scope, exp: clock.now / 1000 + 600 } as CstClaims,
  });
  return {
    keys,
    policy,
    deps,
    env,
    sentinel,
    sink,
    clock,
    token,
    caller,
    governor: (t) => new Governor({ ...deps, token: t }),
  };
}
