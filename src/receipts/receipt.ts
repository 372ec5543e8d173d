import type { KeyObject } from "node:crypto";
import { jcs, jcsHash } from "../crypto/jcs.js";
import { type SigningKey, signBytes, verifyBytes } from "../crypto/keys.js";
import { describeWindow, inWindow, type KeyWindow, keyWindowError, windowOf } from "../governance/trust.js";
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

/** Signs a receipt; refuses (KeyWindowError) when the key's validity window (see loadSigningKey) excludes its time. */
export function signReceipt(body: Omit<Receipt, "signature">, key: SigningKey): Receipt {
  const w = windowOf(key);
  if (w && !inWindow(w, body.time)) throw keyWindowError("receipt_signers", key.keyid, w, body.time);
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

/**
 * A receipt whose time lies outside its signing key's validity window (the window the trust store or the bundle
 * attached to the key): the key was not allowed to sign then. Undefined when the key is unknown (that is a
 * signature problem) or the time is inside the window.
 */
export function receiptKeyWindowProblem(
  r: Receipt,
  keys: Map<string, KeyObject>,
): { keyid: string; window: KeyWindow; message: string } | undefined {
  const key = keys.get(r.signature?.keyid);
  const w = key ? windowOf(key) : undefined;
  if (!w || inWindow(w, r.time)) return undefined;
  return {
    keyid: r.signature.keyid,
    window: w,
    message: `receipt seq ${r.seq} is signed by ${r.signature.keyid} at ${r.time}, outside that key's validity window ${describeWindow(w)}`,
  };
}
