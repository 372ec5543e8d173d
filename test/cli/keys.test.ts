import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { rotateKey } from "../../src/cli/commands/keys.js";
import { signingKeyFromPem } from "../../src/crypto/keys.js";
import { homePaths } from "../../src/governance/home.js";
import { KEY_FILES, type TrustStoreFile } from "../../src/governance/trust.js";
import { appendCheckpoint, checkpointOrigin, logLeaf, signCheckpoint } from "../../src/receipts/checkpoint.js";
import { merkleRoot } from "../../src/receipts/merkle.js";
import { type Receipt, receiptHash, signReceipt } from "../../src/receipts/receipt.js";
import { openStateDb } from "../../src/state/db.js";
import { CLI, runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";

const run = promisify(execFile);

const gsmcp = (home: string, args: string[]) => runCli(args, { GSMCP_HOME: home });

describe("gsmcp keys: validity windows across a receipt key rotation", () => {
  let h: TestHome;
  let oldPem: string;
  let oldKeyid: string;
  let newKeyid: string;
  const JOB = "job-rot";

  beforeAll(async () => {
    h = await makeHome();
    const keyFile = join(h.paths.keys, KEY_FILES.receiptSigner);
    oldPem = readFileSync(keyFile, "utf8");
    oldKeyid = signingKeyFromPem(oldPem).keyid;
    const call = async () => {
      const s = await startSession(h, { job: JOB, env: { GSMCP_CHECKPOINT_EVERY: "2" } });
      for (let i = 0; i < 3; i++)
        await s.client.callTool({ name: "sentinel_incidents_list", arguments: { status: "New", top: 2 } });
      await s.close();
    };
    await call();
    const r = await gsmcp(h.home, ["keys", "rotate", "receipt", "--name", "receipt signer 2"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("restart gsmcp serve now");
    newKeyid = signingKeyFromPem(readFileSync(keyFile, "utf8")).keyid;
    await call();
  }, 180_000);

  const copyHome = () => {
    const d = join(mkdtempSync(join(tmpdir(), "gsmcp-rot-")), "home");
    cpSync(h.home, d, { recursive: true });
    return d;
  };

  it("rotate writes a new 0600 key valid from now and closes the old key's window", () => {
    expect(newKeyid).not.toBe(oldKeyid);
    expect(statSync(join(h.paths.keys, KEY_FILES.receiptSigner)).mode & 0o777).toBe(0o600);
    const trust = JSON.parse(readFileSync(h.paths.trust, "utf8")) as TrustStoreFile;
    const [old, fresh] = trust.receipt_signers;
    expect(old).toMatchObject({ keyid: oldKeyid });
    expect(old!.valid_until).toBe(old!.retired_at);
    expect(fresh).toMatchObject({ keyid: newKeyid, name: "receipt signer 2", valid_from: old!.valid_until });
  });

  it("keys list shows role, keyid, window, active and local", async () => {
    const r = await gsmcp(h.home, ["keys", "list", "--json"]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { role: string; keyid: string; active: boolean; local: boolean }[];
    const receipt = rows.filter((x) => x.role === "receipt_signers");
    expect(receipt.map((x) => [x.keyid, x.active, x.local])).toEqual([
      [oldKeyid, false, false],
      [newKeyid, true, true],
    ]);
    const text = await gsmcp(h.home, ["keys", "list"]);
    expect(text.stdout).toMatch(
      new RegExp(`receipt_signers\\t${newKeyid}\\treceipt signer 2\\t\\S+ \\.\\. \\+∞\\tactive\\tlocal`),
    );
  });

  it("keys rotate refuses other roles", async () => {
    const r = await gsmcp(h.home, ["keys", "rotate", "approver"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot rotate "approver"');
  });

  it("a log signed by key 1 then key 2 verifies: receipts verify, and proof verify of the job spanning the rotation", async () => {
    const db = openStateDb(h.paths.stateDb);
    const signers = db
      .prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq")
      .all()
      .map((r) => (JSON.parse(r.body) as Receipt).signature.keyid);
    db.close();
    expect(new Set(signers)).toEqual(new Set([oldKeyid, newKeyid]));
    const v = await gsmcp(h.home, ["receipts", "verify"]);
    expect(v.stdout + v.stderr).not.toContain("key_outside_window");
    expect(v.code).toBe(0);
    const out = join(mkdtempSync(join(tmpdir(), "gsmcp-rot-proof-")), "p.json");
    expect((await gsmcp(h.home, ["proof", "export", "--job", JOB, "-o", out])).code).toBe(0);
    const bundle = JSON.parse(readFileSync(out, "utf8")) as { keys: { keyid: string; valid_until?: string }[] };
    expect(bundle.keys.find((k) => k.keyid === oldKeyid)?.valid_until).toBeDefined();
    const p = await gsmcp(h.home, ["proof", "verify", out, "--json"]);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout).verdict).toBe("valid");
  });

  it("a receipt forged with the old key after its window fails: key_outside_window naming the seq (log and bundle)", async () => {
    const home = copyHome();
    const paths = homePaths(home);
    const db = openStateDb(paths.stateDb);
    const last = JSON.parse(
      db.prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq DESC LIMIT 1").get()!.body,
    ) as Receipt;
    const { signature: _s, ...body } = last;
    const seq = last.seq + 1;
    const forged = signReceipt(
      {
        ...body,
        seq,
        receipt_id: randomUUID(),
        prev_hash: receiptHash(last),
        time: new Date(Date.now() + 60_000).toISOString(),
        ...(last.job_prev_seq !== undefined ? { job_prev_seq: last.seq } : {}),
      },
      signingKeyFromPem(oldPem),
    );
    db.prepare("INSERT INTO receipts (seq, receipt_id, job, hash, body) VALUES (?, ?, ?, ?, ?)").run(
      seq,
      forged.receipt_id,
      forged.job,
      receiptHash(forged),
      JSON.stringify(forged),
    );
    db.close();
    const v = await gsmcp(home, ["receipts", "verify"]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(
      `seq ${seq} (${forged.receipt_id}): key_outside_window: receipt seq ${seq} is signed by ${oldKeyid}`,
    );
    expect(v.stdout).toContain("outside that key's validity window");

    const out = join(mkdtempSync(join(tmpdir(), "gsmcp-rot-proof-")), "p.json");
    expect((await gsmcp(home, ["proof", "export", "--job", forged.job, "-o", out])).code).toBe(0);
    const p = await gsmcp(home, ["proof", "verify", out, "--json"]);
    expect(p.code).toBe(1);
    const problems = (
      JSON.parse(p.stdout) as { steps: { problems: { code: string; receipt?: { seq: number } }[] }[] }
    ).steps.flatMap((s) => s.problems);
    expect(problems).toEqual([
      expect.objectContaining({ code: "key_outside_window", receipt: expect.objectContaining({ seq }) }),
    ]);
  });

  it("a checkpoint signed by the old key after its window fails verification", async () => {
    const home = copyHome();
    const paths = homePaths(home);
    const db = openStateDb(paths.stateDb);
    const leaves = db
      .prepare<[], { body: string }>("SELECT body FROM receipts ORDER BY seq")
      .all()
      .map((r) => logLeaf(JSON.parse(r.body) as Receipt));
    db.close();
    const origin = checkpointOrigin(JSON.parse(readFileSync(paths.config, "utf8")).server_id);
    const note = signCheckpoint(
      { origin, size: leaves.length, root: merkleRoot(leaves), time: new Date(Date.now() + 60_000) },
      signingKeyFromPem(oldPem),
    );
    appendCheckpoint(join(home, "checkpoints.log"), note);
    const v = await gsmcp(home, ["receipts", "verify"]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(
      `checkpoint key_outside_window [checkpoints.log]: checkpoint of size ${leaves.length} is dated`,
    );
    expect(v.stdout).toContain("outside the validity window of its signing key");
  });

  it("serve refuses to start with a receipt key whose window is over, naming gsmcp keys rotate receipt", async () => {
    const home = copyHome();
    const paths = homePaths(home);
    const trust = JSON.parse(readFileSync(paths.trust, "utf8")) as TrustStoreFile;
    trust.receipt_signers.find((k) => k.keyid === newKeyid)!.valid_until = "2020-01-01T00:00:00.000Z";
    writeFileSync(paths.trust, JSON.stringify(trust));
    const r = await gsmcp(home, ["receipts", "list"]); // reading works
    expect(r.code).toBe(0);
    const serve = await run(process.execPath, [CLI, "serve"], {
      env: { ...process.env, GSMCP_HOME: home, GSMCP_CST: "" },
      timeout: 30_000,
    }).catch((e: { code: number; stderr: string }) => e);
    if (!("code" in serve)) throw new Error("serve started with a key outside its window");
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain(`receipt_signers key ${newKeyid} is valid`);
    expect(serve.stderr).toContain('run "gsmcp keys rotate receipt"');
    const t = await gsmcp(home, ["proof", "export", "--job", JOB, "-o", join(home, "x.json")]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("gsmcp keys rotate receipt");
    // a rotation fixes it
    rotateKey(home, "receipt");
    expect((await gsmcp(home, ["proof", "export", "--job", JOB, "-o", join(home, "x.json")])).code).toBe(0);
  });
});
