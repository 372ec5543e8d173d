import { createHash } from "node:crypto";
import canonicalizeImpl from "canonicalize";

// canonicalize ships CJS typings that do not model ESM default interop precisely.
const canonicalizeFn = canonicalizeImpl as unknown as (v: unknown) => string | undefined;

/** RFC 8785 JSON Canonicalization Scheme. Throws on values JSON cannot represent. */
export function jcs(value: unknown): string {
  const out = canonicalizeFn(value);
  if (out === undefined) throw new TypeError("value cannot be canonicalized as JSON");
  return out;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** "sha256:<hex>" of the JCS form of a value: the hash address of policies, arguments and results. */
export function jcsHash(value: unknown): string {
  return `sha256:${sha256Hex(jcs(value))}`;
}
