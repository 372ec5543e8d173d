import type { Command } from "commander";
import { requireHome } from "../../governance/home.js";
import { TrustStore } from "../../governance/trust.js";
import type { Receipt } from "../../receipts/receipt.js";
import { type ChainProblem, verifyChain } from "../../receipts/verify-chain.js";
import { openStateDb } from "../../state/db.js";
import { CliError, out } from "../output.js";

/** Reads the stored log raw, so a corrupted row is reported instead of crashing the verifier. */
export function verifyStoredReceipts(home: string): { count: number; problems: ChainProblem[] } {
  const { paths } = requireHome(home);
  const trust = TrustStore.load(paths);
  const db = openStateDb(paths.stateDb);
  try {
    const rows = db
      .prepare<[], { seq: number; receipt_id: string; hash: string; body: string }>(
        "SELECT seq, receipt_id, hash, body FROM receipts ORDER BY seq",
      )
      .all();
    const parsed: Receipt[] = [];
    const problems: ChainProblem[] = [];
    for (const row of rows) {
      try {
        const r = JSON.parse(row.body) as Receipt;
        if (r.seq !== row.seq || r.receipt_id !== row.receipt_id) {
          problems.push({
            seq: row.seq,
            receipt_id: row.receipt_id,
            code: "unparseable",
            message: "stored index columns disagree with the receipt body",
          });
        }
        parsed.push(r);
      } catch {
        problems.push({
          seq: row.seq,
          receipt_id: row.receipt_id,
          code: "unparseable",
          message: "receipt body is not valid JSON",
        });
      }
    }
    problems.push(...verifyChain(parsed, trust.keys("receipt_signers", true)));
    return { count: rows.length, problems };
  } finally {
    db.close();
  }
}

export function registerReceiptCommands(program: Command, home: () => string): void {
  const receipts = program.command("receipts").description("the signed, hash-chained receipt log");
  receipts
    .command("verify")
    .description("check every receipt's signature and the hash chain")
    .action(() => {
      const { count, problems } = verifyStoredReceipts(home());
      for (const p of problems) out(`seq ${p.seq} (${p.receipt_id}): ${p.code}: ${p.message}`);
      if (problems.length)
        throw new CliError(`receipt log is NOT valid: ${problems.length} problem(s) in ${count} receipts`, 1);
      out(`OK ${count} receipts: signatures valid, chain intact`);
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
    .action((o: { job?: string; json?: boolean }) => {
      const { paths } = requireHome(home());
      const db = openStateDb(paths.stateDb);
      const rows = (
        o.job
          ? db.prepare<[string], { body: string }>("SELECT body FROM receipts WHERE job = ? ORDER BY seq").all(o.job)
          : db.prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq").all()
      ).map((r) => JSON.parse(r.body) as Receipt);
      db.close();
      for (const r of rows) {
        if (o.json) out(JSON.stringify(r));
        else
          out(
            `${r.seq}\t${r.time}\t${r.job}\t${r.op}\t${r.decision.effect}\t${r.outcome.status}${r.outcome.error ? `:${r.outcome.error.code}` : ""}\t${r.receipt_id}`,
          );
      }
    });
}
