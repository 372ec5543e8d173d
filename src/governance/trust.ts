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
  /** Start of the key's validity window (ISO; absent: unbounded). */
  valid_from?: string;
  /** End of the key's validity window (ISO; absent: unbounded, or retired_at when the key is retired). */
  valid_until?: string;
  /** Keys kept for verifying old artifacts after rotation; never used to accept new ones. */
  retired_at?: string;
}

/**
 * When a key may have signed: artifacts (receipts, checkpoints) whose time is outside the window fail verification.
 * Both ends inclusive; an absent end is unbounded. A retired key without valid_until ends at retired_at, so entries
 * written before windows existed keep their meaning; an explicit valid_until wins (`keys rotate --grace`).
 */
export interface KeyWindow {
  from?: string;
  until?: string;
}

export function keyWindow(entry: Pick<TrustedKey, "valid_from" | "valid_until" | "retired_at">): KeyWindow {
  const until = entry.valid_until ?? entry.retired_at;
  return { ...(entry.valid_from ? { from: entry.valid_from } : {}), ...(until ? { until } : {}) };
}

/** Whether `time` falls in the window (an unparseable time never does). */
export function inWindow(w: KeyWindow, time: string | Date): boolean {
  const t = typeof time === "string" ? Date.parse(time) : time.getTime();
  if (Number.isNaN(t)) return false;
  if (w.from !== undefined && !(t >= Date.parse(w.from))) return false;
  if (w.until !== undefined && !(t <= Date.parse(w.until))) return false;
  return true;
}

/** Whether a trust entry's key may have signed at `time`. */
export function keyValidAt(
  entry: Pick<TrustedKey, "valid_from" | "valid_until" | "retired_at">,
  time: string | Date,
): boolean {
  return inWindow(keyWindow(entry), time);
}

/** "FROM .. UNTIL" with "-∞"/"+∞" for open ends. */
export function describeWindow(w: KeyWindow): string {
  return `${w.from ?? "-∞"} .. ${w.until ?? "+∞"}`;
}

// The window travels with the key object the trust store (or a bundle's key list) made, so verifiers that take a
// Map<keyid, KeyObject> check it without a second argument; a key with no registered window is unbounded.
const WINDOWS = new WeakMap<object, KeyWindow>();

/** Attaches a validity window to a public key (or a signing key) object. */
export function setKeyWindow<T extends object>(key: T, w: KeyWindow): T {
  if (w.from !== undefined || w.until !== undefined) WINDOWS.set(key, w);
  return key;
}

/** The validity window attached to a key object (undefined: unbounded). */
export function windowOf(key: object): KeyWindow | undefined {
  return WINDOWS.get(key);
}

/** A signing key used outside its window: the server refuses to sign (and to start) with it. */
export class KeyWindowError extends Error {
  override readonly name = "KeyWindowError";
}

const ROTATE_ARG: Partial<Record<TrustRole, string>> = { receipt_signers: "receipt" };

/** The refusal for signing with `keyid` at `time` outside window `w`, naming the fix. */
export function keyWindowError(role: TrustRole, keyid: string, w: KeyWindow, time: string | Date): KeyWindowError {
  const at = typeof time === "string" ? time : time.toISOString();
  const fix = ROTATE_ARG[role]
    ? `run "gsmcp keys rotate ${ROTATE_ARG[role]}"`
    : `put a key valid now for ${role} in keys/ and trust.json`;
  return new KeyWindowError(
    `${role} key ${keyid} is valid ${describeWindow(w)}, not at ${at}: it must not sign — ${fix} (see gsmcp keys list)`,
  );
}

export type TrustStoreFile = Record<TrustRole, TrustedKey[]>;

export class TrustStore {
  private readonly byRole = new Map<TrustRole, Map<string, KeyObject>>();

  constructor(readonly file: TrustStoreFile) {
    for (const role of TRUST_ROLES) {
      const m = new Map<string, KeyObject>();
      for (const k of file[role] ?? []) m.set(k.keyid, setKeyWindow(publicKeyFromPem(k.public_key), keyWindow(k)));
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

  /** Keys of a role whose validity window contains `time` (retired or not: windows decide). */
  keysValidAt(role: TrustRole, time: string | Date): Map<string, KeyObject> {
    const all = this.byRole.get(role) ?? new Map();
    const valid = new Map<string, KeyObject>();
    for (const k of this.file[role] ?? []) if (keyValidAt(k, time)) valid.set(k.keyid, all.get(k.keyid)!);
    return valid;
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

/** Which trust role each key file under keys/ plays. */
export const KEY_ROLES: Record<KeyName, TrustRole> = {
  policySigner: "policy_signers",
  tokenIssuer: "token_issuers",
  approver: "approvers",
  receiptSigner: "receipt_signers",
  clientAssertionSigner: "client_assertion_signers",
};

/**
 * Loads the private key of a role. When trust.json lists it with a validity window, the window is attached to the
 * key (signReceipt and signCheckpoint refuse to sign outside it) and a key whose window does not contain `at` is
 * refused here: a server does not start signing with it (KeyWindowError naming `gsmcp keys rotate`).
 */
export function loadSigningKey(paths: HomePaths, name: KeyName, at: Date = new Date()): SigningKey {
  const file = join(paths.keys, KEY_FILES[name]);
  if (!existsSync(file)) {
    throw new GovernanceError("home_missing", `signing key ${file} is missing`, `run "gsmcp init" to create keys`);
  }
  const key = signingKeyFromPem(readFileSync(file, "utf8"));
  if (existsSync(paths.trust)) {
    let entry: TrustedKey | undefined;
    try {
      const trust = JSON.parse(readFileSync(paths.trust, "utf8")) as Partial<TrustStoreFile>;
      entry = (trust[KEY_ROLES[name]] ?? []).find((k) => k.keyid === key.keyid);
    } catch {
      entry = undefined; // an unreadable trust store is reported where it is loaded (TrustStore.load, doctor)
    }
    if (entry) {
      const w = keyWindow(entry);
      setKeyWindow(key, w);
      if (!inWindow(w, at)) throw keyWindowError(KEY_ROLES[name], key.keyid, w, at);
    }
  }
  return key;
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
