import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { publicKeyFromPem, signingKeyFromPem } from "../../crypto/keys.js";
import { type Approval, ApprovalStore } from "../../governance/approvals.js";
import { requireHome } from "../../governance/home.js";
import { TrustStore } from "../../governance/trust.js";
import {
  appendCheckpoint,
  CHECKPOINTS_FILE,
  checkpointOrigin,
  logLeaf,
  noteName,
  noteVerifierKey,
  parseCheckpointsFile,
  signatureLine,
  verifiedSigners as verifySigners,
} from "../../receipts/checkpoint.js";
import type { Receipt } from "../../receipts/receipt.js";
import { type ChainProblem, type StoredRow, verifyStoredRows } from "../../receipts/verify-chain.js";
import {
  type CheckpointReport,
  type CheckpointSource,
  verifyLogAgainstCheckpoints,
} from "../../receipts/verify-checkpoints.js";
import { type EventCheckReport, verifyEventsAgainstLog } from "../../receipts/verify-events.js";
import { readWorkspaceWitness, WORKSPACE_WITNESS } from "../../receipts/witness-workspace.js";
import { pages } from "../../state/pages.js";
import type { ReceiptsCosignOutput } from "../../types/cli/receipts-cosign.js";
import type { ReceiptsDanglingOutput } from "../../types/cli/receipts-dangling.js";
import type { ReceiptsVerifyOutput } from "../../types/cli/receipts-verify.js";
import { CliError, out, printJson } from "../output.js";
import { type ProgressReport, startProgress } from "../progress.js";
import { withStore } from "../store-access.js";

type OnProgress = (p: ProgressReport) => void;

/**
 * `--witness workspace`: the Checkpoint events the configured workspace received, in its ingestion order. A
 * workspace that cannot be opened or queried is unreadable input (exit 2).
 */
export async function workspaceWitnessFor(home: string, witness: string[] | undefined) {
  if (!witness?.includes(WORKSPACE_WITNESS)) return undefined;
  const { paths, config } = requireHome(home);
  try {
    return await readWorkspaceWitness(paths, config, checkpointOrigin(config.server_id));
  } catch (e) {
    throw new CliError(
      `--witness workspace: ${(e as Error).message}`,
      2,
      "check the backend (config.json backend, GSMCP_BACKEND; for Azure the same credentials as serve), or export the Checkpoint events by hand (docs/operations.md)",
      "unreadable_input",
    );
  }
}

/**
 * Every stored row of the home's log (SQLite, or GSMCP_STORE's PostgreSQL), page by page; with onProgress, phase
 * "reading": the seq reached of the head's.
 */
export function readStoredRows(home: string, onProgress?: OnProgress): Promise<StoredRow[]> {
  return withStore(home, async (store) => {
    const total = onProgress ? (await store.receipts.head()).seq : 0;
    const rows: StoredRow[] = [];
    for await (const row of pages((after, n) => store.receipts.range(after, n))) {
      rows.push(row);
      if (onProgress && rows.length % 2000 === 0)
        onProgress({ phase: "reading", done: Math.min(row.seq, total), total });
    }
    onProgress?.({ phase: "reading", done: total, total });
    return rows;
  });
}

/** Verifies the home's stored log (see verifyStoredRows). */
export async function verifyStoredReceipts(
  home: string,
  rows?: StoredRow[],
  onProgress?: OnProgress,
): Promise<{ count: number; problems: ChainProblem[]; receipts: Receipt[] }> {
  const { paths } = requireHome(home);
  const trust = TrustStore.load(paths);
  return verifyStoredRows(rows ?? (await readStoredRows(home)), trust.keys("receipt_signers", true), onProgress);
}

export interface CheckpointVerifyOptions {
  /** Copies of checkpoints held outside the host (files; the word "workspace": see workspaceSource). */
  witness?: string[];
  /** The workspace's Checkpoint events in ingestion order (readWorkspaceWitness), for `--witness workspace`. */
  workspaceSource?: CheckpointSource;
  /** Co-signers every --witness checkpoint must carry: "name=public-key.pem". */
  cosigner?: string[];
}

/**
 * Checks the stored log against every checkpoint in GSMCP_HOME/checkpoints.log and in each --witness file. Throws
 * CliError(2) when an input cannot be read.
 */
