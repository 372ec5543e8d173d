import { Command, CommanderError, Help, InvalidArgumentError } from "commander";
import { resolveHome } from "../governance/home.js";
import type { CliErrorOutput } from "../types/cli/error.js";
import type { InitOutput } from "../types/cli/init.js";
import { VERSION } from "../version.js";
import { EXIT, out, printError, printJson, setJsonMode } from "./output.js";

/** `init --seed`: an integer, else a usage error naming the flag. */
function parseSeed(v: string): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`"${v}" is not an integer (e.g. --seed 7)`);
  return n;
}

type Register = (program: Command, home: () => string) => void;

interface LazyCommand {
  /** How `gsmcp --help` lists the command (its name, `[options]`, its arguments), without loading its module. */
  term: string;
  description: string;
  load: () => Promise<Register>;
}

/**
 * The top-level commands besides init, each registered by a module under ./commands. A module is imported only when
 * its command runs: together they load the MCP server, the Azure SDKs, SQLite and the tool registry, which
 * `gsmcp --help` or `gsmcp policy hash` should not pay for at start. test/package/cli-commands.test.ts checks that
 * `term` and `description` match what each module registers.
 */
export const COMMANDS: Record<string, LazyCommand> = {
  serve: {
    term: "serve [options]",
    description:
      "run the governed MCP server (stdio: token from GSMCP_CST; http: bearer token per request; policy: GSMCP_POLICY)",
    load: async () => (await import("./commands/serve.js")).registerServeCommand,
  },
  policy: {
    term: "policy",
    description: "hash, sign, verify, lint and explain Work Policy Contracts, and derive their Azure roles",
    load: async () => (await import("./commands/policy.js")).registerPolicyCommands,
  },
  token: {
    term: "token",
    description: "scoped tokens (CST)",
    load: async () => (await import("./commands/token.js")).registerTokenCommands,
  },
  receipts: {
    term: "receipts",
    description: "the signed, hash-chained receipt log",
    load: async () => (await import("./commands/receipts.js")).registerReceiptCommands,
  },
  approvals: {
    term: "approvals",
    description: "human approvals for gated writes",
    load: async () => (await import("./commands/approvals.js")).registerApprovalCommands,
  },
  jobs: {
    term: "jobs",
    description: "job state: list, pause, resume",
    load: async () => (await import("./commands/jobs.js")).registerJobCommands,
  },
  workspace: {
    term: "workspace",
    description: "the embedded local Sentinel workspace",
    load: async () => (await import("./commands/workspace.js")).registerWorkspaceCommands,
  },
  proof: {
    term: "proof",
    description: "proof bundles an auditor can verify offline",
    load: async () => (await import("./commands/proof.js")).registerProofCommands,
  },
  rollback: {
    term: "rollback [options] <receipt>",
    description: "restore the state a write changed, from the prior state in its intent receipt (receipted)",
    load: async () => (await import("./commands/rollback.js")).registerRollbackCommand,
  },
  manifest: {
    term: "manifest [options]",
    description: "write tools/<tool>.json and tools/README.md from the tool registry",
    load: async () => (await import("./commands/manifest.js")).registerManifestCommand,
  },
  keys: {
    term: "keys",
    description: "trusted keys, their validity windows, and key rotation",
    load: async () => (await import("./commands/keys.js")).registerKeysCommands,
  },
  store: {
    term: "store",
    description: "the state store (SQLite in GSMCP_HOME, or PostgreSQL from GSMCP_STORE): migrate, status",
    load: async () => (await import("./commands/store.js")).registerStoreCommands,
  },
  console: {
    term: "console [options]",
    description:
      "the approver console: sign in with OpenID Connect, review and decide approvals, jobs, policies, tools",
    load: async () => (await import("./commands/console.js")).registerConsoleCommand,
  },
  doctor: {
    term: "doctor [options]",
    description:
      "check GSMCP_HOME is safe: permissions, keys and roles, trust store, policies, receipt chain, config, tokens at rest (exit 2 if unsafe)",
    load: async () => (await import("./commands/doctor.js")).registerDoctorCommand,
  },
  demo: {
    term: "demo",
    description:
      "the whole story against the local workspace: investigate, be refused, get an approval, prove it, detect it",
    load: async () => (await import("./commands/demo.js")).registerDemoCommand,
  },
};

/** The command argv runs: its first word that is not a global option (`--home` takes the next word); `help <cmd>`. */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--home") i++;
    else if (!a.startsWith("-")) return a === "help" ? argv[i + 1] : a;
  }
  return undefined;
}

/**
 * `--json` before any `--`: the command prints its result as JSON, and a failure as one JSON error object on stdout
 * (docs/cli-json.md), also when commander rejects the command line before any action runs.
 */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  setJsonMode(json);
  // Everything gsmcp writes (keys, trust, policies, state, telemetry, proofs) is the owner's alone, whichever module
  // writes it: new files 0600, new directories 0700 (`gsmcp doctor` reports anything wider).
  process.umask(0o077);
  // Commands listed in the help but not loaded (another command runs, or none): their help term, from COMMANDS.
  const listed = new Map<Command, string>();
  const program = new Command("gsmcp")
    .description("governed-sentinel-mcp: a governed MCP server for Microsoft Sentinel")
    .version(VERSION)
    .option("--home <dir>", "state directory (default: $GSMCP_HOME or ./.gsmcp)")
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // With --json the error is printed once, as JSON, below; help and version still go to stdout as text.
      ...(json ? { outputError: () => {} } : {}),
    })
    .configureHelp({ subcommandTerm: (cmd) => listed.get(cmd) ?? new Help().subcommandTerm(cmd) });
  const home = () =>
    resolveHome(
      program.opts<{ home?: string }>().home ? { GSMCP_HOME: program.opts<{ home: string }>().home } : process.env,
    );

  program
    .command("init")
    .description("create keys, trust store, signed example policies and the seeded local workspace")
    .option("--force", "recreate an existing home (discards its keys, receipts and workspace)")
    .option("--seed <n>", "seed for the demo data (an integer)", parseSeed)
    .option("--json", "JSON output (schemas/cli/init.schema.json)")
    .action(async (o: { force?: boolean; seed?: number; json?: boolean }) => {
      const { initHome } = await import("./commands/init.js");
      const r = await initHome(home(), {
        ...(o.force ? { force: true } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
      });
      if (o.json)
        return printJson({
          home: r.home,
          policies: r.policies,
          workspaces: r.workspaces.map((w) => ({ ...w, default: w.name === r.config.workspace_name })),
        } satisfies InitOutput);
      out(`initialised ${r.home}`);
      for (const p of r.policies) out(`  signed policy ${p.name} ${p.hash}`);
      for (const w of r.workspaces ?? [])
        out(
          `  local workspace: ${w.name} (tenant ${w.tenant})${w.name === r.config.workspace_name ? ", default" : ""}`,
        );
    });
  const name = commandName(argv);
  const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command) {
    (await command.load())(program, home);
  } else {
    for (const [n, c] of Object.entries(COMMANDS)) listed.set(program.command(n).description(c.description), c.term);
  }

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return EXIT.ok;
      if (json)
        printJson({
          error: {
            code: "usage",
            message: e.message.replace(/^error: /, ""),
            fix: name && Object.hasOwn(COMMANDS, name) ? `see gsmcp ${name} --help` : "see gsmcp --help",
          },
        } satisfies CliErrorOutput);
      return EXIT.usage;
    }
    return printError(e);
  }
}
