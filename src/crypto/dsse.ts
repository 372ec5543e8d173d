import type { KeyObject } from "node:crypto";
import { type SigningKey, signBytes, verifyBytes } from "./keys.js";

/** A DSSE envelope (in-toto / secure-systems-lab DSSE v1). */
export interface DsseEnvelope {
  payloadType: string;
  payload: string; // base64
  signatures: { keyid: string; sig: string }[];
}

/** Pre-authentication encoding: what is actually signed, binding the payload type to the bytes. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "utf8"),
    type,
    Buffer.from(` ${payload.length} `, "utf8"),
    payload,
  ]);
}

export function dsseSign(payloadType: string, payload: Buffer, keys: SigningKey[]): DsseEnvelope {
  const message = pae(payloadType, payload);
  return {
    payloadType,
    payload: payload.toString("base64"),
    signatures: keys.map((k) => ({ keyid: k.keyid, sig: signBytes(k, message) })),
  };
}

/** Key ids among `trusted` whose signature over the envelope verifies. */
export function dsseVerifiedKeyIds(env: DsseEnvelope, trusted: Map<string, KeyObject>): string[] {
  const message = pae(env.payloadType, Buffer.from(env.payload, "base64"));
  const ok: string[] = [];
  for (const s of env.signatures) {
    const key = trusted.get(s.keyid);
    if (key && verifyBytes(key, message, s.sig)) ok.push(s.keyid);
  }
  return ok;
}
