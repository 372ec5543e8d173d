import type { KeyObject } from "node:crypto";
import { jcs, jcsHash } from "../crypto/jcs.js";
import { type SigningKey, signBytes, verifyBytes } from "../crypto/keys.js";
import type { Receipt } from "../types/receipt.js";

export type { Receipt };
/** A receipt before the chain fields and signature are filled in by the store. */
export type ReceiptDraft = Omit<Receipt, "seq" | "prev_hash" | "signature">;

export const GENESIS_HASH = `sha256:${"0".repeat(64)}`;

/** The bytes a receipt signature covers: JCS of every field but the signature. */
export function receiptSigningBytes(r: Omit<Receipt, "signature"> | Receipt): string {
  const { signature: _sig, ...body } = r as Receipt;
  return jcs(body);
}

export function signReceipt(body: Omit<Receipt, "signature">, key: SigningKey): Receipt {
  return { ...body, signature: { keyid: key.keyid, sig: signBytes(key, receiptSigningBytes(body)) } };
}

export function verifyReceiptSignature(r: Receipt, keys: Map<string, KeyObject>): boolean {
  const key = keys.get(r.signature.keyid);
  return key !== undefined && verifyBytes(key, receiptSigningBytes(r), r.signature.sig);
}

/** The chain link: hash of the full signed receipt. */
export function receiptHash(r: Receipt): string {
  return jcsHash(r);
}
