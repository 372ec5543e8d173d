import type { KeyObject } from "node:crypto";
import { jcs } from "../crypto/jcs.js";
import { type SigningKey, signBytes, verifyBytes } from "../crypto/keys.js";

/** A signed statement of a job's receipt log: how many receipts, and their Merkle root. */
export interface TreeHead {
  job: string;
  tree_size: number;
  root_hash: string; // "sha256:<hex>"
  timestamp: string;
  signature: { keyid: string; sig: string };
}

export function signTreeHead(body: Omit<TreeHead, "signature">, key: SigningKey): TreeHead {
  return { ...body, signature: { keyid: key.keyid, sig: signBytes(key, jcs(body)) } };
}

export function verifyTreeHead(th: TreeHead, keys: Map<string, KeyObject>): boolean {
  const { signature, ...body } = th;
  const key = keys.get(signature?.keyid);
  return key !== undefined && verifyBytes(key, jcs(body), signature.sig);
}
