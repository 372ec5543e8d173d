import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { publicKeyFromPem } from "../../crypto/keys.js";
import { loadSigningKey, TrustStore, type TrustStoreFile } from "../../governance/trust.js";
import { exportBundle } from "../../receipts/bundle.js";
import { renderHtml, renderMarkdown } from "../../receipts/trust-pulse.js";
import {
  parseBundle,
  UnreadableBundle,
  type VerifyOptions,
  type VerifyReport,
  verifyBundle,
} from "../../receipts/verify-bundle.js";
import { bundleWitnessReceiveOrder } from "../../receipts/verify-checkpoints.js";
import { WORKSPACE_WITNESS } from "../../receipts/witness-workspace.js";
import { checkForensicsComment } from "../../server/forensics.js";
import type { ProofCheckCommentOutput } from "../../types/cli/proof-check-comment.js";
import type { ProofExportOutput } from "../../types/cli/proof-export.js";
import type { ProofReportOutput } from "../../types/cli/proof-report.js";
import type { ProofVerifyOutput } from "../../types/cli/proof-verify.js";
import { CliError, out, printJson } from "../output.js";
import { type ProgressReport, withProgress } from "../progress.js";
import { withStore } from "../store-access.js";
import { workspaceWitnessFor } from "./receipts.js";

/** `proof export --include-live-token` is gone: the server keeps no token to include. The error names what replaces it. */
export function includeLiveTokenRemoved(): CliError {
  return new CliError(
    "--include-live-token was removed: the server keeps only each token's sha256 and claims, never the token itself",
    2,
    "export without it; whoever holds the token checks its issuer signature with: gsmcp proof verify BUNDLE --token TOKEN_FILE",
  );
}

export function exportJob(
  home: string,
  job: string,
  o: { out?: string; attach?: string[]; onProgress?: (p: ProgressReport) => void },
) {
  // Attachments are checked before anything is written: each one names its flag when it cannot be used.
  for (const f of o.attach ?? []) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new CliError(
        `--attach ${f} cannot be read: ${(e as Error).message}`,
        2,
        "give a readable JSON file",
        "unreadable_input",
      );
    }
    try {
      JSON.parse(text);
    } catch {
      throw new CliError(
        `--attach ${f} is not JSON`,
        2,
        "attachments are JSON documents (e.g. model-gateway receipts)",
        "unreadable_input",
      );
    }
  }
  return withStore(home, async (store, { paths, config }) => {
    if (!(await store.receipts.jobRange(job, 0, 1)).length)
      throw new CliError(
        `no receipts for job "${job}"`,
        1,
        "see gsmcp jobs list for the jobs this home knows",
        "not_found",
      );
    const file = o.out ?? join(paths.proofs, `${job.replace(/[^A-Za-z0-9._-]/g, "_")}.proof.json`);
    return exportBundle({
      paths,
      serverId: config.server_id,
      store,
      trust: TrustStore.load(paths),
      receiptKey: loadSigningKey(paths, "receiptSigner"),
      job,
      out: file,
      ...(o.attach ? { attach: o.attach } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
  });
}

/** Verifies a bundle file; trust from --trust, else GSMCP_HOME's trust.json when present, else self-consistency only. */
export async function verifyFile(
  file: string,
  trustFile?: string,
  home?: string,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  if (!existsSync(file)) throw new UnreadableBundle(`${file} does not exist`);
  const bundle = parseBundle(readFileSync(file, "utf8"));
  const tf = trustFile ?? (home && existsSync(join(home, "trust.json")) ? join(home, "trust.json") : undefined);
  const trust = tf ? (JSON.parse(readFileSync(tf, "utf8")) as TrustStoreFile) : undefined;
  return verifyBundle(bundle, trust, opts);
}

/** Token files given to `proof verify --token`: each holds one compact JWS. */
function readTokenFiles(files: string[] = []): string[] {
  return files.map((f) => {
    if (!existsSync(f))
      throw new CliError(`--token ${f} does not exist`, 2, "give the path of a token file", "unreadable_input");
    const jws = readFileSync(f, "utf8").trim();
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws))
      throw new CliError(
        `--token ${f} does not hold a compact JWS (header.payload.signature)`,
        2,
        "give a file holding one token, as gsmcp token issue -o writes it",
        "unreadable_input",
      );
    return jws;
  });
}

