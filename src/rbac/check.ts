import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type HomeConfig, type HomePaths, requireHome } from "../governance/home.js";
import { loadPolicy, type VerifiedPolicy } from "../governance/policy.js";
import { TrustStore } from "../governance/trust.js";
import { readRegistry, type WorkspaceEntry } from "../registry/workspaces.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import type { AgentSecurityEvent } from "../types/agent-security-event.js";
import type { WorkPolicyContract } from "../types/wpc.js";
import { IDENTITY_FILE } from "../workspace/arm-authorization.js";
import { comparePermissions, type ExcessFinding, type MissingFinding } from "./effective.js";
import { policyNeeds } from "./role.js";

// The effective-permission check: under the server's own credential (the backend's), read what the identity may do on
// each workspace and compare it with what the policy needs. serve runs it at start and then periodically; doctor
// runs it once. With token_requirements.require_least_privilege, excess (or a check that cannot run) refuses to serve.

export type CheckStatus = "ok" | "missing" | "excess" | "missing+excess" | "error";

export interface PermissionReport {
  workspace: string;
  tenant: string;
  status: CheckStatus;
  missing: MissingFinding[];
  /** Dangerous first. */
  excess: ExcessFinding[];
  /** Why the permissions could not be read (status "error"). */
  error?: string;
  requireLeastPrivilege: boolean;
  /** Serving must stop: excess, or an unreadable identity, under require_least_privilege. */
  refuse: boolean;
  checkedAt: string;
}

/** Which registry workspaces are checked: Azure ones, and embedded ones given an identity (identity.json). */
export function checkedWorkspaces(
  paths: HomePaths,
  entries: readonly WorkspaceEntry[],
  forced?: "local" | "azure",
): WorkspaceEntry[] {
  return entries.filter((e) =>
    (forced ?? e.backend) === "azure" ? true : existsSync(join(paths.root, e.local_dir ?? "workspace", IDENTITY_FILE)),
  );
}

/** The report when the permissions cannot be read. Fail closed: least privilege that cannot be shown is not assumed. */
export function unreadableReport(
  entry: { name: string; tenant: string },
  wpc: WorkPolicyContract,
  e: unknown,
  at: Date,
): PermissionReport {
  const requireLeastPrivilege = wpc.token_requirements.require_least_privilege === true;
  return {
    workspace: entry.name,
    tenant: entry.tenant,
    status: "error",
    missing: [],
    excess: [],
    error: (e as Error).message,
    requireLeastPrivilege,
    refuse: requireLeastPrivilege,
    checkedAt: at.toISOString(),
  };
}

/** Reads the identity's permissions through `backend` and compares them with what `wpc` needs on `entry`. */
export async function checkWorkspace(
  backend: SentinelBackend,
  wpc: WorkPolicyContract,
  entry: { name: string; tenant: string },
  now: () => Date = () => new Date(),
): Promise<PermissionReport> {
  const requireLeastPrivilege = wpc.token_requirements.require_least_privilege === true;
  const base = { workspace: entry.name, tenant: entry.tenant, requireLeastPrivilege };
  let perms: Awaited<ReturnType<NonNullable<SentinelBackend["permissions"]>>>;
  try {
    if (!backend.permissions) throw new Error("this backend cannot read its identity's permissions");
    perms = await backend.permissions();
  } catch (e) {
    return unreadableReport(entry, wpc, e, now());
  }
  const { missing, excess } = comparePermissions(perms, policyNeeds(wpc, entry).all);
  const status: CheckStatus =
    missing.length && excess.length ? "missing+excess" : missing.length ? "missing" : excess.length ? "excess" : "ok";
  return {
    ...base,
    status,
    missing,
    excess,
    refuse: requireLeastPrivilege && excess.length > 0,
    checkedAt: now().toISOString(),
  };
}

