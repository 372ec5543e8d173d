import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { DsseEnvelope } from "../crypto/dsse.js";
import { jcs, sha256Hex } from "../crypto/jcs.js";
import type { SigningKey } from "../crypto/keys.js";
import type { Approval } from "../governance/approvals.js";
import type { HomePaths } from "../governance/home.js";
import { readJsonFile, storedPolicyPath } from "../governance/policy.js";
import { TRUST_ROLES, type TrustStore } from "../governance/trust.js";
import type { Db } from "../state/db.js";
import { leafHash, merkleRoot } from "./merkle.js";
import type { Receipt } from "./receipt.js";
import { signTreeHead, type TreeHead } from "./tree-head.js";

export interface ProofBundle {
  bundle_version: "gsmcp-proof/v1";
  created_at: string;
  job: string;
  server_id: string;
  policies: { hash: string; envelope: DsseEnvelope }[];
  tokens: {
    jti: string;
    header: Record<string, unknown>;
    claims: Record<string, unknown>;
    jws?: string;
    signature_withheld?: string;
  }[];
  approvals: Approval[];
  receipts: Receipt[];
  tree_head: TreeHead;
  keys: { keyid: string; role: string; name: string; public_key: string; retired_at?: string }[];
  attachments: { name: string; sha256: string; content: unknown }[];
}

/** The Merkle leaf of a receipt: its canonical (JCS) bytes. */
export function receiptLeaf(r: Receipt): Buffer {
  return leafHash(jcs(r));
}

export interface ExportOptions {
  paths: HomePaths;
  serverId: string;
  db: Db;
  trust: TrustStore;
  receiptKey: SigningKey;
  job: string;
  out: string;
  attach?: string[];
  includeLiveToken?: boolean;
  now?: Date;
}

/**
 * Writes a job's proof bundle to `out`, streaming receipts from SQLite so memory stays bounded by the leaf hashes
 * (32 bytes per receipt), not the receipts.
 */
export function exportBundle(o: ExportOptions): { receipts: number; root: string; file: string } {
  const now = o.now ?? new Date();
  const count =
    o.db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM receipts WHERE job = ?").get(o.job)?.n ?? 0;
  if (count === 0) throw new Error(`no receipts for job "${o.job}" (see gsmcp jobs list)`);

  const policyHashes = new Set<string>();
  for (const r of o.db
    .prepare<[string], { h: string }>(
      "SELECT DISTINCT json_extract(body, '$.policy_hash') AS h FROM receipts WHERE job = ?",
    )
    .iterate(o.job)) {
    if (r.h && r.h !== "-") policyHashes.add(r.h);
  }
  const policies = [...policyHashes].map((hash) => ({
    hash,
    envelope: readJsonFile(storedPolicyPath(o.paths, hash), "signed policy") as DsseEnvelope,
  }));
  const nowSec = Math.floor(now.getTime() / 1000);
  const tokens = o.db
    .prepare<[string], { jti: string; jws: string; exp: number }>(
      "SELECT jti, jws, exp FROM tokens WHERE job = ? ORDER BY first_seen",
    )
    .all(o.job)
    .map((t) => {
      const base = {
        jti: t.jti,
        header: decodeProtectedHeader(t.jws) as Record<string, unknown>,
        claims: decodeJwt(t.jws) as Record<string, unknown>,
      };
      // A live token is a bearer credential: its signature stays out of the bundle unless explicitly asked for.
      return t.exp < nowSec || o.includeLiveToken
        ? { ...base, jws: t.jws }
        : { ...base, signature_withheld: "token still valid at export" };
    });
  const approvals = o.db
    .prepare<[string], { body: string }>("SELECT body FROM approvals WHERE job = ? ORDER BY requested_at")
    .all(o.job)
    .map((r) => JSON.parse(r.body) as Approval);
  const keys = TRUST_ROLES.flatMap((role) =>
    (o.trust.file[role] ?? []).map((k) => ({
      keyid: k.keyid,
      role,
      name: k.name,
      public_key: k.public_key,
      ...(k.retired_at ? { retired_at: k.retired_at } : {}),
    })),
  );
  const attachments = (o.attach ?? []).map((f) => {
    const raw = readFileSync(f, "utf8");
    let content: unknown;
    try {
      content = JSON.parse(raw);
    } catch {
      throw new Error(`attachment ${f} is not JSON`);
    }
    return { name: basename(f), sha256: `sha256:${sha256Hex(raw)}`, content };
  });

  const fd = openSync(o.out, "w", 0o600);
  const leaves: Buffer[] = [];
  try {
    const head = {
      bundle_version: "gsmcp-proof/v1",
      created_at: now.toISOString(),
      job: o.job,
      server_id: o.serverId,
      policies,
      tokens,
      approvals,
      keys,
      attachments,
    };
    writeSync(fd, `${JSON.stringify(head).slice(0, -1)},"receipts":[`);
    let first = true;
    for (const row of o.db
      .prepare<[string], { body: string }>("SELECT body FROM receipts WHERE job = ? ORDER BY seq")
      .iterate(o.job)) {
      const r = JSON.parse(row.body) as Receipt;
      leaves.push(receiptLeaf(r));
      writeSync(fd, `${first ? "" : ","}${row.body}`);
      first = false;
    }
    const root = `sha256:${merkleRoot(leaves).toString("hex")}`;
    const treeHead = signTreeHead(
      { job: o.job, tree_size: leaves.length, root_hash: root, timestamp: now.toISOString() },
      o.receiptKey,
    );
    writeSync(fd, `],"tree_head":${JSON.stringify(treeHead)}}\n`);
    return { receipts: leaves.length, root, file: o.out };
  } finally {
    closeSync(fd);
  }
}
