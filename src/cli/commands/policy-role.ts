import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { readPolicyDocument } from "../../governance/policy.js";
import { generateRoles, RbacError } from "../../rbac/role.js";
import type { PolicyRoleOutput } from "../../types/cli/policy-role.js";
import { CliError, out, printJson } from "../output.js";

const FORMATS = ["definitions", "arm", "bicep"] as const;

/** The default assignable scope: the environment's resource group (docs/azure.md, Configuration). */
function defaultScopes(env: NodeJS.ProcessEnv): string[] {
  const sub = env.AZURE_SUBSCRIPTION_ID;
  if (!sub) return [];
  return [
    env.AZURE_RESOURCE_GROUP
      ? `/subscriptions/${sub}/resourceGroups/${env.AZURE_RESOURCE_GROUP}`
      : `/subscriptions/${sub}`,
  ];
}

/** `gsmcp policy role FILE`: the Azure custom roles the policy's allowed ops need (src/rbac/role.ts). */
export function registerPolicyRoleCommand(policy: Command): void {
  policy
    .command("role")
    .argument("<file>", "WPC JSON (or signed envelope)")
    .option(
      "--scope <scope...>",
      "AssignableScopes: /subscriptions/<id>[/resourceGroups/<rg>] (default: AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP)",
    )
    .option("--format <format>", `what to print: ${FORMATS.join(" | ")}`, "definitions")
    .option("-o, --out <dir>", "write every file (role definitions, ARM template, Bicep) to this directory instead")
    .option("--json", "one document with the roles, ARM and Bicep (schemas/cli/policy-role.schema.json)")
    .description(
      "Azure custom role definitions (reads, and writes as a second role) with exactly the operations the policy's allowed ops need, plus the ARM/Bicep that assigns them at workspace scope",
    )
    .action((file: string, o: { scope?: string[]; format: string; out?: string; json?: boolean }) => {
      if (!(FORMATS as readonly string[]).includes(o.format))
        throw new CliError(`--format "${o.format}" is not a format`, 2, `use one of ${FORMATS.join(", ")}`);
      const { wpc } = readPolicyDocument(file);
      let g: ReturnType<typeof generateRoles>;
      try {
        g = generateRoles(wpc, o.scope ?? defaultScopes(process.env));
      } catch (e) {
        if (e instanceof RbacError) throw new CliError(e.message, 2, e.fix);
        throw e;
      }
      const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
      const written: string[] = [];
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        const files: [string, string][] = [
          ...g.roles.map(({ kind, definition }): [string, string] => [
            `${wpc.policy_name}.${kind}.role.json`,
            json(definition),
          ]),
          [`${wpc.policy_name}.roles.json`, json(g.arm)],
          [`${wpc.policy_name}.roles.bicep`, g.bicep],
        ];
        for (const [name, content] of files) {
          writeFileSync(join(o.out, name), content);
          written.push(join(o.out, name));
        }
        if (!o.json) {
          for (const path of written) out(path);
          return;
        }
      }
      if (o.json)
        return printJson({
          policy_name: g.needs.policyName,
          policy_hash: g.needs.policyHash,
          roles: g.roles,
          arm: g.arm,
          bicep: g.bicep,
          ...(o.out ? { files: written } : {}),
        } satisfies PolicyRoleOutput);
      if (o.format === "arm") return out(JSON.stringify(g.arm, null, 2));
      if (o.format === "bicep") return out(g.bicep.trimEnd());
      out(
        JSON.stringify(
          g.roles.map((r) => r.definition),
          null,
          2,
        ),
      );
    });
}