/** verifyFile with the CLI's exit code for an unreadable bundle (2). */
async function verifyForCli(
  file: string,
  trust: string | undefined,
  home: string,
  workers?: string,
  tokenFiles?: string[],
  witnessFiles?: string[],
  eventsFile?: string,
  onProgress?: VerifyOptions["onProgress"],
): Promise<VerifyReport> {
  const n = workers === undefined ? undefined : /^\d+$/.test(workers.trim()) ? Number(workers) : Number.NaN;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 64))
    throw new CliError(
      `--workers must be an integer from 1 to 64 (got "${workers}")`,
      2,
      "e.g. --workers 2, or leave it out for all cores",
    );
  const tokens = readTokenFiles(tokenFiles);
  // `--witness workspace`: the configured workspace's Checkpoint events, in its ingestion order.
  const fromWorkspace = await workspaceWitnessFor(home, witnessFiles);
  const witnesses = (witnessFiles ?? []).map((f) => {
    if (f === WORKSPACE_WITNESS && fromWorkspace) return fromWorkspace;
    try {
      return { name: f, text: readFileSync(f, "utf8") };
    } catch (e) {
      throw new CliError(
        `--witness ${f} cannot be read: ${(e as Error).message}`,
        2,
        'give a checkpoint file, or the word "workspace"',
        "unreadable_input",
      );
    }
  });
  let events: string[] | undefined;
  if (eventsFile) {
    try {
      events = readFileSync(eventsFile, "utf8").split("\n");
    } catch (e) {
      throw new CliError(
        `--events ${eventsFile} cannot be read: ${(e as Error).message}`,
        2,
        "give a readable JSON-lines file of AgentSecurityEvents",
        "unreadable_input",
      );
    }
  }
  try {
    const report = await verifyFile(file, trust, home, {
      ...(events ? { events } : {}),
      ...(n === undefined ? {} : { workers: n }),
      ...(tokens.length ? { tokens } : {}),
      ...(witnesses.length ? { witnesses } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    return withReceiveOrder(report, file, witnesses);
  } catch (e) {
    if (e instanceof UnreadableBundle)
      throw new CliError(
        `unreadable bundle: ${e.message}`,
        2,
        "give a proof bundle written by gsmcp proof export",
        "unreadable_input",
      );
    throw e;
  }
}

/**
 * Receive order of the witnesses' checkpoints (a size going down means a reset or fork, unless the bundle's checkpoint
 * proves both heads of one log), as one more step of the report.
 */
function withReceiveOrder(report: VerifyReport, file: string, witnesses: { name: string; text: string }[]) {
  if (!witnesses.length) return report;
  const b = parseBundle(readFileSync(file, "utf8"));
  const keys = b.keys.filter((k) => k.role === "receipt_signers").map((k) => publicKeyFromPem(k.public_key));
  const problems = bundleWitnessReceiveOrder(witnesses, keys, b.checkpoint).map((p) => ({
    code: p.code as VerifyReport["steps"][number]["problems"][number]["code"],
    message: `witness ${p.source}: ${p.message}`,
  }));
  report.steps.push({ step: "witness receive order", ok: problems.length === 0, problems, notes: [] });
  if (problems.length) report.verdict = "invalid";
  return report;
}

export function registerProofCommands(program: Command, home: () => string): void {
  const proof = program.command("proof").description("proof bundles an auditor can verify offline");
  proof
    .command("export")
    .requiredOption("--job <id>", "job to export")
    .option("-o, --out <file>", "bundle file (default: GSMCP_HOME/proofs/<job>.proof.json)")
    .option("--attach <file...>", "JSON attachments, e.g. model-gateway receipts")
    .option("--json", "JSON output (schemas/cli/proof-export.schema.json)")
    .option("--quiet", "no progress bar (there is none unless stderr is a terminal, nor under CI=true)")
    // Removed (the server keeps no token to include); kept hidden so that using it says what replaces it.
    .addOption(new Option("--include-live-token").hideHelp())
    .action(
      async (o: {
        job: string;
        out?: string;
        attach?: string[];
        includeLiveToken?: boolean;
        json?: boolean;
        quiet?: boolean;
      }) => {
        if (o.includeLiveToken) throw includeLiveTokenRemoved();
        const r = await withProgress("proof export", o, (onProgress) =>
          exportJob(home(), o.job, {
            ...(o.out ? { out: o.out } : {}),
            ...(o.attach ? { attach: o.attach } : {}),
            onProgress,
          }),
        );
        if (o.json)
          return printJson({
            job: o.job,
            receipts: r.receipts,
            root: r.root,
            file: r.file,
          } satisfies ProofExportOutput);
        out(`exported ${r.receipts} receipts of job ${o.job}, Merkle root ${r.root}`);
        out(r.file);
      },
    );
  proof
    .command("verify")
    .argument("<file>", "proof bundle")
    .option("--trust <file>", "trust store (trust.json) to check keys against")
    .option("--json", "machine-readable report (schemas/cli/proof-verify.schema.json)")
    .option("--quiet", "no progress bar (there is none unless stderr is a terminal, nor under CI=true)")
    .option("--workers <n>", "threads checking receipt signatures (default: available cores; 1: this thread only)")
    .option(
      "--token <file...>",
      "token files (compact JWS) you hold: the bundle carries only each token's sha256; a match has its issuer signature checked",
    )
    .option(
      "--witness <file...>",
      'checkpoint files held by witnesses: the bundle\'s checkpoint must be consistent with each of their checkpoints; the word "workspace": the Checkpoint events in the configured workspace, in its ingestion order',
    )
    .option(
      "--events <file>",
      "the SOC's copy of the AgentSecurityEvents (JSON lines): the job's events must match its receipts, and its witnessed approval decisions the approvals and the receipts that used them",
    )
    .description("exit 0 valid, 1 invalid, 2 unreadable (or bad arguments)")
    .action(
      async (
        file: string,
        o: {
          trust?: string;
          json?: boolean;
          quiet?: boolean;
          workers?: string;
          token?: string[];
          witness?: string[];
          events?: string;
        },
      ) => {
        const report = await withProgress("proof verify", o, (onProgress) =>
          verifyForCli(file, o.trust, home(), o.workers, o.token, o.witness, o.events, onProgress),
        );
        if (o.json) printJson(report satisfies ProofVerifyOutput);
        else {
          for (const s of report.steps) {
            out(`${s.ok ? "✓" : "✗"} ${s.step}`);
            for (const p of s.problems)
              out(`    ${p.code}${p.receipt ? ` seq ${p.receipt.seq} (${p.receipt.receipt_id})` : ""}: ${p.message}`);
            for (const n of s.notes) out(`    note: ${n}`);
          }
          out(`${report.verdict.toUpperCase()} (${report.trust}): job ${report.job}, ${report.receipts} receipts`);
        }
        if (report.verdict !== "valid")
          throw new CliError("proof bundle is NOT valid", 1, "see the failed steps above", "check_failed");
      },
    );
  proof
    .command("check-comment")
    .argument(
      "<bundle>",
      "proof bundle of the job (gsmcp proof export), exported when the comment was written or later",
    )
    .argument(
      "<comment>",
      "the incident comment: a file with its text as the portal shows it or the API's message, or - for stdin",
    )
    .option("--json", "JSON output (schemas/cli/proof-check-comment.schema.json)")
    .description(
      "check a collect-forensics incident comment's digest against a proof bundle (run proof verify on the bundle too)",
    )
    .action((bundleFile: string, commentFile: string, o: { json?: boolean }) => {
      const read = (f: string, what: string) => {
        try {
          return readFileSync(f === "-" ? 0 : f, "utf8");
        } catch (e) {
          throw new CliError(
            `${what} ${f} cannot be read: ${(e as Error).message}`,
            2,
            `pass a readable file${what === "<comment>" ? ", or - for stdin" : ""}`,
            "unreadable_input",
          );
        }
      };
      const bundleText = read(bundleFile, "<bundle>");
      const comment = read(commentFile, "<comment>");
      let r: ProofCheckCommentOutput;
      try {
        r = checkForensicsComment(bundleText, comment);
      } catch (e) {
        throw new CliError(
          `<bundle> ${bundleFile}: ${(e as Error).message}`,
          2,
          "pass a proof bundle written by gsmcp proof export",
          "unreadable_input",
        );
      }
      if (o.json) printJson(r satisfies ProofCheckCommentOutput);
      else if (r.ok) out("ok: the comment's digest matches the bundle and its signature verifies");
      else for (const p of r.problems) out(`MISMATCH: ${p}`);
      if (!r.ok)
        throw new CliError("the comment does not match the bundle", 1, "see the problems above", "check_failed");
    });
  proof
    .command("report")
    .argument("<file>", "proof bundle")
    .option("-o, --out <dir>", "output directory (default: next to the bundle)")
    .option("--trust <file>", "trust store to verify against")
    .option("--json", "JSON output (schemas/cli/proof-report.schema.json)")
    .description("write the Trust Pulse (HTML and Markdown)")
    .action(async (file: string, o: { out?: string; trust?: string; json?: boolean }) => {
      const report = await verifyForCli(file, o.trust, home());
      const bundle = parseBundle(readFileSync(file, "utf8"));
      const dir = o.out ?? join(file, "..");
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const base = join(dir, `trust-pulse-${bundle.job.replace(/[^A-Za-z0-9._-]/g, "_")}`);
      // Owner-only like the bundle (by default both sit in GSMCP_HOME/proofs); share them deliberately.
      writeFileSync(`${base}.html`, renderHtml(bundle, report), { mode: 0o600 });
      writeFileSync(`${base}.md`, renderMarkdown(bundle, report), { mode: 0o600 });
      if (o.json)
        return printJson({
          verdict: report.verdict,
          html: `${base}.html`,
          markdown: `${base}.md`,
        } satisfies ProofReportOutput);
      out(`${base}.html`);
      out(`${base}.md`);
    });
}
