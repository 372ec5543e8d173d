import {
  createPrivateKey,
  createPublicKey,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { sha256Hex } from "./jcs.js";

/** An Ed25519 signing key with its public half and a stable key id. */
export interface SigningKey {
  keyid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Key id: "ed25519:" + first 32 hex of sha256 over the raw SPKI DER. Stable across PEM re-encodings. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: "der", type: "spki" });
  return `ed25519:${sha256Hex(der).slice(0, 32)}`;
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { keyid: keyIdOf(publicKey), privateKey, publicKey };
}

export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("key is not an Ed25519 private key");
  const publicKey = createPublicKey(privateKey);
  return { keyid: keyIdOf(publicKey), privateKey, publicKey };
}

export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error("key is not an Ed25519 public key");
  return key;
}

export function privateKeyPem(key: SigningKey): string {
  return key.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: "pem", type: "spki" }).toString();
}

export function signBytes(key: SigningKey, data: Uint8Array | string): string {
  return edSign(null, typeof data === "string" ? Buffer.from(data) : data, key.privateKey).toString("base64");
}

export function verifyBytes(publicKey: KeyObject, data: Uint8Array | string, signatureB64: string): boolean {
  try {
    const sig = Buffer.from(signatureB64, "base64");
    if (sig.length !== 64) return false;
    return edVerify(null, typeof data === "string" ? Buffer.from(data) : data, publicKey, sig);
  } catch {
    return false;
  }
}
