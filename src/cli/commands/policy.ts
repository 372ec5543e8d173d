import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { jcs } from "../../crypto/jcs.js";
import { decide } from "../../governance/decide.js";
import { requireHome } from "../../governance/home.js";
import { lintPolicy } from "../../governance/lint.js";
import { loadPolicy, policyHash, readPolicyDocument, signPolicy, storePolicy } from "../../governance/policy.js";
import { loadSigningKey, TrustStore } from "../../governance/trust.js";
import { KNOWN_OPS, TOOLS, toolByOp } from "../../tools/registry.js";
import type { PolicyExplainOutput } from "../../types/cli/policy-explain.js";
import type { PolicyHashOutput } from "../../types/cli/policy-hash.js";
import type { PolicyLintOutput } from "../../types/cli/policy-lint.js";
import type { PolicySignOutput } from "../../types/cli/policy-sign.js";
import type { PolicyVerifyOutput } from "../../types/cli/policy-verify.js";
import { CliError, out, printJson } from "../output.js";
import { registerPolicyRoleCommand } from "./policy-role.js";

export function registerPolicyCommands(program: Command, home: () => string): void {
  const policy = program
    .command("policy")
    .description("hash, sign, verify, lint and explain Work Policy Contracts, and derive their Azure roles");
  registerPolicyRoleCommand(policy);

  policy
    .command("hash")
    .argument("<file>", "WPC JSON (or signed envelope)")
    .description("print the policy hash (sha256 of RFC 8785 canonical JSON)")
    .option("--json", "JSON output (schemas/cli/policy-hash.schema.json)")
    .action((file: string, o: { json?: boolean }) => {
      const { wpc } = readPolicyDocument(file);
      if (o.json) return printJson({ policy_name: wpc.policy_name, hash: policyHash(wpc) } satisfies PolicyHashOutput);
      out(policyHash(wpc));
    });

  policy
    .command("sign")
    .argument("<file>", "WPC JSON")
    .option("-o, --out <file>", "where to write the DSSE envelope (default: <file without .json>.dsse.json)")
    .description("sign a policy with this home's policy signer and store it by hash")
    .option("--json", "JSON output (schemas/cli/policy-sign.schema.json)")
    .action((file: string, o: { out?: string; json?: boolean }) => {
      const { paths } = requireHome(home());
      const { wpc } = readPolicyDocument(file);
      const env = signPolicy(wpc, [loadSigningKey(paths, "policySigner")]);
      const hash = policyHash(wpc);
      storePolicy(paths, env, hash);
      const target = o.out ?? `${file.replace(/(\.wpc)?\.json$/, "")}.dsse.json`;
      writeFileSync(target, `${JSON.stringify(env, null, 2)}\n`);
      if (o.json) return printJson({ policy_name: wpc.policy_name, hash, envelope: target } satisfies PolicySignOutput);
      out(`signed ${wpc.policy_name} ${hash}`);
      out(`envelope: ${target}`);
    });

  policy
    .command("verify")
    .argument("<file>", "signed envelope, plain WPC (looked up by hash), or sha256:… hash")
    .description("verify a policy's signature against the trust store")
    .option("--json", "JSON output (schemas/cli/policy-verify.schema.json)")
    .action((file: string, o: { json?: boolean }) => {
      const { paths } = requireHome(home());
      const trust = TrustStore.load(paths);
      const v = loadPolicy(file, paths, trust);
      if (o.json)
        return printJson({
          policy_name: v.wpc.policy_name,
          hash: v.hash,
          signers: v.signerKeyIds,
        } satisfies PolicyVerifyOutput);
      out(`OK ${v.wpc.policy_name} ${v.hash} signed by ${v.signerKeyIds.join(", ")}`);
    });

  policy
    .command("lint")
    .argument("<file>", "WPC JSON")
    .description("schema and semantic checks; exit 1 on errors")
    .option("--json", "JSON output (schemas/cli/policy-lint.schema.json)")
    .action((file: string, o: { json?: boolean }) => {
      const { wpc } = readPolicyDocument(file);
      const writes = TOOLS.filter((t) => !t.effects.readOnly).map((t) => t.op);
      const findings = lintPolicy(wpc, KNOWN_OPS, writes);
      if (o.json) {
        const errors = findings.filter((f) => f.level === "error").length;
        printJson({
          policy_name: wpc.policy_name,
          errors,
          warnings: findings.length - errors,
          findings,
        } satisfies PolicyLintOutput);
        if (errors > 0)
          throw new CliError("policy has lint errors", 1, "fix the fields named in findings", "check_failed");
        return;
      }
      for (const f of findings) out(`${f.level}: ${f.field}: ${f.message}`);
      const errors = findings.filter((f) => f.level === "error").length;
      out(`${wpc.policy_name}: ${errors} error(s), ${findings.length - errors} warning(s)`);
      if (errors > 0) throw new CliError("policy has lint errors", 1, "fix the fields named above", "check_failed");
    });

  policy
    .command("explain")
    .argument("<file>", "WPC JSON")
    .requiredOption("--op <op>", "op id, e.g. incidents.close")
    .option("--scope <ops>", "token scope to assume (comma-separated); default: everything the policy allows")
    .option("--json", "print the decision as JSON (schemas/cli/policy-explain.schema.json)")
    .description("would this policy allow the op, and why")
    .action((file: string, o: { op: string; scope?: string; json?: boolean }) => {
      const { wpc } = readPolicyDocument(file);
      const tool = toolByOp(o.op);
      if (!tool) throw new CliError(`unknown op "${o.op}"`, 2, `known ops: ${KNOWN_OPS.join(", ")}`);
      const scope = o.scope ? o.scope.split(",").map((s) => s.trim()) : KNOWN_OPS;
      const unknownScope = scope.filter((op) => !KNOWN_OPS.includes(op));
      if (unknownScope.length)
        throw new CliError(
          `--scope names unknown op(s) ${unknownScope.join(", ")}`,
          2,
          `known ops: ${KNOWN_OPS.join(", ")}`,
        );
      const d = decide(wpc, { op: o.op, write: !tool.effects.readOnly, tokenScope: scope, workspace: "*" });
      if (o.json) {
        out(jcs({ op: o.op, ...d } satisfies PolicyExplainOutput));
        return;
      }
      out(`${o.op}: ${d.effect}${d.approval ? ` (approval "${d.approval.name}" required, ${d.approval.mode})` : ""}`);
      for (const r of d.reasons) out(`  - ${r.code}: ${r.message}${r.rule ? ` [${r.rule}]` : ""}`);
      for (const c of d.constraints) out(`  constraint: ${JSON.stringify(c)}`);
    });
}
