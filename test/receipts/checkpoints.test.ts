import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, privateKeyPem, publicKeyPem } from "../../src/crypto/keys.js";
import { homePaths } from "../../src/governance/home.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import { checkpointOrigin, logLeaf, parseCheckpointsFile, signCheckpoint } from "../../src/receipts/checkpoint.js";
import { merkleRoot } from "../../src/receipts/merkle.js";
import { GENESIS_HASH, type Receipt, receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import { openStateDb } from "../../src/state/db.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";
import { eventsOf, receiptsOf } from "../helpers/state.js";

const _run = promisify(execFile);

const gsmcp = (home: string, args: string[]) => runCli(args, { GSMCP_HOME: home });

describe("witnessed checkpoints through the server and `gsmcp receipts verify`", () => {
  let h: TestHome;
  let base: string;
  const witnessDir = mkdtempSync(join(tmpdir(), "gsmcp-witness-"));
  let witness: string;

  beforeAll(async () => {
    h = await makeHome();
    const s = await startSession(h, { env: { GSMCP_CHECKPOINT_EVERY: "3" } });
    for (let i = 0; i < 7; i++)
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 2 } });
    await s.close();
    base = h.home;
    // The witness outside the host: a copy taken now, before any tampering.
    witness = join(witnessDir, "checkpoints.witness");
    cpSync(join(base, "checkpoints.log"), witness);
  }, 120_000);

  /** A scratch copy of the home to tamper with. */
  const copyHome = () => {
    const d = join(mkdtempSync(join(tmpdir(), "gsmcp-tamper-")), "home");
    cpSync(base, d, { recursive: true });
    return d;
  };
  const dbOf = (home: string) => openStateDb(homePaths(home).stateDb);

  it("the server published checkpoints to the file and as Checkpoint events; verify passes", async () => {
    const n = receiptsOf(h).length;
    const { checkpoints } = parseCheckpointsFile(readFileSync(join(base, "checkpoints.log"), "utf8"));
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints.at(-1)!.size).toBe(n);
    expect(statSync(join(base, "checkpoints.log")).mode & 0o777).toBe(0o600);
    const ev = eventsOf(h).filter((e) => e.EventType === "Checkpoint");
    expect(ev.map((e) => (e.ToolParameters as { tree_size: number }).tree_size)).toEqual(
      checkpoints.map((c) => c.size),
    );
    const r = await gsmcp(base, ["receipts", "verify", "--witness", witness]);
    expect(r.stdout).toContain(`consistent with ${checkpoints.length * 2} witnessed checkpoint(s) up to size ${n}`);
    expect(r.code).toBe(0);
  });

  it("a cut tail is reported against the witnessed checkpoint (the chain alone cannot see it)", async () => {
    const home = copyHome();
    const n = receiptsOf(h).length;
    const db = dbOf(home);
    db.prepare("DELETE FROM receipts WHERE seq > ?").run(n - 2);
    db.close();
    const r = await gsmcp(home, ["receipts", "verify"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `checkpoint log_truncated [checkpoints.log]: checkpoint of size ${n} but the store holds ${n - 2} receipts: seq ${n - 1}..${n} are missing`,
    );
    expect(r.stdout).not.toMatch(/^seq /m);
  });

  it("a receipt deleted mid-log is reported: the chain gap and the root at each later checkpoint", async () => {
    const home = copyHome();
    const db = dbOf(home);
    db.prepare("DELETE FROM receipts WHERE seq = 5").run();
    db.close();
    const r = await gsmcp(home, ["receipts", "verify"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/seq 6 .*(seq_gap|broken_link)/);
    expect(r.stdout).toContain("checkpoint root_mismatch [checkpoints.log]: at checkpoint size 6 ");
    expect(r.stdout).toContain("a receipt in seq 4..6 was changed, removed or inserted");
  });

  /** The attacker holds the receipt key: rewrites receipt 1, re-signs and re-chains everything, re-signs checkpoints. */
  const rewritePrefix = (home: string) => {
    const paths = homePaths(home);
    const key = loadSigningKey(paths, "receiptSigner");
    const db = openStateDb(paths.stateDb);
    const rows = db.prepare<[], { seq: number; body: string }>("SELECT seq, body FROM receipts ORDER BY seq").all();
    let prev = GENESIS_HASH;
    const rewritten: Receipt[] = [];
    for (const row of rows) {
      const { signature: _s, ...body } = JSON.parse(row.body) as Receipt;
      if (row.seq === 1) body.args_redacted = { status: "Closed" };
      const signed = signReceipt({ ...body, prev_hash: prev }, key);
      prev = receiptHash(signed);
      db.prepare("UPDATE receipts SET hash = ?, body = ? WHERE seq = ?").run(prev, JSON.stringify(signed), row.seq);
      rewritten.push(signed);
    }
    db.close();
    const leaves = rewritten.map(logLeaf);
    const origin = checkpointOrigin(JSON.parse(readFileSync(paths.config, "utf8")).server_id);
    const old = parseCheckpointsFile(readFileSync(join(home, "checkpoints.log"), "utf8")).checkpoints;
    writeFileSync(
      join(home, "checkpoints.log"),
      old
        .map(
          (c) =>
            `${signCheckpoint({ origin, size: c.size, root: merkleRoot(leaves.slice(0, c.size)), time: new Date() }, key)}\n`,
        )
        .join(""),
    );
    return { key, origin, leaves };
  };

  it("a rewritten, re-signed prefix passes on the host alone and is caught only by the external witness copy", async () => {
    const home = copyHome();
    rewritePrefix(home);
    const alone = await gsmcp(home, ["receipts", "verify"]);
    expect(alone.code).toBe(0);
    const r = await gsmcp(home, ["receipts", "verify", "--witness", witness]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`checkpoint root_mismatch [witness ${witness}]: at checkpoint size 3 `);
    expect(r.stdout).toContain("a receipt in seq 1..3 was changed, removed or inserted");
    expect(r.stdout).toContain("checkpoint equivocation");
  });

  it("a replaced checkpoints file (tail cut, file re-signed to match) is caught with the witness copy", async () => {
    const home = copyHome();
    const n = receiptsOf(h).length;
    const db = dbOf(home);
    db.prepare("DELETE FROM receipts WHERE seq > ?").run(n - 3);
    db.close();
    const key = loadSigningKey(homePaths(home), "receiptSigner");
    const stored = receiptsOf({ ...h, paths: homePaths(home) }).map(logLeaf);
    const o = parseCheckpointsFile(readFileSync(join(home, "checkpoints.log"), "utf8")).checkpoints[0]!.origin;
    writeFileSync(
      join(home, "checkpoints.log"),
      `${signCheckpoint({ origin: o, size: stored.length, root: merkleRoot(stored) }, key)}\n`,
    );
    expect((await gsmcp(home, ["receipts", "verify"])).code).toBe(0);
    const r = await gsmcp(home, ["receipts", "verify", "--witness", witness]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `checkpoint log_truncated [witness ${witness}]: checkpoint of size ${n} but the store holds ${n - 3} receipts`,
    );
  });

  it("an equivocating checkpoint (same size, different root, validly signed) is reported as equivocation", async () => {
    const home = copyHome();
    const key = loadSigningKey(homePaths(home), "receiptSigner");
    const first = parseCheckpointsFile(readFileSync(witness, "utf8")).checkpoints[0]!;
    const forged = signCheckpoint({ origin: first.origin, size: first.size, root: Buffer.alloc(32, 7) }, key);
    const w2 = join(witnessDir, "forged.witness");
    writeFileSync(w2, `${forged}\n`);
    const r = await gsmcp(home, ["receipts", "verify", "--witness", w2]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `checkpoint equivocation [checkpoints.log, witness ${w2}]: validly signed checkpoints of size ${first.size} with different roots`,
    );
  });

  it("co-signature: `receipts cosign` appends co-signed copies; verify requires the named co-signer", async () => {
    const home = copyHome();
    const co = generateSigningKey();
    const keyFile = join(witnessDir, "co.pem");
    const pubFile = join(witnessDir, "co.pub.pem");
    writeFileSync(keyFile, privateKeyPem(co), { mode: 0o600 });
    writeFileSync(pubFile, publicKeyPem(co.publicKey));
    const out = join(witnessDir, `cosigned-${randomUUID()}.log`);
    const c = await gsmcp(home, ["receipts", "cosign", "--key", keyFile, "--name", "soc-witness", "--out", out]);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/co-signed \d+ checkpoint\(s\).*verifier key soc-witness\+[0-9a-f]{8}\+/);
    const again = await gsmcp(home, ["receipts", "cosign", "--key", keyFile, "--name", "soc-witness", "--out", out]);
    expect(again.stdout).toContain("co-signed 0 checkpoint(s)");
    const ok = await gsmcp(home, ["receipts", "verify", "--witness", out, "--cosigner", `soc-witness=${pubFile}`]);
    expect(ok.code).toBe(0);
    const other = generateSigningKey();
    const otherPub = join(witnessDir, "other.pub.pem");
    writeFileSync(otherPub, publicKeyPem(other.publicKey));
    const bad = await gsmcp(home, ["receipts", "verify", "--witness", out, "--cosigner", `soc-witness=${otherPub}`]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("cosignature_missing");
  });

  it("an unreadable --witness file is exit 2", async () => {
    const r = await gsmcp(base, ["receipts", "verify", "--witness", join(witnessDir, "nope")]);
    expect(r.code).toBe(2);
  });
});