const short = (name: string) => name.replace(/^Microsoft\.(SecurityInsights|OperationalInsights\/workspaces)\//i, "");

/** One paragraph for stderr / doctor: what is missing (and which tools fail), what is excess (dangerous first). */
export function describeReport(r: PermissionReport): string {
  if (r.status === "error") return `permissions on workspace ${r.workspace} could not be read: ${r.error}`;
  if (r.status === "ok") return `identity on workspace ${r.workspace} holds exactly what the policy needs`;
  const parts: string[] = [];
  if (r.missing.length)
    parts.push(
      `${r.missing.length} missing (${r.missing
        .slice(0, 6)
        .map((m) => `${short(m.name)} → ${m.tools.join(", ")}${m.rollbackOnly ? " (rollback)" : ""}`)
        .join("; ")}${r.missing.length > 6 ? "; …" : ""})`,
    );
  if (r.excess.length)
    parts.push(
      `${r.excess.length} excess, dangerous first (${r.excess
        .slice(0, 6)
        .map((x) => `${x.danger}: ${x.name}`)
        .join("; ")}${r.excess.length > 6 ? "; …" : ""})`,
    );
  return `identity on workspace ${r.workspace}: ${parts.join("; ")}`;
}

/** The fix line for a report. */
export function fixFor(r: PermissionReport): string {
  if (r.status === "error")
    return "check the server's credential can reach Azure Resource Manager (GET …/providers/Microsoft.Authorization/permissions)";
  if (r.excess.length)
    return 'assign only the roles of "gsmcp policy role POLICY" at the workspace and remove the other assignments (and group memberships) of the server\'s identity';
  return 'assign the roles of "gsmcp policy role POLICY" at the workspace (the tools listed fail until then)';
}

const SEVERITY: Record<ExcessFinding["danger"], number> = { critical: 4, high: 3, medium: 2, low: 2 };

/** The AgentSecurityEvent the SOC alerts on (EventType PermissionCheck, Action rbac.check). */
export function permissionEvent(
  r: PermissionReport,
  ctx: { policyHash: string; serverId?: string; scope?: string },
): AgentSecurityEvent {
  const decision = r.refuse ? "BLOCK" : r.status === "ok" ? "ALLOW" : "LOG";
  const severity = r.refuse
    ? 4
    : r.status === "error"
      ? 3
      : r.excess.length
        ? Math.max(...r.excess.map((x) => SEVERITY[x.danger]))
        : r.missing.length
          ? 2
          : 1;
  return {
    TimeGenerated: r.checkedAt,
    EventId: randomUUID(),
    AgentId: ctx.serverId ?? "-",
    TenantId: r.tenant,
    EventType: "PermissionCheck",
    Action: "rbac.check",
    PolicyDecision: decision,
    ToolName: "-",
    ToolParameters: {
      workspace: r.workspace,
      ...(ctx.scope ? { scope: ctx.scope } : {}),
      require_least_privilege: r.requireLeastPrivilege,
      refused: r.refuse,
      missing: r.missing.map((m) => ({ name: m.name, tools: m.tools })),
      excess: r.excess.map((x) => ({ name: x.name, danger: x.danger, why: x.why })),
      ...(r.error ? { error: r.error } : {}),
    },
    ToolResult:
      r.status === "ok"
        ? "ok"
        : r.status === "error"
          ? "error"
          : `excess:${r.excess.length},missing:${r.missing.length}`,
    ErrorCode: r.refuse ? 403 : 0,
    Severity: severity,
    SourceSystem: "governed-sentinel-mcp",
    PolicyHash: ctx.policyHash,
    Workspace: r.workspace,
  };
}

export interface PermissionWatchOptions {
  paths: HomePaths;
  entries: readonly WorkspaceEntry[];
  forced?: "local" | "azure";
  wpc: WorkPolicyContract;
  policyHash: string;
  serverId?: string;
  backendFor: (workspace: string) => Promise<SentinelBackend>;
  emit: (e: AgentSecurityEvent) => void;
  /** Each report, as it is made (stderr in serve). */
  report?: (r: PermissionReport) => void;
  /** A periodic check found a reason to refuse (the start check throws instead). */
  onRefuse: (reports: PermissionReport[]) => void;
  /** Re-check period; 0: never. Default 900 s (GSMCP_RBAC_CHECK_SECONDS). */
  intervalMs?: number;
  now?: () => Date;
}

/** A refusal to serve, with every report that caused it. */
export class LeastPrivilegeRefusal extends Error {
  constructor(readonly reports: PermissionReport[]) {
    super(
      `token_requirements.require_least_privilege: ${reports.map((r) => describeReport(r)).join(" | ")}; refusing to serve`,
    );
    this.name = "LeastPrivilegeRefusal";
  }
}

/** The re-check period from GSMCP_RBAC_CHECK_SECONDS (default 900; 0 turns it off). */
export function intervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.GSMCP_RBAC_CHECK_SECONDS;
  if (v === undefined || v === "") return 900_000;
  if (!/^[0-9]+$/.test(v))
    throw new Error(`GSMCP_RBAC_CHECK_SECONDS="${v}" is not a number of seconds (0 turns the re-check off)`);
  return Number(v) * 1000;
}