export async function verifyStoredCheckpoints(
  home: string,
  o: CheckpointVerifyOptions = {},
  rows?: StoredRow[],
  onProgress?: OnProgress,
): Promise<CheckpointReport> {
  const { paths, config } = requireHome(home);
  const trust = TrustStore.load(paths);
  const cosigners = new Map(
    (o.cosigner ?? []).map((spec) => {
      const at = spec.indexOf("=");
      if (at <= 0)
        throw new CliError(
          `--cosigner "${spec}" is not name=public-key.pem`,
          2,
          "e.g. --cosigner auditor=auditor.pub.pem",
        );
      const file = spec.slice(at + 1);
      try {
        return [spec.slice(0, at), publicKeyFromPem(readFileSync(file, "utf8"))] as const;
      } catch (e) {
        throw new CliError(
          `--cosigner ${file}: ${(e as Error).message}`,
          2,
          "give the co-signer's Ed25519 public key (PEM)",
          "unreadable_input",
        );
      }
    }),
  );
  const sources: CheckpointSource[] = [];
  const local = join(paths.root, CHECKPOINTS_FILE);
  if (existsSync(local)) sources.push({ name: CHECKPOINTS_FILE, text: readFileSync(local, "utf8") });
  if (o.workspaceSource) sources.push(o.workspaceSource);
  for (const w of o.witness ?? []) {
    if (w === WORKSPACE_WITNESS) continue;
    let text: string;
    try {
      text = readFileSync(w, "utf8");
    } catch (e) {
      throw new CliError(
        `--witness ${w} cannot be read: ${(e as Error).message}`,
        2,
        'give a checkpoint file (gsmcp receipts cosign --out), or the word "workspace"',
        "unreadable_input",
      );
    }
    sources.push({ name: `witness ${w}`, text, cosigners });
  }
  const leaves: Buffer[] = [];
  const all = rows ?? (await readStoredRows(home));
  for (const row of all) {
    if (onProgress && leaves.length % 2000 === 0)
      onProgress({ phase: "checkpoints", done: leaves.length, total: all.length });
    try {
      leaves.push(logLeaf(JSON.parse(row.body) as Receipt));
    } catch {
      // An unparseable body is reported by the chain check; its leaf is the raw row, which no checkpoint matches.
      leaves.push(Buffer.alloc(32));
    }
  }
  onProgress?.({ phase: "checkpoints", done: all.length, total: all.length });
  return verifyLogAgainstCheckpoints(
    leaves,
    sources,
    [...trust.keys("receipt_signers", true).values()],
    checkpointOrigin(config.server_id),
  );
}

/** The store's approvals, as signed (consumption is the receipts' to say). */
function storedApprovals(home: string): Promise<Approval[]> {
  return withStore(home, (s) => new ApprovalStore(s.approvals).list());
}

export function eventSummary(ev: EventCheckReport, file: string): string {
  return [
    `events: ${ev.matched} matched their receipts; ${ev.receiptsWithoutEvent} receipt(s) have no event in ${file}`,
    `${ev.decisions} witnessed approval decision(s) checked against the approvals and the receipts that used them`,
    ...(ev.unused.length ? [`approved but never used: ${ev.unused.join(", ")}`] : []),
  ].join("\n");
}

