import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import type { DoctorCheck } from "../../src/cli/commands/doctor.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { openStateDb, STATE_SCHEMA_VERSION } from "../../src/state/db.js";
import { runCli } from "../helpers/cli.js";
import { makeHome, startSession, type TestHome } from "../helpers/home.js";

const _run = promisify(execFile);

const gsmcp = (args: string[]) => runCli(args);

async function doctor(home: string): Promise<{ code: number; checks: DoctorCheck[]; stderr: string }> {
  const r = await gsmcp(["--home", home, "doctor", "--json"]);
  return { code: r.code, checks: JSON.parse(r.stdout) as DoctorCheck[], stderr: r.stderr };
}

const named = (checks: DoctorCheck[], name: string) => checks.find((c) => c.check === name)!;
const notOk = (checks: DoctorCheck[]) => checks.filter((c) => c.status !== "ok");

/** Every entry under dir with its permission bits, relative names. */
function modes(dir: string): Map<string, { dir: boolean; mode: number }> {
  const m = new Map<string, { dir: boolean; mode: number }>();
  const walk = (p: string) => {
    const s = statSync(p);
    m.set(relative(dir, p) || ".", { dir: s.isDirectory(), mode: s.mode & 0o777 });
    if (s.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
  return m;
}

function expectOwnerOnly(dir: string): void {
  const wrong = [...modes(dir)]
    .filter(([, v]) => v.mode !== (v.dir ? 0o700 : 0o600))
    .map(([k, v]) => `${k} ${v.mode.toString(8)}`);
  expect(wrong).toEqual([]);
}

/** Files under dir whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return [...modes(dir)].filter(([k, v]) => !v.dir && readFileSync(join(dir, k)).includes(needle)).map(([k]) => k);
}

describe("secrets at rest", () => {
  it("whatever a later command writes into the home is owner-only too (the CLI runs with umask 077; e.g. policy sign)", async () => {
    const h = await makeHome();
    const file = join(h.home, "mine.wpc.json");
    const wpc = JSON.parse(readFileSync("examples/policies/triage-readonly.wpc.json", "utf8"));
    writeFileSync(file, JSON.stringify({ ...wpc, policy_name: "mine" }), { mode: 0o600 });
    expect((await gsmcp(["--home", h.home, "policy", "sign", file])).code).toBe(0);
    expectOwnerOnly(h.home);
    const d = await doctor(h.home);
    expect(
      notOk(d.checks).filter((c) => c.status === "unsafe"),
      JSON.stringify(notOk(d.checks)),
    ).toEqual([]);
  }, 60_000);

  it("init on an existing 0755 directory, and again with --force, leaves the home 0700 and every file 0600", async () => {
    const home = mkdtempSync(join(tmpdir(), "gsmcp-perm-"));
    chmodSync(home, 0o755);
    mkdirSync(join(home, "notes"), { mode: 0o755 });
    writeFileSync(join(home, "notes", "readme.txt"), "operator notes", { mode: 0o644 });
    const first = await gsmcp(["--home", home, "init", "--seed", "7"]);
    expect(first.code, first.stderr).toBe(0);
    expectOwnerOnly(home);
    // The files the brief names, explicitly: keys, trust, config, policies, state.
    const m = modes(home);
    for (const f of ["keys/token-issuer.pem", "keys/admin-token", "trust.json", "config.json", "state.db"])
      expect(m.get(f)?.mode, f).toBe(0o600);

    // Loosened afterwards (a copy, an editor, a umask 022 shell), then re-initialised with --force.
    chmodSync(home, 0o755);
    chmodSync(join(home, "keys"), 0o755);
    chmodSync(join(home, "trust.json"), 0o644);
    const again = await gsmcp(["--home", home, "init", "--force", "--seed", "7"]);
    expect(again.code, again.stderr).toBe(0);
    expectOwnerOnly(home);
    const d = await doctor(home);
    expect(notOk(d.checks)).toEqual([]);
    expect(d.code).toBe(0);
  });

  it("files created later are owner-only: state.db (and -wal/-shm) at first open, telemetry, proof bundles", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gsmcp-db-"));
    chmodSync(dir, 0o755);
    const db = openStateDb(join(dir, "state.db"));
    db.prepare("INSERT INTO job_flags (job, flag, time) VALUES ('j', 'f', 't')").run();
    const wal = modes(dir);
    db.close();
    for (const f of ["state.db", "state.db-wal", "state.db-shm"]) expect(wal.get(f)?.mode, f).toBe(0o600);

    const h = await makeHome();
    // A telemetry file left 0644 by an older version: the sink makes it 0600 when it opens it.
    writeFileSync(join(h.paths.telemetry, "events.jsonl"), "", { mode: 0o644 });
    chmodSync(join(h.paths.telemetry, "events.jsonl"), 0o644);
    const s = await startSession(h, { job: "job-later" });
    try {
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    } finally {
      await s.close();
    }
    // A re-export over a bundle that had been made world-readable.
    const out = join(h.paths.proofs, "job-later.proof.json");
    writeFileSync(out, "{}", { mode: 0o644 });
    chmodSync(out, 0o644);
    const exp = await gsmcp(["--home", h.home, "proof", "export", "--job", "job-later"]);
    expect(exp.code, exp.stderr).toBe(0);
    const rep = await gsmcp(["--home", h.home, "proof", "report", out]);
    expect(rep.code, rep.stderr).toBe(0);
    expectOwnerOnly(h.home);
    expect(readFileSync(join(h.paths.telemetry, "events.jsonl"), "utf8").length).toBeGreaterThan(0);
  });

  it("the state keeps a token's sha256 and claims, never the token; the bundle carries them with the signature withheld", async () => {
    const h = await makeHome();
    const s = await startSession(h, { job: "job-at-rest" });
    try {
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 1 } });
    } finally {
      await s.close();
    }
    const [, , signature] = s.token.split(".");
    const db = new Database(h.paths.stateDb, { readonly: true });
    const cols = (db.prepare("PRAGMA table_info(tokens)").all() as { name: string }[]).map((c) => c.name);
    const rows = db.prepare("SELECT * FROM tokens").all() as { jws_sha256: string; claims: string; job: string }[];
    db.close();
    expect(cols).not.toContain("jws");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.jws_sha256).toBe(`sha256:${createHash("sha256").update(s.token).digest("hex")}`);
    expect(JSON.parse(rows[0]!.claims)).toMatchObject({ job: "job-at-rest", sub: "agent-1" });

    const exp = await gsmcp(["--home", h.home, "proof", "export", "--job", "job-at-rest"]);
    expect(exp.code, exp.stderr).toBe(0);
    // Nowhere in the home (state, WAL, telemetry, bundle) is the token's signature: nothing there is a credential.
    expect(filesContaining(h.home, signature!)).toEqual([]);
    const bundle = JSON.parse(readFileSync(join(h.paths.proofs, "job-at-rest.proof.json"), "utf8"));
    expect(bundle.tokens[0]).toMatchObject({ jws_sha256: rows[0]!.jws_sha256, claims: { job: "job-at-rest" } });
    expect(bundle.tokens[0].jws).toBeUndefined();
  });

  it("a home from before (tokens stored as JWS) is unsafe until migrated; then no usable token remains", async () => {
    const h = await makeHome();
    const { token } = await issueCst(h.home, { policy: h.policyFile("triage-readonly"), job: "job-old", agent: "a" });
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
    // The state as the previous schema (version 3) left it: the full JWS of every token seen.
    const raw = new Database(h.paths.stateDb);
    raw.exec(`DROP TABLE tokens;
      CREATE TABLE tokens (jti TEXT PRIMARY KEY, job TEXT NOT NULL, jws TEXT NOT NULL, exp INTEGER NOT NULL,
        first_seen TEXT NOT NULL);`);
    raw
      .prepare("INSERT INTO tokens VALUES (?, ?, ?, ?, ?)")
      .run(claims.jti, "job-old", token, claims.exp, "2025-01-01");
    raw.pragma("user_version = 3");
    raw.close();
    const signature = token.split(".")[2]!;
    expect(filesContaining(h.home, signature)).not.toEqual([]);

    const before = await doctor(h.home);
    expect(before.code).toBe(2);
    expect(named(before.checks, "tokens")).toMatchObject({ status: "unsafe" });
    expect(named(before.checks, "tokens").message).toContain("1 live token");
    expect(named(before.checks, "tokens").fix).toContain("gsmcp jobs list");
    expect(named(before.checks, "state")).toMatchObject({ status: "warn" });

    const migrate = await gsmcp(["--home", h.home, "jobs", "list"]);
    expect(migrate.code, migrate.stderr).toBe(0);
    const after = await doctor(h.home);
    expect(notOk(after.checks)).toEqual([]);
    expect(after.code).toBe(0);
    expect(filesContaining(h.home, signature)).toEqual([]);
    const db = openStateDb(h.paths.stateDb, { readonly: true });
    const row = db.prepare("SELECT * FROM tokens").get() as Record<string, unknown>;
    expect(db.pragma("user_version", { simple: true })).toBe(STATE_SCHEMA_VERSION);
    db.close();
    expect(row).toMatchObject({
      jti: claims.jti,
      job: "job-old",
      exp: claims.exp,
      jws_sha256: `sha256:${createHash("sha256").update(token).digest("hex")}`,
    });
    expect(JSON.parse(row.claims as string)).toEqual(claims);
  });
});

describe("gsmcp doctor", () => {
  let h: TestHome;
  beforeAll(async () => {
    h = await makeHome();
    // Receipts to check: a few calls of one job.
    const s = await startSession(h, { job: "job-doctor" });
    try {
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 2 } });
      await s.client.callTool({ name: "sentinel_incidents_list", arguments: { top: 3 } });
    } finally {
      await s.close();
    }
  });

  it("a fresh home is all ok: exit 0, one line per check", async () => {
    const d = await doctor(h.home);
    expect(d.code, d.stderr).toBe(0);
    expect(notOk(d.checks)).toEqual([]);
    expect(d.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        "permissions",
        "key:token-issuer.pem",
        "trust",
        "policies",
        "receipts",
        "config",
        "tokens",
        "state",
      ]),
    );
    expect(named(d.checks, "receipts").message).toMatch(/^[1-9]\d* receipts: signatures valid, chain intact$/);
    const human = await gsmcp(["--home", h.home, "doctor"]);
    expect(human.code).toBe(0);
    expect(human.stdout.trim().split("\n")).toHaveLength(d.checks.length);
    expect(human.stdout).toMatch(/^ok\s+permissions: /m);
  });

  it("a key made 0644 is unsafe: exit 2, and the fix is a chmod of that file", async () => {
    const key = join(h.paths.keys, "token-issuer.pem");
    chmodSync(key, 0o644);
    try {
      const d = await doctor(h.home);
      expect(d.code).toBe(2);
      const p = named(d.checks, "permissions");
      expect(p).toMatchObject({ status: "unsafe" });
      expect(p.message).toContain("keys/token-issuer.pem is 0644");
      expect(p.fix).toBe(`chmod 600 '${key}'`);
      expect(d.stderr).toMatch(/gsmcp: 1 unsafe finding/);
      const human = await gsmcp(["--home", h.home, "doctor"]);
      expect(human.code).toBe(2);
      expect(human.stdout).toMatch(/^UNSAFE permissions: .*— fix: chmod 600 /m);
    } finally {
      chmodSync(key, 0o600);
    }
  });

  it("a tampered receipt breaks the chain", async () => {
    const db = new Database(h.paths.stateDb);
    const row = db.prepare("SELECT seq, body FROM receipts ORDER BY seq LIMIT 1").get() as {
      seq: number;
      body: string;
    };
    const edited = JSON.parse(row.body);
    edited.op = "incidents.update";
    db.prepare("UPDATE receipts SET body = ? WHERE seq = ?").run(JSON.stringify(edited), row.seq);
    db.close();
    try {
      const d = await doctor(h.home);
      expect(d.code).toBe(2);
      const r = named(d.checks, "receipts");
      expect(r.status).toBe("unsafe");
      expect(r.message).toContain(`seq ${row.seq}`);
      expect(r.details?.join("\n")).toMatch(/bad_signature/);
      // The next receipt's prev_hash no longer matches the edited one.
      expect(r.details?.join("\n")).toMatch(new RegExp(`seq ${row.seq + 1} .*broken_link`));
    } finally {
      const db2 = new Database(h.paths.stateDb);
      db2.prepare("UPDATE receipts SET body = ? WHERE seq = ?").run(row.body, row.seq);
      db2.close();
    }
    expect(named((await doctor(h.home)).checks, "receipts").status).toBe("ok");
  });

  it("a stored policy with a flipped signature byte is a problem", async () => {
    const file = h.policyFile("triage-readonly");
    const original = readFileSync(file, "utf8");
    const env = JSON.parse(original);
    const sig = Buffer.from(env.signatures[0].sig, "base64");
    sig.writeUInt8(sig.readUInt8(10) ^ 1, 10);
    env.signatures[0].sig = sig.toString("base64");
    writeFileSync(file, JSON.stringify(env));
    try {
      const d = await doctor(h.home);
      expect(d.code).toBe(2);
      const p = named(d.checks, "policies");
      expect(p.status).toBe("unsafe");
      expect(p.message).toMatch(/triage-readonly\.dsse\.json: no signature on the policy verifies/);
    } finally {
      writeFileSync(file, original);
    }
  });

  it("a hash-named policy whose content is another policy does not match its name", async () => {
    const [a, b] = h.init.policies;
    const original = readFileSync(a!.file, "utf8");
    writeFileSync(a!.file, readFileSync(b!.file));
    try {
      const p = named((await doctor(h.home)).checks, "policies");
      expect(p.status).toBe("unsafe");
      expect(p.message).toContain("does not hash to its name");
    } finally {
      writeFileSync(a!.file, original);
    }
  });

  it("a key trusted for two roles, and a role with no key, are problems", async () => {
    const original = readFileSync(h.paths.trust, "utf8");
    const trust = JSON.parse(original);
    trust.approvers.push(trust.token_issuers[0]);
    trust.client_assertion_signers = [];
    writeFileSync(h.paths.trust, JSON.stringify(trust));
    try {
      const d = await doctor(h.home);
      expect(d.code).toBe(2);
      expect(named(d.checks, "key:token-issuer.pem")).toMatchObject({ status: "unsafe" });
      expect(named(d.checks, "key:token-issuer.pem").message).toContain("token_issuers and approvers");
      const t = named(d.checks, "trust");
      expect(t.status).toBe("unsafe");
      expect(t.details).toEqual(
        expect.arrayContaining([
          "client_assertion_signers: no active key",
          expect.stringMatching(/is trusted for token_issuers and approvers/),
        ]),
      );
      expect(named(d.checks, "key:client-assertion-signer.pem").status).toBe("unsafe");
    } finally {
      writeFileSync(h.paths.trust, original);
    }
  });

  it("a broken config and a live token file are reported (the token file as a warning)", async () => {
    const { token } = await issueCst(h.home, { policy: h.policyFile("triage-readonly"), job: "j", agent: "a" });
    const original = readFileSync(h.paths.config, "utf8");
    writeFileSync(
      h.paths.config,
      JSON.stringify({ ...JSON.parse(original), backend: "cloud", audience: "", http: { burst: 0 } }),
    );
    const tokenFile = join(h.paths.tokens, "j.jwt");
    writeFileSync(tokenFile, token, { mode: 0o600 });
    try {
      const d = await doctor(h.home);
      expect(named(d.checks, "config")).toMatchObject({ status: "unsafe" });
      expect(named(d.checks, "config").details).toEqual([
        'backend is "cloud", not "local" or "azure"',
        "audience is missing or empty",
        expect.stringMatching(/^config.json http.burst must be a whole number/),
      ]);
      expect(named(d.checks, "token-files")).toMatchObject({ status: "warn" });
      expect(named(d.checks, "token-files").message).toContain("tokens/j.jwt");
    } finally {
      writeFileSync(h.paths.config, original);
      writeFileSync(tokenFile, "");
    }
  });

  it("an uninitialised directory is unsafe with the fix to run init", async () => {
    const d = await doctor(mkdtempSync(join(tmpdir(), "gsmcp-empty-")));
    expect(d.code).toBe(2);
    expect(d.checks).toEqual([expect.objectContaining({ check: "home", status: "unsafe" })]);
    expect(d.checks[0]!.fix).toContain("gsmcp init");
  });
});
