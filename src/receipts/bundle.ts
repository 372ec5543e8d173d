import { closeSync, existsSync, fchmodSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import type { DsseEnvelope } from "../crypto/dsse.js";
import { jcs, sha256Hex } from "../crypto/jcs.js";
import type { SigningKey } from "../crypto/keys.js";
import type { Approval } from "../governance/approvals.js";
import type { HomePaths } from "../governance/home.js";
import { readJsonFile, storedPolicyPath } from "../governance/policy.js";
import { TRUST_ROLES, type TrustStore } from "../governance/trust.js";
import type { StateStore } from "../state/contract.js";
import { pages } from "../state/pages.js";
import { CHECKPOINTS_FILE, logLeaf, readCheckpointsFile } from "./checkpoint.js";
import { leafHash, MerkleLevels, merkleRoot } from "./merkle.js";
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
    /** "sha256:" + hex of the compact JWS: the server keeps only this, so a bundle it exports carries only this. */
    jws_sha256?: string;
    /** The compact JWS: in bundles exported before tokens were kept as hashes, or added by whoever holds it. */
    jws?: string;
    signature_withheld?: string;
  }[];
  approvals: Approval[];
  receipts: Receipt[];
  tree_head: TreeHead;
  /** Every trusted key with its validity window (valid_from/valid_until; retired_at ends it when valid_until is absent). */
  keys: {
    keyid: string;
    role: string;
    name: string;
    public_key: string;
    valid_from?: string;
    valid_until?: string;
    retired_at?: string;
  }[];
  attachments: { name: string; sha256: string; content: unknown }[];
  /**
   * The latest checkpoint of the whole receipt log (a signed note) with an RFC 9162 inclusion proof for each of the
   * job's receipts it covers (leaf index seq - 1) and a consistency proof from every earlier checkpoint size to it.
   */
  checkpoint?: BundleCheckpoint;
}

export interface BundleCheckpoint {
  note: string;
  inclusion: { seq: number; path: string[] }[];
  consistency: { size: number; path: string[] }[];
}

/** The Merkle leaf of a receipt: its canonical (JCS) bytes. */
export function receiptLeaf(r: Receipt): Buffer {
  return leafHash(jcs(r));
}

export interface ExportOptions {
  paths: HomePaths;
  serverId: string;
  store: StateStore;
  trust: TrustStore;
  receiptKey: SigningKey;
  job: string;
  out: string;
  attach?: string[];
  now?: Date;
  /**
   * Progress for a bar (`proof export`): phase "log", the seq reached of the log's head (the job's receipts are read
   * in seq order); phase "checkpoint", the seq reached of the checkpoint's size (its proofs hash the whole log).
   */
  onProgress?: ExportProgress;
}

export type ExportProgress = (p: { phase: "log" | "checkpoint"; done: number; total: number }) => void;

/** Rows between progress reports. */
const PROGRESS_EVERY = 500;

/**
 * Writes a job's proof bundle to `out`, streaming receipts from the store page by page so memory stays bounded by the
 * leaf hashes (32 bytes per receipt), not the receipts.
 */
