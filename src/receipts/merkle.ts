import { createHash } from "node:crypto";

// RFC 9162 §2.1 Merkle Tree Hash: leaves are hashed with a 0x00 prefix, interior nodes with 0x01, and a tree of n
// leaves splits at the largest power of two smaller than n.

const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const EMPTY = createHash("sha256").digest();

export function leafHash(data: Buffer | string): Buffer {
  return sha(Buffer.from([0]), Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8"));
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha(Buffer.from([1]), left, right);
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already-hashed leaves (hashes from leafHash). */
export function merkleRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY;
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.1 inclusion proof (audit path) for leaf `index`. */
export function inclusionProof(index: number, leaves: Buffer[]): Buffer[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} is outside a tree of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...inclusionProof(index, leaves.slice(0, k)), merkleRoot(leaves.slice(k))]
    : [...inclusionProof(index - k, leaves.slice(k)), merkleRoot(leaves.slice(0, k))];
}

/** RFC 9162 §2.1.3.2: verifies an audit path against a root. */
export function verifyInclusion(leaf: Buffer, index: number, size: number, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else r = nodeHash(r, p);
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}
