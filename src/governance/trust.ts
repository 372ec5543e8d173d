import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  generateSigningKey,
  privateKeyPem,
  publicKeyFromPem,
  publicKeyPem,
  type SigningKey,
  signingKeyFromPem,
} from "../crypto/keys.js";
import { GovernanceError } from "./errors.js";
import { type HomePaths, writeSecret } from "./home.js";

/** The roles a key can play. A key trusted for one role is never accepted for another. */
export type TrustRole =
  | "policy_signers"
  | "token_issuers"
  | "approvers"
  | "receipt_signers"
  /** Signs approvals the user gave in the agent's MCP client (client-asserted, never an approver's). */
  | "client_assertion_signers";
export const TRUST_ROLES: TrustRole[] = [
  "policy_signers",
  "token_issuers",
  "approvers",
  "receipt_signers",
  "client_assertion_signers",
];

export interface TrustedKey {
  keyid: string;
  name: string;
  public_key: string; // PEM (SPKI)
  /** Keys kept for verifying old artifacts after rotation; never used to accept new ones. */
  retired_at?: string;
}

export type TrustStoreFile = Record<TrustRole, TrustedKey[]>;

export class TrustStore {
  private readonly byRole = new Map<TrustRole, Map<string, KeyObject>>();

  constructor(readonly file: TrustStoreFile) {
    for (const role of TRUST_ROLES) {
      const m = new Map<string, KeyObject>();
      for (const k of file[role] ?? []) m.set(k.keyid, publicKeyFromPem(k.public_key));
      this.byRole.set(role, m);
    }
  }

  static load(paths: HomePaths): TrustStore {
    if (!existsSync(paths.trust)) {
      throw new GovernanceError("home_missing", `trust store ${paths.trust} is missing`, `run "gsmcp init"`);
    }
    return new TrustStore(JSON.parse(readFileSync(paths.trust, "utf8")) as TrustStoreFile);
  }

  /** Keys of a role; `includeRetired` only for verifying old artifacts. */
  keys(role: TrustRole, includeRetired = false): Map<string, KeyObject> {
    const all = this.byRole.get(role) ?? new Map();
    if (includeRetired) return all;
    const active = new Map<string, KeyObject>();
    for (const k of this.file[role] ?? []) if (!k.retired_at) active.set(k.keyid, all.get(k.keyid)!);
    return active;
  }

  entry(role: TrustRole, keyid: string): TrustedKey | undefined {
    return (this.file[role] ?? []).find((k) => k.keyid === keyid);
  }

  save(paths: HomePaths): void {
    writeFileSync(paths.trust, `${JSON.stringify(this.file, null, 2)}\n`);
  }
}

/** Private key files under keys/, one per role this server holds. */
export const KEY_FILES = {
  policySigner: "policy-signer.pem",
  tokenIssuer: "token-issuer.pem",
  approver: "approver.pem",
  receiptSigner: "receipt-signer.pem",
  clientAssertionSigner: "client-assertion-signer.pem",
} as const;
export type KeyName = keyof typeof KEY_FILES;

export function loadSigningKey(paths: HomePaths, name: KeyName): SigningKey {
  const file = join(paths.keys, KEY_FILES[name]);
  if (!existsSync(file)) {
    throw new GovernanceError("home_missing", `signing key ${file} is missing`, `run "gsmcp init" to create keys`);
  }
  return signingKeyFromPem(readFileSync(file, "utf8"));
}

/** Creates a fresh key for `name`, stores it 0600, and returns it with its trust entry. */
export function createSigningKey(
  paths: HomePaths,
  name: KeyName,
  label: string,
): { key: SigningKey; entry: TrustedKey } {
  const key = generateSigningKey();
  writeSecret(join(paths.keys, KEY_FILES[name]), privateKeyPem(key));
  return { key, entry: { keyid: key.keyid, name: label, public_key: publicKeyPem(key.publicKey) } };
}