export function registerReceiptCommands(program: Command, home: () => string): void {
  const receipts = program.command("receipts").description("the signed, hash-chained receipt log");
  receipts
    .command("verify")
    .description(
      "check every receipt's signature, the hash chain, and the log against every witnessed checkpoint (exit 1 invalid, 2 unreadable input)",
    )
    .option(
      "--witness <file...>",
      'checkpoints copied outside this host (e.g. gsmcp receipts cosign --out); the word "workspace": the Checkpoint events in the configured workspace, in its ingestion order',
    )
    .option("--cosigner <name=pem...>", "a co-signer every --witness checkpoint must be signed by (public key PEM)")
    .option(
      "--events <file>",
      "a copy of the AgentSecurityEvents (JSON lines, e.g. the SOC's export): each event's receipt must be in the log with the hash the event recorded",
    )
    .option("--json", "JSON output (schemas/cli/receipts-verify.schema.json)")
    .option("--quiet", "no progress bar (there is none unless stderr is a terminal, nor under CI=true)")
    .action(async (o: CheckpointVerifyOptions & { events?: string; json?: boolean; quiet?: boolean }) => {
      let eventLines: string[] = [];
      if (o.events) {
        try {
          eventLines = readFileSync(o.events, "utf8").split("\n");
        } catch (e) {
          throw new CliError(
            `--events ${o.events} cannot be read: ${(e as Error).message}`,
            2,
            "give a readable JSON-lines file of AgentSecurityEvents",
            "unreadable_input",
          );
        }
      }
      const workspaceSource = await workspaceWitnessFor(home(), o.witness);
      const bar = startProgress("receipts verify", o);
      let count: number;
      let problems: ChainProblem[];
      let stored: Receipt[];
      let cps: CheckpointReport;
      try {
        const onProgress = (p: ProgressReport) => bar.report(p);
        const rows = await readStoredRows(home(), onProgress);
        cps = await verifyStoredCheckpoints(
          home(),
          { ...o, ...(workspaceSource ? { workspaceSource } : {}) },
          rows,
          onProgress,
        );
        ({ count, problems, receipts: stored } = await verifyStoredReceipts(home(), rows, onProgress));
      } finally {
        bar.stop();
      }
      const ev = o.events ? verifyEventsAgainstLog(eventLines, stored, await storedApprovals(home())) : undefined;
      const total = problems.length + cps.problems.length + (ev?.problems.length ?? 0);
      if (o.json) {
        printJson({
          valid: total === 0,
          receipts: count,
          problems,
          checkpoints: { checked: cps.checkpoints, largest: cps.largest, problems: cps.problems },
          ...(ev
            ? {
                events: {
                  matched: ev.matched,
                  receipts_without_event: ev.receiptsWithoutEvent,
                  decisions: ev.decisions,
                  unused_approvals: ev.unused,
                  problems: ev.problems,
                },
              }
            : {}),
        } satisfies ReceiptsVerifyOutput);
        if (total)
          throw new CliError(
            `receipt log is NOT valid: ${total} problem(s) in ${count} receipts`,
            1,
            undefined,
            "check_failed",
          );
        return;
      }
      for (const p of problems) out(`seq ${p.seq} (${p.receipt_id}): ${p.code}: ${p.message}`);
      for (const p of cps.problems) out(`checkpoint ${p.code} [${p.source}]: ${p.message}`);
      for (const p of ev?.problems ?? [])
        out(`${p.line ? `event line ${p.line}` : "approvals"}: ${p.code}: ${p.message}`);
      if (ev) out(eventSummary(ev, o.events!));
      if (total)
        throw new CliError(
          `receipt log is NOT valid: ${total} problem(s) in ${count} receipts`,
          1,
          undefined,
          "check_failed",
        );
      out(
        cps.checkpoints
          ? `OK ${count} receipts: signatures valid, chain intact, consistent with ${cps.checkpoints} witnessed checkpoint(s) up to size ${cps.largest}`
          : `OK ${count} receipts: signatures valid, chain intact (no checkpoints: a cut tail would not be detected)`,
      );
    });
  receipts
    .command("cosign")
    .description(
      "co-sign the server's checkpoints with a key held elsewhere and append the co-signed copies to a witness file",
    )
    .requiredOption("--key <pem>", "the co-signer's Ed25519 private key (PEM), not one of the server's keys")
    .requiredOption("--name <name>", "the co-signer's key name in the signed note")
    .requiredOption("--out <file>", "the witness file to append to (keep it off this host)")
    .option("--from <file>", "checkpoints to co-sign (default: GSMCP_HOME/checkpoints.log)")
    .option("--json", "JSON output (schemas/cli/receipts-cosign.schema.json)")
    .action((o: { key: string; name: string; out: string; from?: string; json?: boolean }) => {
      const { paths } = requireHome(home());
      const trust = TrustStore.load(paths);
      let key: ReturnType<typeof signingKeyFromPem>;
      try {
        key = signingKeyFromPem(readFileSync(o.key, "utf8"));
      } catch (e) {
        throw new CliError(
          `--key ${o.key}: ${(e as Error).message}`,
          2,
          "give the co-signer's Ed25519 private key (PEM), e.g. from openssl genpkey -algorithm ed25519",
          "unreadable_input",
        );
      }
      const name = noteName(o.name);
      const from = o.from ?? join(paths.root, CHECKPOINTS_FILE);
      if (!existsSync(from))
        throw new CliError(
          `${from} does not exist: no checkpoints yet`,
          2,
          "let gsmcp serve write a checkpoint first, or name the file with --from",
          "unreadable_input",
        );
      const { checkpoints, errors } = parseCheckpointsFile(readFileSync(from, "utf8"));
      if (errors.length)
        throw new CliError(`${from}: ${errors.map((e) => e.message).join("; ")}`, 1, undefined, "check_failed");
      const have = new Set(
        existsSync(o.out) ? parseCheckpointsFile(readFileSync(o.out, "utf8")).checkpoints.map((c) => c.body) : [],
      );
      const logKeys = [...trust.keys("receipt_signers", true).values()];
      let n = 0;
      for (const cp of checkpoints) {
        if (have.has(cp.body)) continue;
        // Only what the log's own key signed is co-signed: the co-signer vouches for having seen that head.
        if (!verifySigners(cp, logKeys).length)
          throw new CliError(
            `checkpoint of size ${cp.size} is not signed by a trusted receipt signer`,
            1,
            "run gsmcp receipts verify to see which checkpoint and why",
            "check_failed",
          );
        appendCheckpoint(
          o.out,
          `${cp.body}\n${cp.signatures.map((s) => s.line).join("")}${signatureLine(cp.body, name, key)}`,
        );
        have.add(cp.body);
        n++;
      }
      const verifierKey = noteVerifierKey(name, key.publicKey);
      if (o.json)
        return printJson({ cosigned: n, out: o.out, verifier_key: verifierKey } satisfies ReceiptsCosignOutput);
      out(`co-signed ${n} checkpoint(s) into ${o.out}; verifier key ${verifierKey}`);
    });
  receipts
    .command("dangling")
    .description(
      "writes whose intent was recorded but whose outcome never was (the process stopped), with Sentinel's state now (exit 1 if any)",
    )
    .option("--json", "JSON output (schemas/cli/receipts-dangling.schema.json)")
    .action(async (o: { json?: boolean }) => {
      const { openRuntime } = await import("../../server/runtime.js");
      const runtime = await openRuntime({ home: home() });
      try {
        const list = await runtime.danglingIntents();
        if (o.json)
          printJson({
            dangling: list.map((d) => ({
              receipt_id: d.receipt.receipt_id,
              time: d.receipt.time,
              job: d.receipt.job,
              op: d.receipt.op,
              args_redacted: d.receipt.args_redacted ?? null,
              prior_state: d.receipt.rollback?.prior_state ?? null,
              current_state: d.error ? null : (d.currentState ?? null),
              error: d.error ?? null,
            })),
          } satisfies ReceiptsDanglingOutput);
        if (!list.length) return o.json ? undefined : out("no dangling intents");
        if (!o.json)
          for (const d of list) {
            out(
              `${d.receipt.receipt_id}\t${d.receipt.time}\tjob ${d.receipt.job}\t${d.receipt.op}\targs ${JSON.stringify(d.receipt.args_redacted)}`,
            );
            out(`    prior state:   ${JSON.stringify(d.receipt.rollback?.prior_state ?? null)}`);
            out(`    current state: ${d.error ? `unavailable (${d.error})` : JSON.stringify(d.currentState ?? null)}`);
          }
        throw new CliError(
          `${list.length} dangling intent(s): compare prior and current state, then roll back or record the outcome`,
          1,
          undefined,
          "check_failed",
        );
      } finally {
        await runtime.close();
      }
    });
  receipts
    .command("list")
    .option("--job <id>", "only this job")
    .option("--json", "JSON Lines: one receipt per line (schemas/cli/receipts-list.schema.json)")
    .description("list receipts")
    .action(async (o: { job?: string; json?: boolean }) => {
      const rows = o.job
        ? await withStore(home(), (s) => s.receipts.forJob(o.job!))
        : (await readStoredRows(home())).map((r) => JSON.parse(r.body) as Receipt);
      for (const r of rows) {
        if (o.json) out(JSON.stringify(r));
        else
          out(
            `${r.seq}\t${r.time}\t${r.job}\t${r.op}\t${r.decision.effect}\t${r.outcome.status}${r.outcome.error ? `:${r.outcome.error.code}` : ""}\t${r.receipt_id}`,
          );
      }
    });
}
