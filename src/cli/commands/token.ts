import type { Command } from "commander";
import { effectiveScope } from "../../governance/decide.js";
import { requireHome, writeSecret } from "../../governance/home.js";
import { loadPolicy } from "../../governance/policy.js";
import { issueToken } from "../../governance/token.js";
import { loadSigningKey, TrustStore } from "../../governance/trust.js";
import { KNOWN_OPS } from "../../tools/registry.js";
import { CliError, out } from "../output.js";

export interface IssueOptions {
  policy: string;
  job: string;
  agent: string;
  ops?: string[];
  ttl?: number;
  workspaces?: string[];
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
    .option("--workspaces <list>", "comma-separated workspace names to pin")
    .option("-o, --out <file>", "write the token to a file (mode 0600) instead of stdout")
    .description("issue a CST and print it")
    .action(
      async (o: {
        policy: string;
        job: string;
        agent: string;
        ops?: string;
        ttl?: string;
        workspaces?: string;
        out?: string;
      }) => {
        const list = (s?: string) =>
          s
            ? s
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean)
            : undefined;
        const ops = list(o.ops);
        const workspaces = list(o.workspaces);
        const r = await issueCst(home(), {
          policy: o.policy,
          job: o.job,
          agent: o.agent,
          ...(ops ? { ops } : {}),
          ...(o.ttl !== undefined ? { ttl: Number(o.ttl) } : {}),
          ...(workspaces ? { workspaces } : {}),
        });
        if (o.out) {
          writeSecret(o.out, `${r.token}\n`);
          process.stderr.write(`token for job ${o.job} (${r.scope.length} ops, ${r.ttl}s) written to ${o.out}\n`);
        } else out(r.token);
      },
    );
}
