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
import { allRows } from "../../state/pages.js";
import { CliError, out } from "../output.js";
import { withStore } from "../store-access.js";

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
    );
  }
}

/** Every stored row of the home's log (SQLite, or GSMCP_STORE's PostgreSQL), page by page. */
export function readStoredRows(home: string): Promise<StoredRow[]> {
  return withStore(home, (store) => allRows(store.receipts));
}

/** Verifies the home's stored log (see verifyStoredRows). */
export async function verifyStoredReceipts(
  home: string,
  rows?: StoredRow[],
): Promise<{ count: number; problems: ChainProblem[]; receipts: Receipt[] }> {
  const { paths } = requireHome(home);
  const trust = TrustStore.load(paths);
  return verifyStoredRows(rows ?? (await readStoredRows(home)), trust.keys("receipt_signers", true));
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
): Promise<CheckpointReport> {
  const { paths, config } = requireHome(home);
  const trust = TrustStore.load(paths);
  const cosigners = new Map(
    (o.cosigner ?? []).map((spec) => {
      const at = spec.indexOf("=");
      if (at <= 0) throw new CliError(`--cosigner "${spec}" is not name=public-key.pem`, 2);
      const file = spec.slice(at + 1);
      try {
        return [spec.slice(0, at), publicKeyFromPem(readFileSync(file, "utf8"))] as const;
      } catch (e) {
        throw new CliError(`--cosigner ${file}: ${(e as Error).message}`, 2);
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
      throw new CliError(`--witness ${w} cannot be read: ${(e as Error).message}`, 2);
    }
    sources.push({ name: `witness ${w}`, text, cosigners });
  }
  const leaves: Buffer[] = [];
  for (const row of rows ?? (await readStoredRows(home))) {
    try {
      leaves.push(logLeaf(JSON.parse(row.body) as Receipt));
    } catch {
      // An unparseable body is reported by the chain check; its leaf is the raw row, which no checkpoint matches.
      leaves.push(Buffer.alloc(32));
    }
  }
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
    .action(async (o: CheckpointVerifyOptions & { events?: string }) => {
      const workspaceSource = await workspaceWitnessFor(home(), o.witness);
      const rows = await readStoredRows(home());
      const cps = await verifyStoredCheckpoints(
        home(),
        { ...o, ...(workspaceSource ? { workspaceSource } : {}) },
        rows,
      );
      const { count, problems, receipts: stored } = await verifyStoredReceipts(home(), rows);
      let eventLines: string[] = [];
      if (o.events) {
        try {
          eventLines = readFileSync(o.events, "utf8").split("\n");
        } catch (e) {
          throw new CliError(`cannot read --events ${o.events}: ${(e as Error).message}`, 2);
        }
      }
      const ev = o.events ? verifyEventsAgainstLog(eventLines, stored, await storedApprovals(home())) : undefined;
      for (const p of problems) out(`seq ${p.seq} (${p.receipt_id}): ${p.code}: ${p.message}`);
      for (const p of cps.problems) out(`checkpoint ${p.code} [${p.source}]: ${p.message}`);
      for (const p of ev?.problems ?? [])
        out(`${p.line ? `event line ${p.line}` : "approvals"}: ${p.code}: ${p.message}`);
      if (ev) out(eventSummary(ev, o.events!));
      const total = problems.length + cps.problems.length + (ev?.problems.length ?? 0);
      if (total) throw new CliError(`receipt log is NOT valid: ${total} problem(s) in ${count} receipts`, 1);
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
    .action((o: { key: string; name: string; out: string; from?: string }) => {
      const { paths } = requireHome(home());
      const trust = TrustStore.load(paths);
      let key: ReturnType<typeof signingKeyFromPem>;
      try {
        key = signingKeyFromPem(readFileSync(o.key, "utf8"));
      } catch (e) {
        throw new CliError(`--key ${o.key}: ${(e as Error).message}`, 2);
      }
      const name = noteName(o.name);
      const from = o.from ?? join(paths.root, CHECKPOINTS_FILE);
      if (!existsSync(from)) throw new CliError(`${from} does not exist: no checkpoints yet`, 2);
      const { checkpoints, errors } = parseCheckpointsFile(readFileSync(from, "utf8"));
      if (errors.length) throw new CliError(`${from}: ${errors.map((e) => e.message).join("; ")}`, 1);
      const have = new Set(
        existsSync(o.out) ? parseCheckpointsFile(readFileSync(o.out, "utf8")).checkpoints.map((c) => c.body) : [],
      );
      const logKeys = [...trust.keys("receipt_signers", true).values()];
      let n = 0;
      for (const cp of checkpoints) {
        if (have.has(cp.body)) continue;
        // Only what the log's own key signed is co-signed: the co-signer vouches for having seen that head.
        if (!verifySigners(cp, logKeys).length)
          throw new CliError(`checkpoint of size ${cp.size} is not signed by a trusted receipt signer`, 1);
        appendCheckpoint(
          o.out,
          `${cp.body}\n${cp.signatures.map((s) => s.line).join("")}${signatureLine(cp.body, name, key)}`,
        );
        have.add(cp.body);
        n++;
      }
      out(`co-signed ${n} checkpoint(s) into ${o.out}; verifier key ${noteVerifierKey(name, key.publicKey)}`);
    });
  receipts
    .command("dangling")
    .description(
      "writes whose intent was recorded but whose outcome never was (the process stopped), with Sentinel's state now",
    )
    .action(async () => {
      const { openRuntime } = await import("../../server/runtime.js");
      const runtime = await openRuntime({ home: home() });
      try {
        const list = await runtime.danglingIntents();
        if (!list.length) return out("no dangling intents");
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
        );
      } finally {
        await runtime.close();
      }
    });
  receipts
    .command("list")
    .option("--job <id>", "only this job")
    .option("--json", "one JSON receipt per line")
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