describe("proof bundles carry the checkpoint; `proof verify --witness`", () => {
  let h: TestHome;
  let witness: string;
  const dir = mkdtempSync(join(tmpdir(), "gsmcp-pw-"));

  beforeAll(async () => {
    h = await makeHome();
    for (const job of ["job-a", "job-b", "job-a"]) {
      const s = await startSession(h, { job, env: { GSMCP_CHECKPOINT_EVERY: "2" } });
      for (let i = 0; i < 3; i++)
        await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 1 } });
      await s.close();
    }
    witness = join(dir, "witness.log");
    cpSync(join(h.home, "checkpoints.log"), witness);
  }, 120_000);

  it("export adds inclusion proofs against the latest checkpoint; verify checks them and the witness's checkpoints", async () => {
    const out = join(dir, "a.json");
    expect((await gsmcp(h.home, ["proof", "export", "--job", "job-a", "-o", out])).code).toBe(0);
    const bundle = JSON.parse(readFileSync(out, "utf8"));
    const n = receiptsOf(h).length;
    expect(bundle.checkpoint.note).toMatch(new RegExp(`^gsmcp/\\S+\\n${n}\\n`));
    expect(bundle.checkpoint.inclusion.map((p: { seq: number }) => p.seq)).toEqual(
      bundle.receipts.map((r: Receipt) => r.seq),
    );
    const r = await gsmcp(h.home, ["proof", "verify", out, "--witness", witness]);
    expect(r.stdout).toContain("✓ checkpoint");
    expect(r.stdout).toMatch(/witness .*: \d+ checkpoint\(s\) consistent-checked/);
    expect(r.code).toBe(0);

    // A tampered inclusion path fails.
    const bad = structuredClone(bundle);
    bad.checkpoint.inclusion[0].path[0] = Buffer.alloc(32, 1).toString("base64");
    const badFile = join(dir, "bad.json");
    writeFileSync(badFile, JSON.stringify(bad));
    const rb = await gsmcp(h.home, ["proof", "verify", badFile]);
    expect(rb.code).toBe(1);
    expect(rb.stdout).toContain("checkpoint_inclusion");
  });

  it("a bundle exported from a rewritten, re-signed log fails against the witness copy", async () => {
    const home = join(mkdtempSync(join(tmpdir(), "gsmcp-tamper-")), "home");
    cpSync(h.home, home, { recursive: true });
    const paths = homePaths(home);
    const key = loadSigningKey(paths, "receiptSigner");
    const db = openStateDb(paths.stateDb);
    const rows = db.prepare<[], { seq: number; body: string }>("SELECT seq, body FROM receipts ORDER BY seq").all();
    let prev = GENESIS_HASH;
    const rewritten: Receipt[] = [];
    for (const row of rows) {
      const { signature: _s, ...body } = JSON.parse(row.body) as Receipt;
      if (row.seq === 2) body.args_redacted = { status: "Closed" };
      const signed = signReceipt({ ...body, prev_hash: prev }, key);
      prev = receiptHash(signed);
      db.prepare("UPDATE receipts SET hash = ?, body = ? WHERE seq = ?").run(prev, JSON.stringify(signed), row.seq);
      rewritten.push(signed);
    }
    db.close();
    const leaves = rewritten.map(logLeaf);
    const old = parseCheckpointsFile(readFileSync(join(home, "checkpoints.log"), "utf8")).checkpoints;
    writeFileSync(
      join(home, "checkpoints.log"),
      old
        .map(
          (c) =>
            `${signCheckpoint({ origin: c.origin, size: c.size, root: merkleRoot(leaves.slice(0, c.size)) }, key)}\n`,
        )
        .join(""),
    );
    const out = join(dir, "rewritten.json");
    expect((await gsmcp(home, ["proof", "export", "--job", "job-a", "-o", out])).code).toBe(0);
    expect((await gsmcp(home, ["proof", "verify", out])).code).toBe(0);
    const r = await gsmcp(home, ["proof", "verify", out, "--witness", witness]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("equivocation");
    expect(r.stdout).toContain("checkpoint_consistency");
  });
});
