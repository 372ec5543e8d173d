import type { KeyObject } from "node:crypto";
import {
  type Checkpoint,
  checkpointWindowProblem,
  parseCheckpointsFile,
  verifiedSignerKeys,
  verifiedSigners,
} from "./checkpoint.js";
import { MerkleLevels, verifyConsistency } from "./merkle.js";

// Checks a receipt log against checkpoints held by witnesses: at each checkpoint's size the root recomputed from the
// stored receipts must equal the checkpoint's root, each checkpoint must be signed by a trusted receipt signer (and by
// every required co-signer), and no two checkpoints may contradict each other (equivocation). Within one witness,
// receive order (file order; ingestion order for the workspace) must not see a validly signed size decrease.

export type CheckpointProblemCode =
  | "checkpoint_unreadable"
  | "checkpoint_origin"
  | "checkpoint_signature"
  /** The checkpoint's time line is outside the validity window of the receipt key that signed it. */
  | "key_outside_window"
  | "cosignature_missing"
  | "log_truncated"
  | "root_mismatch"
  | "equivocation"
  | "checkpoint_regressed";

export interface CheckpointProblem {
  code: CheckpointProblemCode;
  /** Where the checkpoint came from (the checkpoints file, a --witness file). */
  source: string;
  size?: number;
  message: string;
}

export interface CheckpointSource {
  name: string;
  text: string;
  /** Co-signers whose signature every checkpoint of this source must carry (name → public key). */
  cosigners?: Map<string, KeyObject>;
}

export interface WitnessedCheckpoint {
  source: string;
  cp: Checkpoint;
  /** 1-based number of the note in its source, in receive order (file order; ingestion order for the workspace). */
  position?: number;
}

export interface CheckpointReport {
  checkpoints: number;
  /** The largest checkpoint size the stored log was checked against (0: none). */
  largest: number;
  problems: CheckpointProblem[];
  /** Checkpoints with a valid log signature, for further checks (e.g. a bundle's). */
  valid: WitnessedCheckpoint[];
}

const b64 = (b: Buffer) => b.toString("base64");

/** Reads the sources' notes and checks their signatures (log key, and each source's required co-signers). */
export function witnessedCheckpoints(
  sources: CheckpointSource[],
  logKeys: KeyObject[],
  origin?: string,
): { valid: WitnessedCheckpoint[]; problems: CheckpointProblem[]; count: number } {
  const problems: CheckpointProblem[] = [];
  const valid: WitnessedCheckpoint[] = [];
  let count = 0;
  for (const src of sources) {
    const { checkpoints, errors } = parseCheckpointsFile(src.text);
    for (const e of errors)
      problems.push({ code: "checkpoint_unreadable", source: src.name, message: `note #${e.index + 1}: ${e.message}` });
    // Note numbers: the parsed checkpoints are the notes in order, less the unreadable ones.
    const bad = new Set(errors.map((e) => e.index));
    let note = 0;
    for (const cp of checkpoints) {
      while (bad.has(note)) note++;
      const position = ++note;
      count++;
      if (origin && cp.origin !== origin) {
        problems.push({
          code: "checkpoint_origin",
          source: src.name,
          size: cp.size,
          message: `checkpoint of size ${cp.size} names origin "${cp.origin}", this log is "${origin}"`,
        });
        continue;
      }
      const signers = verifiedSignerKeys(cp, logKeys);
      if (!signers.length) {
        problems.push({
          code: "checkpoint_signature",
          source: src.name,
          size: cp.size,
          message: `checkpoint of size ${cp.size} has no valid signature by a trusted receipt signer (signed by: ${cp.signatures.map((s) => s.name).join(", ")})`,
        });
        continue;
      }
      const outside = checkpointWindowProblem(cp, signers);
      if (outside) {
        problems.push({ code: "key_outside_window", source: src.name, size: cp.size, message: outside });
        continue;
      }
      for (const [name, key] of src.cosigners ?? []) {
        if (!verifiedSigners(cp, [key]).includes(name))
          problems.push({
            code: "cosignature_missing",
            source: src.name,
            size: cp.size,
            message: `checkpoint of size ${cp.size} has no valid co-signature by "${name}"`,
          });
      }
      valid.push({ source: src.name, cp, position });
    }
  }
  return { valid, problems, count };
}

/**
 * Receive order: an append-only witness sees a log's sizes only grow. A validly signed checkpoint received after a
 * larger one (a later note in a file, a later ingestion in the workspace) means the log was reset or forked, unless
 * `prefix(smaller, larger)` proves the smaller one a prefix of the larger (both heads of one log: a delayed delivery,
 * e.g. a telemetry batch replayed after an outage, or two processes of one home racing). Checked per source.
 */
export function receiveOrderProblems(
  valid: WitnessedCheckpoint[],
  prefix?: (smaller: WitnessedCheckpoint, larger: WitnessedCheckpoint) => boolean,
): CheckpointProblem[] {
  const problems: CheckpointProblem[] = [];
  const largest = new Map<string, WitnessedCheckpoint>();
  for (const w of valid) {
    const top = largest.get(w.source);
    if (!top || w.cp.size > top.cp.size) {
      largest.set(w.source, w);
      continue;
    }
    if (w.cp.size === top.cp.size || prefix?.(w, top)) continue;
    const at = (x: WitnessedCheckpoint) => (x.position ? `note #${x.position}` : "an earlier note");
    problems.push({
      code: "checkpoint_regressed",
      source: w.source,
      size: w.cp.size,
      message: `checkpoint of size ${w.cp.size} (${at(w)}) was received after one of size ${top.cp.size} (${at(top)}): the log's size went down, so it was reset or forked between them`,
    });
  }
  return problems;
}

