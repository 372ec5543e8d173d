import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { issueCst } from "../../src/cli/commands/token.js";
import { generateSigningKey } from "../../src/crypto/keys.js";
import { homePaths } from "../../src/governance/home.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import { checkpointOrigin, parseCheckpointsFile, signCheckpoint } from "../../src/receipts/checkpoint.js";
import { verifyLogAgainstCheckpoints } from "../../src/receipts/verify-checkpoints.js";
import { notesInReceiveOrder, workspaceWitnessQuery } from "../../src/receipts/witness-workspace.js";
import { openRuntime } from "../../src/server/runtime.js";
import { openStateDb } from "../../src/state/db.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, type TestHome } from "../helpers/home.js";
import { examplePolicy, signTestPolicy } from "../helpers/policy.js";

// The workspace as a witness: a server publishes its checkpoints as Checkpoint events to the embedded workspace's
// Logs Ingestion endpoint (telemetry.sink "local"); `receipts verify --witness workspace` and `proof verify
// --witness workspace` read them back through the configured backend, in the workspace's ingestion order.

const _run = promisify(execFile);
const gsmcp = (home: string, args: string[]) => runCli(args, { GSMCP_HOME: home });

const JOB = "job-witness-ws";

describe("--witness workspace", () => {
  let h: TestHome;
  let n = 0;
  beforeAll(async () => {
    h = await makeHome();
    const wpc = examplePolicy("triage-readonly");
    const policy = signTestPolicy(h, { ...wpc, policy_name: "triage-ws-witness", telemetry: { sink: "local" } });
    const { token } = await issueCst(h.home, { policy, job: JOB, agent: "a" });
    const rt = await openRuntime({
      home: h.home,
      tokenRef: token,
      policyRef: policy,
      checkpoints: { every: 2, intervalMs: 0 },
    });
    for (let i = 0; i < 7; i++) await rt.governor.call("sentinel_incidents_list", { top: 1 });
    await rt.close(); // the last checkpoint, then the sink flushes
    const db = openStateDb(h.paths.stateDb);
    n = (db.prepare("SELECT COUNT(*) AS c FROM receipts").get() as { c: number }).c;
    db.close();
  }, 120_000);

  const copyHome = () => {
    const d = join(mkdtempSync(join(tmpdir(), "gsmcp-ws-tamper-")), "home");
    cpSync(h.home, d, { recursive: true });
    return d;
  };

  it("reads the Checkpoint events back in ingestion order: verify is OK", async () => {
    const r = await gsmcp(h.home, ["receipts", "verify", "--witness", "workspace"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /OK \d+ receipts: signatures valid, chain intact, consistent with \d+ witnessed checkpoint/,
    );
    // The file and the workspace each hold every checkpoint.
    const m = /consistent with (\d+) witnessed checkpoint\(s\) up to size (\d+)/.exec(r.stdout)!;
    expect(Number(m[1])).toBeGreaterThanOrEqual(8);
    expect(Number(m[2])).toBeGreaterThan(n - 1);
  });

  it("proof verify --witness workspace checks the bundle against the workspace's checkpoints", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "gsmcp-ws-proof-")), "b.json");
    const e = await gsmcp(h.home, ["proof", "export", "--job", JOB, "--out", out]);
    expect(e.code, e.stderr).toBe(0);
    const r = await gsmcp(h.home, ["proof", "verify", out, "--witness", "workspace"]);
    expect(r.stdout).toContain("witness workspace AgentSecurityEvent_CL:");
    expect(r.stdout).toContain("✓ witness receive order");
    expect(r.code, r.stdout).toBe(0);
  });

  it("a cut tail (receipts deleted, checkpoints.log truncated) is caught by the workspace witness", async () => {
    const home = copyHome();
    const db = openStateDb(homePaths(home).stateDb);
    db.prepare("DELETE FROM receipts WHERE seq > ?").run(3);
    db.close();
    writeFileSync(join(home, "checkpoints.log"), "");
    // Without a witness the shortened log looks whole.
    expect((await gsmcp(home, ["receipts", "verify"])).code).toBe(0);
    const r = await gsmcp(home, ["receipts", "verify", "--witness", "workspace"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /checkpoint log_truncated \[workspace AgentSecurityEvent_CL\]: checkpoint of size \d+ but the store holds 3 receipts/,
    );
  });

  it("a workspace that cannot be queried is unreadable input (exit 2)", async () => {
    const home = copyHome();
    const cfgFile = join(home, "config.json");
    const cfg = JSON.parse(readFileSync(cfgFile, "utf8"));
    writeFileSync(join(home, "workspace", "ids.json"), "not json");
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, backend: "local" }));
    const r = await gsmcp(home, ["receipts", "verify", "--witness", "workspace"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--witness workspace:");
  });
});

describe("receive order", () => {
  it("a validly signed checkpoint received after a larger one is a reset or fork (checkpoint_regressed)", async () => {
    const h = await makeHome();
    const key = loadSigningKey(h.paths, "receiptSigner");
    const cfg = JSON.parse(readFileSync(join(h.home, "config.json"), "utf8")) as { server_id: string };
    const origin = checkpointOrigin(cfg.server_id);
    const leaves = [1, 2, 3, 4, 5].map((i) => Buffer.alloc(32, i));
    const { MerkleLevels } = await import("../../src/receipts/merkle.js");
    const levels = new MerkleLevels(leaves);
    const cp = (size: number, root = levels.root(0, size)) =>
      signCheckpoint({ origin, size, root, time: new Date() }, key);
    const keys = [key.publicKey];
    // A reset: the log went to 4, then came back as a different log of size 2 (a root the store does not prove).
    const forked = cp(2, Buffer.alloc(32, 9));
    const text = [cp(2), cp(4), forked].join("\n");
    const r = verifyLogAgainstCheckpoints(leaves, [{ name: "witness w", text }], keys, origin);
    const reg = r.problems.filter((p) => p.code === "checkpoint_regressed");
    expect(reg).toHaveLength(1);
    expect(reg[0]!.message).toContain("checkpoint of size 2 (note #3) was received after one of size 4 (note #2)");
    // A late delivery of an older head of this very log (both proven by the stored log) is not a regression.
    const late = verifyLogAgainstCheckpoints(
      leaves,
      [{ name: "w", text: [cp(4), cp(2), cp(5)].join("\n") }],
      keys,
      origin,
    );
    expect(late.problems).toEqual([]);
  });

  it("workspace rows received together are put in size order; the query orders by ingestion_time()", () => {
    const q = workspaceWitnessQuery("gsmcp/x");
    expect(q).toContain("ingestion_time()");
    expect(q).toContain("order by Ingested asc");
    const key = generateSigningKey();
    const note = (size: number) =>
      signCheckpoint({ origin: "gsmcp/x", size, root: Buffer.alloc(32), time: new Date() }, key);
    const t = "2026-01-01T00:00:00.000Z";
    const text = notesInReceiveOrder([
      [note(4), t],
      [note(2), t],
      [note(6), "2026-01-01T00:00:01.000Z"],
    ]);
    expect(parseCheckpointsFile(text).checkpoints.map((c) => c.size)).toEqual([2, 4, 6]);
  });
});
