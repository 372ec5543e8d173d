import { createHash, hash } from "node:crypto";

// RFC 9162 §2.1 Merkle Tree Hash: leaves are hashed with a 0x00 prefix, interior nodes with 0x01, and a tree of n
// leaves splits at the largest power of two smaller than n.

// Leaves and nodes are hashed once per receipt by every verifier, so both avoid per-call allocation: the prefix and
// the data are written into a reused buffer and hashed with the one-shot crypto.hash (Node >= 20.12), which costs
// about half of createHash + Buffer.concat for inputs this small.
const EMPTY = createHash("sha256").digest();
const SCRATCH_MAX = 1 << 20;
let scratch = Buffer.allocUnsafe(4096);
const pair = Buffer.allocUnsafe(65);
pair[0] = 1;

/** Leaf hash: SHA-256(0x00 || data); a string is hashed as its UTF-8 bytes. */
export function leafHash(data: Buffer | string): Buffer {
  const len = typeof data === "string" ? Buffer.byteLength(data, "utf8") : data.length;
  if (len + 1 > SCRATCH_MAX) {
    const h = createHash("sha256").update(Buffer.from([0]));
    return (typeof data === "string" ? h.update(data, "utf8") : h.update(data)).digest();
  }
  if (len + 1 > scratch.length) scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, 2 * (len + 1)));
  scratch[0] = 0;
  if (typeof data === "string") scratch.write(data, 1, "utf8");
  else scratch.set(data, 1);
  return hash("sha256", scratch.subarray(0, len + 1), "buffer");
}

/** Interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== 32 || right.length !== 32)
    return createHash("sha256")
      .update(Buffer.from([1]))
      .update(left)
      .update(right)
      .digest();
  pair.set(left, 1);
  pair.set(right, 33);
  return hash("sha256", pair, "buffer");
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already-hashed leaves (hashes from leafHash). */
export function merkleRoot(leaves: Buffer[]): Buffer {
  return leaves.length === 0 ? EMPTY : rangeRoot(leaves, 0, leaves.length);
}

/** MTH(leaves[lo:hi]) for hi > lo, without copying the array at each level. */
function rangeRoot(leaves: Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return leaves[lo]!;
  const k = split(hi - lo);
  return nodeHash(rangeRoot(leaves, lo, lo + k), rangeRoot(leaves, lo + k, hi));
}

/** RFC 9162 §2.1.3.1 inclusion proof (audit path) for leaf `index`. */
export function inclusionProof(index: number, leaves: Buffer[]): Buffer[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} is outside a tree of ${leaves.length}`);
  const path: Buffer[] = [];
  const walk = (lo: number, hi: number): void => {
    if (hi - lo <= 1) return;
    const k = split(hi - lo);
    if (index < lo + k) {
      walk(lo, lo + k);
      path.push(rangeRoot(leaves, lo + k, hi));
    } else {
      walk(lo + k, hi);
      path.push(rangeRoot(leaves, lo, lo + k));
    }
  };
  walk(0, leaves.length);
  return path;
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

/** Levels built per leaves array, with the leaves' bytes they were built from (held only as long as the array is). */
const BUILT = new WeakMap<Buffer[], { snapshot: Buffer; levels: Buffer[][] }>();

/**
 * Every complete subtree of a tree's leaves, level by level: the hash of any range the RFC 9162 recursion asks for is
 * then O(log n), so proofs against a large log cost O(log n) each after one O(n) pass.
 */
export class MerkleLevels {
  private readonly levels: Buffer[][];

  constructor(leaves: Buffer[]) {
    // A second MerkleLevels over the same leaves (e.g. a verifier's own and verifyLogAgainstCheckpoints') shares the
    // levels already built instead of hashing n - 1 nodes again; the leaves are compared byte for byte first (a
    // memcmp of 32 bytes a leaf, against hashing), so an array changed in between is built afresh.
    const snapshot = leaves.length > 1 && leaves.every((l) => l.length === 32) ? Buffer.concat(leaves) : undefined;
    const built = snapshot ? BUILT.get(leaves) : undefined;
    if (snapshot && built?.snapshot.equals(snapshot)) {
      this.levels = built.levels;
      return;
    }
    this.levels = [leaves];
    if (snapshot) BUILT.set(leaves, { snapshot, levels: this.levels });
    for (let cur = leaves; cur.length > 1; ) {
      const next: Buffer[] = [];
      for (let i = 0; i + 1 < cur.length; i += 2) next.push(nodeHash(cur[i]!, cur[i + 1]!));
      this.levels.push(next);
      cur = next;
    }
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  /** MTH(D[lo:hi]) for ranges the RFC recursion produces (lo aligned to the largest power of two below hi - lo). */
  root(lo = 0, hi = this.size): Buffer {
    const n = hi - lo;
    if (n <= 0) return EMPTY;
    if ((n & (n - 1)) === 0 && lo % n === 0) {
      const level = Math.log2(n);
      const h = this.levels[level]?.[lo / n];
      if (h) return h;
    }
    if (n === 1) return this.levels[0]![lo]!;
    const k = split(n);
    return nodeHash(this.root(lo, lo + k), this.root(lo + k, hi));
  }

  /** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size = this.size): Buffer[] {
    if (index < 0 || index >= size || size > this.size)
      throw new RangeError(`leaf ${index} is outside a tree of ${size}`);
    const path: Buffer[] = [];
    const walk = (i: number, lo: number, hi: number): void => {
      if (hi - lo <= 1) return;
      const k = split(hi - lo);
      if (i < lo + k) {
        walk(i, lo, lo + k);
        path.push(this.root(lo + k, hi));
      } else {
        walk(i, lo + k, hi);
        path.push(this.root(lo, lo + k));
      }
    };
    walk(index, 0, size);
    return path;
  }

  /** RFC 9162 §2.1.4.1 consistency proof from the tree of the first `m` leaves to that of the first `n`. */
  consistencyProof(m: number, n = this.size): Buffer[] {
    if (m < 0 || m > n || n > this.size) throw new RangeError(`no consistency proof from ${m} to ${n}`);
    if (m === 0 || m === n) return [];
    const path: Buffer[] = [];
    const sub = (mm: number, lo: number, hi: number, b: boolean): void => {
      if (mm === hi - lo) {
        if (!b) path.push(this.root(lo, hi));
        return;
      }
      const k = split(hi - lo);
      if (mm <= k) {
        sub(mm, lo, lo + k, b);
        path.push(this.root(lo + k, hi));
      } else {
        sub(mm - k, lo + k, hi, false);
        path.push(this.root(lo, lo + k));
      }
    };
    sub(m, 0, n, true);
    return path;
  }
}

/** RFC 9162 §2.1.4.1 consistency proof over already-hashed leaves. */
export function consistencyProof(m: number, leaves: Buffer[]): Buffer[] {
  return new MerkleLevels(leaves).consistencyProof(m);
}

/** RFC 9162 §2.1.4.2: does the tree of `second` leaves with root `secondRoot` extend the one of `first` leaves? */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else sr = nodeHash(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/**
 * The right edge of a growing tree: the roots of its complete subtrees, largest first. Appending is amortised O(1)
 * and the root O(log n), so a checkpoint never re-reads the log.
 */
export class MerkleFrontier {
  private readonly stack: { size: number; hash: Buffer }[] = [];
  size = 0;

  append(leaf: Buffer): void {
    let node = { size: 1, hash: leaf };
    while (this.stack.length && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size++;
  }

  root(): Buffer {
    if (!this.stack.length) return EMPTY;
    let r = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!.hash, r);
    return r;
  }
}
