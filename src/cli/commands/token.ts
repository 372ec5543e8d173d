import type { Command } from "commander";
import { effectiveScope } from "../../governance/decide.js";
import { requireHome, writeSecret } from "../../governance/home.js";
import { loadPolicy } from "../../governance/policy.js";
import { issueToken } from "../../governance/token.js";
import { loadSigningKey, TrustStore } from "../../governance/trust.js";
import { readRegistry } from "../../registry/workspaces.js";
import { KNOWN_OPS } from "../../tools/registry.js";
import type { TokenIssueOutput } from "../../types/cli/token-issue.js";
import { CliError, out, printJson } from "../output.js";

export interface IssueOptions {
  policy: string;
  job: string;
  agent: string;
  ops?: string[];
  ttl?: number;
  workspaces?: string[];
  tenants?: string[];
  requestedBy?: string;
}

/** Issues a CST pinned to a signed policy; the scope may only narrow what the policy allows. */
export async function issueCst(
  home: string,
  o: IssueOptions,
): Promise<{ token: string; scope: string[]; ttl: number; policyHash: string }> {
  const { paths, config } = requireHome(home);
  const trust = TrustStore.load(paths);
  const policy = loadPolicy(o.policy, paths, trust);
  const policyOps = effectiveScope(policy.wpc, KNOWN_OPS, KNOWN_OPS).filter((op) => !op.startsWith("governance."));
  const scope = o.ops ?? policyOps;
  const outside = scope.filter((op) => !policyOps.includes(op));
  if (outside.length) {
    throw new CliError(
      `--ops includes ${outside.join(", ")}, which policy ${policy.wpc.policy_name} does not allow`,
      2,
      `allowed: ${policyOps.join(", ")}`,
    );
  }
  // Pins name what the registry holds: a typo would make a token that reaches nothing, or the wrong thing.
  const registry = readRegistry(paths, config);
  const unknownWs = (o.workspaces ?? []).filter((w) => !registry.has(w));
  if (unknownWs.length)
    throw new CliError(
      `--workspaces names ${unknownWs.join(", ")}, which the workspace registry does not hold`,
      2,
      `registered: ${registry.entries.map((e) => e.name).join(", ")} (gsmcp workspace list)`,
    );
  const tenantsKnown = new Set(registry.entries.map((e) => e.tenant));
  const unknownTenants = (o.tenants ?? []).filter((t) => !tenantsKnown.has(t));
  if (unknownTenants.length)
    throw new CliError(
      `--tenants names ${unknownTenants.join(", ")}, which no registered workspace belongs to`,
      2,
      `tenants: ${[...tenantsKnown].join(", ")} (gsmcp workspace list)`,
    );
  // A job whose writes need a distinct approver but names no requester could never have them approved: say so now.
  const sod = (policy.wpc.approvals ?? []).find(
    (r) => r.distinct_approver && r.required_for.some((op) => scope.includes(op)),
  );
  if (sod && !o.requestedBy)
    throw new CliError(
      `approval rule "${sod.name}" of policy ${policy.wpc.policy_name} requires an approver other than whoever started the job, and this token names no requester`,
      2,
      "add --requested-by <your console identity (tid:oid) or UPN>",
    );
  const max = policy.wpc.token_requirements.cst_ttl_seconds_max;
  const ttl = o.ttl ?? max;
  if (!Number.isInteger(ttl) || ttl < 1) throw new CliError(`--ttl must be a positive number of seconds`, 2);
  if (ttl > max)
    throw new CliError(`--ttl ${ttl} exceeds the policy maximum of ${max} seconds`, 2, `use --ttl ${max} or less`);
  const token = await issueToken({
    issuer: config.token_issuer,
    audience: config.audience,
    key: loadSigningKey(paths, "tokenIssuer"),
    agent: o.agent,
    job: o.job,
    scope,
    ttlSeconds: ttl,
    policyHash: policy.hash,
    ...(o.workspaces ? { workspaces: o.workspaces } : {}),
    ...(o.tenants ? { tenants: o.tenants } : {}),
    ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
  });
  return { token, scope, ttl, policyHash: policy.hash };
}

export function registerTokenCommands(program: Command, home: () => string): void {
  program
    .command("token")
    .description("scoped tokens (CST)")
    .command("issue")
    .requiredOption("--policy <file>", "signed policy (file or sha256 hash) the token is pinned to")
    .requiredOption("--job <id>", "job id the token is bound to")
    .requiredOption("--agent <id>", "agent id (token subject)")
    .option("--ops <list>", "comma-separated op ids (default: all the policy allows)")
    .option("--ttl <seconds>", "lifetime in seconds (default and maximum: the policy's cst_ttl_seconds_max)")
    .option("--workspaces <list>", "comma-separated workspace names (registry) to pin")
    .option("--tenants <list>", "comma-separated tenants to pin: every workspace the job names must belong to one")
    .option("--requested-by <who>", "who started the job (console identity tid:oid, or UPN): recorded in the token")
    .option("-o, --out <file>", "write the token to a file (mode 0600) instead of stdout")
    .option("--json", "JSON output: the token (unless -o) and what it allows (schemas/cli/token-issue.schema.json)")
    .description("issue a CST and print it")
    .action(
      async (o: {
        policy: string;
        job: string;
        agent: string;
        ops?: string;
        ttl?: string;
        workspaces?: string;
        tenants?: string;
        requestedBy?: string;
        out?: string;
        json?: boolean;
      }) => {
        if (o.ttl !== undefined && !/^\d+$/.test(o.ttl.trim()))
          throw new CliError(
            `--ttl "${o.ttl}" is not a number of seconds`,
            2,
            "give a positive integer, e.g. --ttl 600",
          );
        const list = (s?: string) =>
          s
            ? s
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean)
            : undefined;
        const ops = list(o.ops);
        const workspaces = list(o.workspaces);
        const tenants = list(o.tenants);
        const r = await issueCst(home(), {
          policy: o.policy,
          job: o.job,
          agent: o.agent,
          ...(ops ? { ops } : {}),
          ...(o.ttl !== undefined ? { ttl: Number(o.ttl) } : {}),
          ...(workspaces ? { workspaces } : {}),
          ...(tenants ? { tenants } : {}),
          ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}),
        });
        if (o.out) writeSecret(o.out, `${r.token}\n`);
        if (o.json)
          return printJson({
            ...(o.out ? { file: o.out } : { token: r.token }),
            job: o.job,
            agent: o.agent,
            scope: r.scope,
            ttl: r.ttl,
            policy_hash: r.policyHash,
          } satisfies TokenIssueOutput);
        if (o.out)
          process.stderr.write(`token for job ${o.job} (${r.scope.length} ops, ${r.ttl}s) written to ${o.out}\n`);
        else out(r.token);
      },
    );
}