/**
 * Checks every checked workspace now (throws LeastPrivilegeRefusal when serving must not start), then again every
 * `intervalMs`, emitting an event at start and whenever a workspace's result changes. Returns the first reports and a
 * stop function.
 */
export async function startPermissionWatch(
  o: PermissionWatchOptions,
): Promise<{ reports: PermissionReport[]; stop(): void }> {
  const targets = checkedWorkspaces(o.paths, o.entries, o.forced);
  const last = new Map<string, string>();
  const fingerprint = (r: PermissionReport) =>
    JSON.stringify([r.status, r.missing.map((m) => m.name), r.excess.map((x) => x.name), r.error ?? ""]);
  const runOnce = async (always: boolean): Promise<PermissionReport[]> => {
    const reports: PermissionReport[] = [];
    for (const entry of targets) {
      let r: PermissionReport;
      try {
        r = await checkWorkspace(await o.backendFor(entry.name), o.wpc, entry, o.now);
      } catch (e) {
        r = unreadableReport(entry, o.wpc, e, (o.now ?? (() => new Date()))());
      }
      reports.push(r);
      const fp = fingerprint(r);
      if (always || last.get(entry.name) !== fp) {
        o.report?.(r);
        try {
          o.emit(permissionEvent(r, { policyHash: o.policyHash, ...(o.serverId ? { serverId: o.serverId } : {}) }));
        } catch (e) {
          process.stderr.write(`gsmcp: the PermissionCheck event was not accepted: ${(e as Error).message}\n`);
        }
      }
      last.set(entry.name, fp);
    }
    return reports;
  };
  const reports = await runOnce(true);
  const refused = reports.filter((r) => r.refuse);
  if (refused.length) throw new LeastPrivilegeRefusal(refused);
  const intervalMs = o.intervalMs ?? 900_000;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  if (intervalMs > 0 && targets.length) {
    timer = setInterval(() => {
      if (running) return;
      running = true;
      runOnce(false)
        .then((rs) => {
          const bad = rs.filter((r) => r.refuse);
          if (bad.length) o.onRefuse(bad);
        })
        .catch((e) => process.stderr.write(`gsmcp: permission re-check failed: ${(e as Error).message}\n`))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
  }
  return {
    reports,
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

/** What a serving runtime offers the watch (src/server/runtime.ts Runtime, structurally). */
export interface ServingRuntime {
  paths: HomePaths;
  config: HomeConfig;
  policy: VerifiedPolicy | Error;
  telemetry: { emit(e: AgentSecurityEvent): void };
  backendFor(workspace?: string): Promise<SentinelBackend>;
}

/**
 * serve's hook: checks the identity of every checked workspace under the runtime's own backends (the credential the
 * tools use), reports on stderr and in telemetry, and re-checks every GSMCP_RBAC_CHECK_SECONDS. Throws
 * LeastPrivilegeRefusal when serving must not start. Without a usable policy there is nothing to compare (every call
 * is refused anyway).
 */
export async function watchServingIdentity(
  rt: ServingRuntime,
  o: { onRefuse: (reports: PermissionReport[]) => void; env?: NodeJS.ProcessEnv },
): Promise<{ reports: PermissionReport[]; stop(): void }> {
  if (rt.policy instanceof Error) return { reports: [], stop() {} };
  const env = o.env ?? process.env;
  const forced = env.GSMCP_BACKEND === "azure" || env.GSMCP_BACKEND === "local" ? env.GSMCP_BACKEND : undefined;
  return startPermissionWatch({
    paths: rt.paths,
    entries: readRegistry(rt.paths, rt.config, env).entries,
    ...(forced ? { forced } : {}),
    wpc: rt.policy.wpc,
    policyHash: rt.policy.hash,
    serverId: rt.config.server_id,
    backendFor: (ws) => rt.backendFor(ws),
    emit: (e) => rt.telemetry.emit(e),
    report: (r) =>
      process.stderr.write(`gsmcp: ${describeReport(r)}${r.status === "ok" ? "" : ` — fix: ${fixFor(r)}`}\n`),
    onRefuse: (reports) => {
      process.stderr.write(`gsmcp: ${new LeastPrivilegeRefusal(reports).message}\n`);
      o.onRefuse(reports);
    },
    intervalMs: intervalFromEnv(env),
  });
}

/** The shape of a `gsmcp doctor` check (src/cli/commands/doctor.ts DoctorCheck). */
export interface IdentityDoctorCheck {
  check: string;
  status: "ok" | "warn" | "unsafe";
  message: string;
  fix?: string;
  details?: string[];
}

/**
 * doctor's hook: one check per workspace whose identity is checked (`rbac:<name>`), against the policy GSMCP_POLICY
 * names, through a backend opened with the workspace's own credential and closed afterwards. Nothing when no
 * workspace is checked (embedded workspaces without identity.json).
 */
export async function doctorIdentityChecks(
  paths: HomePaths,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IdentityDoctorCheck[]> {
  let config: HomeConfig;
  let entries: WorkspaceEntry[];
  try {
    config = requireHome(paths.root).config;
    entries = readRegistry(paths, config, env).entries;
  } catch (e) {
    return [
      { check: "rbac", status: "warn", message: `not checked: ${(e as Error).message}`, fix: "fix the home first" },
    ];
  }
  const forced = env.GSMCP_BACKEND === "azure" || env.GSMCP_BACKEND === "local" ? env.GSMCP_BACKEND : undefined;
  const targets = checkedWorkspaces(paths, entries, forced);
  if (!targets.length) return [];
  if (!env.GSMCP_POLICY)
    return [
      {
        check: "rbac",
        status: "warn",
        message: `identity of ${targets.length} workspace(s) not checked: no policy to compare with`,
        fix: "set GSMCP_POLICY to the policy serve uses",
      },
    ];
  let policy: VerifiedPolicy;
  try {
    policy = loadPolicy(env.GSMCP_POLICY, paths, TrustStore.load(paths));
  } catch (e) {
    return [
      {
        check: "rbac",
        status: "warn",
        message: `not checked: the policy GSMCP_POLICY names is not usable (${(e as Error).message})`,
        fix: "point GSMCP_POLICY at a signed policy (gsmcp policy verify)",
      },
    ];
  }
  const { openBackend, openBackendFor } = await import("../sentinel/open.js");
  const checks: IdentityDoctorCheck[] = [];
  for (const entry of targets) {
    let r: PermissionReport;
    let backend: SentinelBackend | undefined;
    try {
      backend = await (forced && forced !== entry.backend ? openBackend(paths, forced) : openBackendFor(paths, entry));
      r = await checkWorkspace(backend, policy.wpc, entry);
    } catch (e) {
      r = unreadableReport(entry, policy.wpc, e, new Date());
    } finally {
      await backend?.close().catch(() => undefined);
    }
    checks.push({
      check: `rbac:${entry.name}`,
      status: r.refuse ? "unsafe" : r.status === "ok" ? "ok" : "warn",
      message: `${describeReport(r)}${r.refuse ? " (serve refuses: require_least_privilege)" : ""}`,
      ...(r.status === "ok" ? {} : { fix: fixFor(r) }),
      ...(r.missing.length || r.excess.length
        ? {
            details: [
              ...r.missing.map((m) => `missing ${m.name}: ${m.tools.join(", ")}${m.rollbackOnly ? " (rollback)" : ""}`),
              ...r.excess.map((x) => `excess (${x.danger}) ${x.name}: ${x.why}`),
            ],
          }
        : {}),
    });
  }
  return checks;
}