export async function exportBundle(o: ExportOptions): Promise<{ receipts: number; root: string; file: string }> {
  const now = o.now ?? new Date();
  const log = o.store.receipts;
  if (!(await log.jobRange(o.job, 0, 1)).length)
    throw new Error(`no receipts for job "${o.job}" (see gsmcp jobs list)`);

  const policies = (await log.policyHashesOfJob(o.job)).map((hash) => ({
    hash,
    envelope: readJsonFile(storedPolicyPath(o.paths, hash), "signed policy") as DsseEnvelope,
  }));
  // The store keeps each token's header, claims and sha256, never the JWS (a bearer credential while it lives): the
  // issuer's signature is withheld, and an auditor who holds the token checks it with `proof verify --token`.
  const tokens = (await o.store.jobs.tokens(o.job)).map((t) => ({
    jti: t.jti,
    header: t.header,
    claims: t.claims,
    jws_sha256: t.jws_sha256,
    signature_withheld: "the server keeps only the token's sha256, never the token",
  }));
  const approvals = (await o.store.approvals.list({ job: o.job }))
    .map(({ consumed_at: _c, consumed_by: _b, ...a }) => a as Approval)
    .sort((a, b) => a.requested_at.localeCompare(b.requested_at));
  const keys = TRUST_ROLES.flatMap((role) =>
    (o.trust.file[role] ?? []).map((k) => ({
      keyid: k.keyid,
      role,
      name: k.name,
      public_key: k.public_key,
      ...(k.valid_from ? { valid_from: k.valid_from } : {}),
      ...(k.valid_until ? { valid_until: k.valid_until } : {}),
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
  // The mode applies only when the file is created: an existing file (a re-export) is made owner-only too.
  if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600);
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
    const headSeq = o.onProgress ? (await log.head()).seq : 0;
    for await (const row of pages((after, n) => log.jobRange(o.job, after, n))) {
      if (o.onProgress && leaves.length % PROGRESS_EVERY === 0)
        o.onProgress({ phase: "log", done: Math.min(row.seq, headSeq), total: headSeq });
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
    o.onProgress?.({ phase: "log", done: headSeq, total: headSeq });
    const checkpoint = await bundleCheckpoint(o.store, o.paths, o.job, o.onProgress);
    writeSync(
      fd,
      `],"tree_head":${JSON.stringify(treeHead)}${checkpoint ? `,"checkpoint":${JSON.stringify(checkpoint)}` : ""}}\n`,
    );
    return { receipts: leaves.length, root, file: o.out };
  } finally {
    closeSync(fd);
  }
}

/**
 * The latest checkpoint in GSMCP_HOME/checkpoints.log with the job's inclusion proofs and consistency proofs from
 * every earlier checkpoint size. Undefined when there is none, or when the stored log does not match it (then
 * `gsmcp receipts verify` says why).
 */
export async function bundleCheckpoint(
  store: StateStore,
  paths: HomePaths,
  job: string,
  onProgress?: ExportProgress,
): Promise<BundleCheckpoint | undefined> {
  const file = join(paths.root, CHECKPOINTS_FILE);
  if (!existsSync(file)) return undefined;
  const { checkpoints } = readCheckpointsFile(file);
  const latest = checkpoints.reduce<(typeof checkpoints)[number] | undefined>(
    (m, c) => (!m || c.size > m.size ? c : m),
    undefined,
  );
  if (!latest) return undefined;
  const leaves: Buffer[] = [];
  const ofJob: number[] = [];
  for await (const row of pages((after, n) => store.receipts.range(after, n))) {
    if (row.seq > latest.size) break;
    if (row.seq !== leaves.length + 1) return undefined;
    if (onProgress && row.seq % PROGRESS_EVERY === 0)
      onProgress({ phase: "checkpoint", done: row.seq, total: latest.size });
    const r = JSON.parse(row.body) as Receipt;
    leaves.push(logLeaf(r));
    if (r.job === job) ofJob.push(row.seq);
  }
  if (leaves.length !== latest.size) return undefined;
  const levels = new MerkleLevels(leaves);
  if (!levels.root().equals(latest.root)) return undefined;
  const b64 = (p: Buffer[]) => p.map((h) => h.toString("base64"));
  const inclusion = ofJob.map((seq) => ({ seq, path: b64(levels.inclusionProof(seq - 1)) }));
  const sizes = [...new Set(checkpoints.map((c) => c.size))]
    .filter((n) => n > 0 && n < latest.size)
    .sort((a, b) => a - b);
  const consistency = sizes.map((size) => ({ size, path: b64(levels.consistencyProof(size)) }));
  return { note: latest.text, inclusion, consistency };
}
