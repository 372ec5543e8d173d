import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { generateSigningKey, privateKeyPem, publicKeyPem, signingKeyFromPem } from "../../crypto/keys.js";
import { requireHome, writeSecret } from "../../governance/home.js";
import {
  describeWindow,
  KEY_FILES,
  KEY_ROLES,
  type KeyName,
  keyValidAt,
  keyWindow,
  TRUST_ROLES,
  type TrustedKey,
  type TrustRole,
  TrustStore,
} from "../../governance/trust.js";
import type { KeysListOutput } from "../../types/cli/keys-list.js";
import type { KeysRotateOutput } from "../../types/cli/keys-rotate.js";
import { CliError, out, printJson } from "../output.js";

// Key validity windows and rotation. A receipt (or checkpoint) dated outside its signing key's window fails
// verification (key_outside_window), so rotation closes the old key's window and opens the new one's at the same
// instant. Only the receipt key rotates here: it is the one the server holds; the others live off the server.

/** `keys rotate <role>` arguments and the key file each rotates. */
const ROTATABLE: Record<string, KeyName> = {
  receipt: "receiptSigner",
  receipt_signers: "receiptSigner",
  "receipt-signer": "receiptSigner",
};

/** "90s", "15m", "2h", "1d" or plain seconds → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(s.trim());
  if (!m)
    throw new CliError(
      `--grace "${s}" is not a duration`,
      2,
      "give a number with s, m, h or d (e.g. 90s, 15m, 2h, 1d)",
    );
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

export interface KeyRow {
  role: TrustRole;
  keyid: string;
  name: string;
  valid_from?: string;
  valid_until?: string;
  retired_at?: string;
  /** Valid now and not retired: accepted for new artifacts. */
  active: boolean;
  /** The private key under keys/ is this one (the server signs with it). */
  local: boolean;
}

export function listKeys(home: string, now = new Date()): KeyRow[] {
  const { paths } = requireHome(home);
  const trust = TrustStore.load(paths);
  const localIds = new Map<TrustRole, string>();
  for (const [name, file] of Object.entries(KEY_FILES) as [KeyName, string][]) {
    const f = join(paths.keys, file);
    if (!existsSync(f)) continue;
    try {
      localIds.set(KEY_ROLES[name], signingKeyFromPem(readFileSync(f, "utf8")).keyid);
    } catch {
      // an unreadable key file is doctor's finding
    }
  }
  return TRUST_ROLES.flatMap((role) =>
    (trust.file[role] ?? []).map((k) => {
      const w = keyWindow(k);
      return {
        role,
        keyid: k.keyid,
        name: k.name,
        ...(w.from ? { valid_from: w.from } : {}),
        ...(w.until ? { valid_until: w.until } : {}),
        ...(k.retired_at ? { retired_at: k.retired_at } : {}),
        active: !k.retired_at && keyValidAt(k, now),
        local: localIds.get(role) === k.keyid,
      };
    }),
  );
}

export interface RotateResult {
  role: TrustRole;
  new_key: TrustedKey;
  retired: TrustedKey[];
  file: string;
}

/**
 * Rotates a role's key: a fresh key valid from `now` replaces the private key under keys/ (the old private key is
 * overwritten: it cannot sign again, and its public key stays in trust.json to verify what it signed), and every
 * open key of the role is retired at `now` with its window closed at `now + grace`.
 */
export function rotateKey(home: string, roleArg: string, o: { grace?: number; name?: string; now?: Date } = {}) {
  const keyName = ROTATABLE[roleArg];
  if (!keyName)
    throw new CliError(
      `cannot rotate "${roleArg}": only the receipt key rotates here (keys rotate receipt)`,
      2,
      "other roles' keys live off the server: add the new public key to trust.json and set retired_at/valid_until on the old one",
    );
  const { paths } = requireHome(home);
  const trust = TrustStore.load(paths);
  const role = KEY_ROLES[keyName];
  const now = o.now ?? new Date();
  const until = new Date(now.getTime() + (o.grace ?? 0)).toISOString();
  const key = generateSigningKey();
  const entry: TrustedKey = {
    keyid: key.keyid,
    name: o.name ?? `receipt signer ${now.toISOString().slice(0, 10)}`,
    public_key: publicKeyPem(key.publicKey),
    valid_from: now.toISOString(),
  };
  const retired: TrustedKey[] = [];
  const list = trust.file[role] ?? [];
  for (const k of list) {
    if (k.retired_at) continue; // already closed (its window ends at valid_until, else retired_at)
    // Close the window at now + grace, never later than it already ends.
    if (!k.valid_until || Date.parse(k.valid_until) > Date.parse(until)) k.valid_until = until;
    k.retired_at = now.toISOString();
    retired.push(k);
  }
  trust.file[role] = [...list, entry];
  // The new private key first (beside the old one), then trust.json, then the swap: a crash leaves either the old
  // state or a trust store that already lists the new key.
  const file = join(paths.keys, KEY_FILES[keyName]);
  writeSecret(`${file}.new`, privateKeyPem(key));
  writeFileSync(`${paths.trust}.new`, `${JSON.stringify(trust.file, null, 2)}\n`);
  renameSync(`${paths.trust}.new`, paths.trust);
  renameSync(`${file}.new`, file);
  return { role, new_key: entry, retired, file } satisfies RotateResult;
}

export function registerKeysCommands(program: Command, home: () => string): void {
  const keys = program.command("keys").description("trusted keys, their validity windows, and key rotation");
  keys
    .command("list")
    .description("every trusted key: role, keyid, name, validity window, active, and whether keys/ holds it")
    .option("--json", "JSON output (schemas/cli/keys-list.schema.json)")
    .action((o: { json?: boolean }) => {
      const rows = listKeys(home());
      if (o.json) return printJson(rows satisfies KeysListOutput);
      for (const r of rows)
        out(
          `${r.role}\t${r.keyid}\t${r.name}\t${describeWindow({ from: r.valid_from, until: r.valid_until })}\t${r.active ? "active" : r.retired_at ? `retired ${r.retired_at}` : "inactive"}${r.local ? "\tlocal" : ""}`,
        );
    });
  keys
    .command("rotate")
    .description(
      "replace a role's key (receipt): the new key is valid from now, the old one's window closes (after --grace); takes effect at the next serve start",
    )
    .argument("<role>", "receipt")
    .option(
      "--grace <duration>",
      "keep the old key's window open this long (90s, 15m, 2h): covers a server still running with it",
      "0",
    )
    .option("--name <label>", "the new key's name in trust.json")
    .option("--json", "JSON output (schemas/cli/keys-rotate.schema.json)")
    .action((roleArg: string, o: { grace: string; name?: string; json?: boolean }) => {
      const r = rotateKey(home(), roleArg, { grace: parseDuration(o.grace), ...(o.name ? { name: o.name } : {}) });
      if (o.json) return printJson(r satisfies KeysRotateOutput);
      out(
        `${r.role}: new key ${r.new_key.keyid} (${r.new_key.name}) valid from ${r.new_key.valid_from}, written to ${r.file}`,
      );
      for (const k of r.retired) out(`${r.role}: ${k.keyid} (${k.name}) retired, valid until ${k.valid_until}`);
      out(
        "restart gsmcp serve now: a running server keeps signing with the old key, and what it signs after the old key's valid_until fails verification (key_outside_window)",
      );
    });
}
