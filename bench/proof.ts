// Proof bundles at scale: sign + persist 100,000 receipts for one job, export them (streaming; peak RSS measured),
// and verify the bundle offline (receipts/s).
import { createPublicKey, verify as edVerify, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initHome } from "../src/cli/commands/init.js";
import { policyHash, readPolicyDocument } from "../src/governance/policy.js";
import { loadSigningKey, TrustStore } from "../src/governance/trust.js";
import { exportBundle } from "../src/receipts/bundle.js";
import { receiptSigningBytes } from "../src/receipts/receipt.js";
import { defaultWorkers } from "../src/receipts/signature-pool.js";
import { ReceiptStore } from "../src/receipts/store.js";
import { parseBundle, verifyBundle } from "../src/receipts/verify-bundle.js";
import { openSqliteStore } from "../src/state/sqlite-store.js";
import type { BenchResult } from "./types.js";

const AREA = "proof";

export async function bench(n = 100_000): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const home = mkdtempSync(join(tmpdir(), "gsmcp-proofbench-"));
  const init = await initHome(home, { seed: 1 });
  const { homePaths } = await import("../src/governance/home.js");
  const paths = homePaths(home);
  const hash = policyHash(readPolicyDocument(join(paths.policies, "triage-readonly.dsse.json")).wpc);
  const state = openSqliteStore(paths.stateDb);
  const db = state.db;
  const store = new ReceiptStore(state.receipts, loadSigningKey(paths, "receiptSigner"));
  const t0 = performance.now();
  db.exec("BEGIN");
  for (let i = 0; i < n; i++) {
    await store.append({
      receipt_id: randomUUID(),
      time: new Date().toISOString(),
      server_id: init.config.server_id,
      job: "bench-job",
      agent: "bench",
      cst_jti: "x",
      policy_hash: hash,
      op: "incidents.get",
      tool: "sentinel_incidents_get",
      args_hash: hash,
      args_redacted: { incidentId: `i-${i}` },
      decision: { effect: "ALLOW", reasons: [] },
      constraints_applied: [],
      phase: "single",
      outcome: { status: "ok", result_hash: hash, rows: 1 },
      event_id: randomUUID(),
    });
  }
  db.exec("COMMIT");
  out.push({
    area: AREA,
    name: `sign + persist ${n.toLocaleString("en-US")} receipts (one transaction)`,
    value: (n / (performance.now() - t0)) * 1000,
    unit: "receipts/s",
  });

  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const file = join(home, "bench.proof.json");
  const e0 = performance.now();
  await exportBundle({
    paths,
    serverId: init.config.server_id,
    store: state,
    trust: TrustStore.load(paths),
    receiptKey: loadSigningKey(paths, "receiptSigner"),
    job: "bench-job",
    out: file,
  });
  const exportMs = performance.now() - e0;
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(timer);
  out.push({
    area: AREA,
    name: `export ${n.toLocaleString("en-US")}-receipt job (streamed)`,
    value: exportMs,
    unit: "ms",
    notes: `bundle ${(statSync(file).size / 1e6).toFixed(0)} MB; RSS growth during export ${((peak - rss0) / 1e6).toFixed(0)} MB`,
  });
  db.close();

  const bundle = parseBundle(readFileSync(file, "utf8"));
  const trust = TrustStore.load(paths).file;
  // The floor under any verifier that checks every receipt signature: Ed25519 verify alone, on one core.
  const edPerSec = ed25519VerifiesPerSecond(bundle);
  out.push({
    area: AREA,
    name: "Ed25519 verify alone (node:crypto / OpenSSL, one core)",
    value: edPerSec,
    unit: "verifies/s",
    notes: "the ceiling for verification on one core: every receipt carries one signature",
  });
  const workers = defaultWorkers();
  for (const w of [1, workers]) {
    const v0 = performance.now();
    const report = await verifyBundle(bundle, trust, { workers: w });
    const rate = (n / (performance.now() - v0)) * 1000;
    out.push({
      area: AREA,
      name: `offline verification (all steps), ${w === 1 ? "one core" : `${w} signature workers`}`,
      value: rate,
      unit: "receipts/s",
      target: "≥ 20,000 receipts/s on one core",
      holds: w === 1 ? rate >= 20_000 : undefined,
      notes: `verdict ${report.verdict}; ${((rate / edPerSec) * 100).toFixed(0)}% of the one-core Ed25519 ceiling`,
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench(Number(process.argv[2] ?? 100_000))) console.log(JSON.stringify(r));
}

/** Raw Ed25519 verifications per second over the bundle's own receipts (signing bytes prepared beforehand). */
function ed25519VerifiesPerSecond(bundle: ReturnType<typeof parseBundle>): number {
  const key = createPublicKey(bundle.keys.find((k) => k.role === "receipt_signers")!.public_key);
  const sample = bundle.receipts.slice(0, 5_000).map((r) => ({
    data: Buffer.from(receiptSigningBytes(r)),
    sig: Buffer.from(r.signature.sig, "base64"),
  }));
  const t0 = performance.now();
  for (const s of sample) if (!edVerify(null, s.data, key, s.sig)) throw new Error("bench receipt does not verify");
  return (sample.length / (performance.now() - t0)) * 1000;
}
