import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  MerkleLevels,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from "../../src/receipts/merkle.js";

const N = 40;
const leaves = Array.from({ length: N }, (_, i) => leafHash(`leaf ${i}`));
// Roots recomputed from scratch (the recursive RFC 9162 MTH) for every size.
const roots = Array.from({ length: N + 1 }, (_, n) => merkleRoot(leaves.slice(0, n)));

describe("RFC 9162 consistency proofs", () => {
  it("verify for every 0 ≤ m ≤ n ≤ 40 against roots recomputed from scratch, and fail against a wrong root", () => {
    for (let n = 0; n <= N; n++) {
      const levels = new MerkleLevels(leaves.slice(0, n));
      expect(levels.root().equals(roots[n]!)).toBe(true);
      for (let m = 0; m <= n; m++) {
        const proof = levels.consistencyProof(m);
        expect(proof).toEqual(consistencyProof(m, leaves.slice(0, n)));
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof)).toBe(true);
        if (m > 0 && m < n) {
          expect(verifyConsistency(m, n, roots[m - 1]!, roots[n]!, proof)).toBe(false);
          expect(verifyConsistency(m, n, roots[m]!, roots[n - 1]!, proof)).toBe(false);
        }
      }
    }
  });

  it("MerkleLevels inclusion proofs equal the recursive ones for every leaf and size", () => {
    for (let n = 1; n <= N; n++) {
      const levels = new MerkleLevels(leaves);
      for (let i = 0; i < n; i++) {
        const p = levels.inclusionProof(i, n);
        expect(p).toEqual(inclusionProof(i, leaves.slice(0, n)));
        expect(verifyInclusion(leaves[i]!, i, n, p, roots[n]!)).toBe(true);
      }
    }
  });

  it("the incremental frontier's root equals the root from scratch at every size", () => {
    const f = new MerkleFrontier();
    expect(f.root().equals(roots[0]!)).toBe(true);
    for (let n = 1; n <= N; n++) {
      f.append(leaves[n - 1]!);
      expect(f.root().equals(roots[n]!)).toBe(true);
    }
  });

  it("property: tampering any proof node, either size, or dropping/adding a node fails", () => {
    const pair = fc
      .integer({ min: 2, max: N })
      .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n)));
    fc.assert(
      fc.property(pair, fc.nat(), fc.integer({ min: 0, max: 255 }), ([m, n], pick, byte) => {
        const proof = consistencyProof(m, leaves.slice(0, n));
        if (!proof.length) return;
        const i = pick % proof.length;
        const bad = proof.map((p, j) => (j === i ? Buffer.from(p) : p));
        const node = bad[i]!;
        node.writeUInt8(node.readUInt8(byte % 32) ^ (1 + (byte % 255)), byte % 32);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, bad)).toBe(false);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, [...proof, roots[0]!])).toBe(false);
      }),
      { numRuns: 400 },
    );
    // The sizes are authenticated by the checkpoints' signatures, not by the proof (RFC 9162 roots do not bind the size:
    // the proof for 1 → 5 also folds to the same hashes read as 1 → 6). What a tampered size must never do is make the
    // proof pass against the real log's roots at the claimed sizes.
    fc.assert(
      fc.property(pair, fc.integer({ min: -3, max: 3 }), fc.boolean(), ([m, n], delta, first) => {
        const m2 = first ? m + delta : m;
        const n2 = first ? n : n + delta;
        if (delta === 0 || m2 < 1 || m2 >= n2 || n2 > N) return;
        const proof = consistencyProof(m, leaves.slice(0, n));
        const honest = consistencyProof(m2, leaves.slice(0, n2));
        if (honest.length === proof.length && honest.every((h, i) => h.equals(proof[i]!))) return;
        expect(verifyConsistency(m2, n2, roots[m2]!, roots[n2]!, proof)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it("rejects nonsense sizes", () => {
    const h = createHash("sha256").digest();
    expect(verifyConsistency(5, 3, h, h, [])).toBe(false);
    expect(verifyConsistency(-1, 3, h, h, [])).toBe(false);
    expect(verifyConsistency(3, 3, roots[3]!, roots[3]!, [])).toBe(true);
    expect(verifyConsistency(3, 3, roots[3]!, roots[4]!, [])).toBe(false);
  });
});