/**
 * Receive order of witness checkpoints next to a proof bundle (no stored log at hand): the bundle's checkpoint and its
 * consistency proofs decide whether a later, smaller checkpoint is a prefix of the earlier, larger one.
 */
export function bundleWitnessReceiveOrder(
  witnesses: CheckpointSource[],
  logKeys: KeyObject[],
  head: { note: string; consistency: { size: number; path: string[] }[] } | undefined,
): CheckpointProblem[] {
  const cp: Checkpoint | undefined = head ? parseCheckpointsFile(head.note).checkpoints[0] : undefined;
  const { valid } = witnessedCheckpoints(witnesses, logKeys, cp?.origin);
  const proven = (w: WitnessedCheckpoint): boolean => {
    if (!cp || !head || w.cp.size > cp.size) return false;
    if (w.cp.size === cp.size) return w.cp.root.equals(cp.root);
    const p = head.consistency.find((c) => c.size === w.cp.size);
    if (!p) return false;
    const path = p.path.map((h) => Buffer.from(h, "base64"));
    return verifyConsistency(w.cp.size, cp.size, w.cp.root, cp.root, path);
  };
  return receiveOrderProblems(valid, (a, b) => proven(a) && proven(b));
}

/** Checks the stored log (its Merkle leaves in seq order) against every witnessed checkpoint. */
export function verifyLogAgainstCheckpoints(
  leaves: Buffer[],
  sources: CheckpointSource[],
  logKeys: KeyObject[],
  origin?: string,
): CheckpointReport {
  const { valid, problems, count } = witnessedCheckpoints(sources, logKeys, origin);
  const levels = new MerkleLevels(leaves);
  const stored = leaves.length;

  // Equivocation: two validly signed checkpoints of one size with different roots.
  const bySize = new Map<number, WitnessedCheckpoint[]>();
  for (const w of valid) bySize.set(w.cp.size, [...(bySize.get(w.cp.size) ?? []), w]);
  for (const [size, list] of bySize) {
    const roots = new Map<string, string[]>();
    for (const w of list) roots.set(b64(w.cp.root), [...(roots.get(b64(w.cp.root)) ?? []), w.source]);
    if (roots.size > 1)
      problems.push({
        code: "equivocation",
        source: [...new Set(list.map((w) => w.source))].join(", "),
        size,
        message: `validly signed checkpoints of size ${size} with different roots: ${[...roots].map(([r, s]) => `${r} (${[...new Set(s)].join(", ")})`).join(" vs ")}`,
      });
  }

  // Each checkpoint against the stored log.
  const matches = new Map<WitnessedCheckpoint, boolean>();
  for (const w of valid) {
    const { size } = w.cp;
    if (size > stored) {
      problems.push({
        code: "log_truncated",
        source: w.source,
        size,
        message: `checkpoint of size ${size} but the store holds ${stored} receipts: seq ${stored + 1}..${size} are missing (the log's tail was cut)`,
      });
      matches.set(w, false);
      continue;
    }
    const ok = levels.root(0, size).equals(w.cp.root);
    matches.set(w, ok);
    if (!ok) {
      // The largest witnessed size (below this one) the store still agrees with narrows down where it changed.
      const agreeing = valid
        .filter((v) => v.cp.size < size && v.cp.size <= stored && levels.root(0, v.cp.size).equals(v.cp.root))
        .reduce((m, v) => Math.max(m, v.cp.size), 0);
      problems.push({
        code: "root_mismatch",
        source: w.source,
        size,
        message: `at checkpoint size ${size} the root recomputed from stored receipts seq 1..${size} is ${b64(levels.root(0, size))}, the checkpoint's is ${b64(w.cp.root)}: a receipt in seq ${agreeing + 1}..${size} was changed, removed or inserted`,
      });
    }
  }

  // Two validly signed checkpoints of different sizes, one matching the store and one not: the RFC 9162 consistency
  // proof the store yields between them fails, so no single log has both heads (equivocation, or a rewritten log).
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  for (let i = 0; i + 1 < sizes.length; i++) {
    const [m, n] = [sizes[i]!, sizes[i + 1]!];
    if (n > stored) continue;
    for (const a of bySize.get(m)!)
      for (const b of bySize.get(n)!) {
        if (matches.get(a) === matches.get(b)) continue;
        const proof = levels.consistencyProof(m, n);
        if (!verifyConsistency(m, n, a.cp.root, b.cp.root, proof))
          problems.push({
            code: "equivocation",
            source: `${a.source}, ${b.source}`,
            size: n,
            message: `checkpoint of size ${m} (${a.source}) and checkpoint of size ${n} (${b.source}) are not consistent: the stored log proves ${matches.get(b) ? `size ${n}` : `size ${m}`} and the RFC 9162 consistency proof between them fails`,
          });
      }
  }

  // Receive order: a later, smaller checkpoint is a reset or fork unless the stored log proves both (one log's heads).
  problems.push(...receiveOrderProblems(valid, (a, b) => matches.get(a) === true && matches.get(b) === true));

  return {
    checkpoints: count,
    largest: valid.reduce((m, w) => Math.max(m, w.cp.size), 0),
    problems,
    valid,
  };
}
