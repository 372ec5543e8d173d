import { BlockList, isIP } from "node:net";

/** A CIDR ("10.0.0.0/8", "fd00::/8") or a single address ("10.0.0.5", "::1"); undefined when it is neither. */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const address = normalizeAddress(m[1]!);
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return undefined;
  return { address, prefix, family: v === 4 ? "ipv4" : "ipv6" };
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; "[::1]" → "::1"; lower case. */
export function normalizeAddress(a: string): string {
  let s = a.trim().toLowerCase();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s.startsWith("::ffff:") && isIP(s.slice(7)) === 4) s = s.slice(7);
  return s;
}

/** Addresses the CLI binds to without further checks (serve --transport http, console). */
export const LOOPBACK_BIND_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * A URL host that is this machine: localhost, 127.0.0.0/8, ::1. Where plain http is tolerated (test webhooks, test
 * OIDC providers). Not *.localhost: outside browsers, the system resolver may send those names anywhere.
 */
export function isLoopbackHost(host: string): boolean {
  const h = normalizeAddress(host);
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return IPV6_LOOPBACK.check(h, "ipv6");
  return false;
}

// BlockList compares parsed addresses, so 0:0:0:0:0:0:0:1 is ::1 too.
const IPV6_LOOPBACK = new BlockList();
IPV6_LOOPBACK.addAddress("::1", "ipv6");

/** One X-Forwarded-For hop as an address: "1.2.3.4", "1.2.3.4:5678", "[::1]:80" or "::1"; undefined otherwise. */
function hopAddress(hop: string): string | undefined {
  let s = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  const a = normalizeAddress(s);
  return isIP(a) ? a : undefined;
}

/**
 * Which address a request is charged to. The socket's peer address, unless that peer is a configured trusted proxy:
 * then X-Forwarded-For is read from the right (each proxy appends the address it received the request from), skipping
 * hops that are themselves trusted proxies, and the first untrusted hop is the client. Hops left of it were written by
 * the client and are never believed. A hop that is not an address stops the walk at the last trusted hop; when every
 * hop is a trusted proxy the left-most one is used.
 */
export class ClientAddresses {
  private readonly trusted = new BlockList();
  readonly proxies: readonly string[];

  /** Throws a RangeError naming the first entry that is not a CIDR or an address. */
  constructor(trustedProxies: readonly string[] = []) {
    for (const text of trustedProxies) {
      const c = parseCidr(text);
      if (!c) throw new RangeError(`"${text}" is not a CIDR or an IP address`);
      this.trusted.addSubnet(c.address, c.prefix, c.family);
    }
    this.proxies = [...trustedProxies];
  }

  isTrusted(address: string): boolean {
    if (this.proxies.length === 0) return false;
    const a = normalizeAddress(address);
    const v = isIP(a);
    return v !== 0 && this.trusted.check(a, v === 4 ? "ipv4" : "ipv6");
  }

  /** The client address of a request from `peer` (the socket's remote address) carrying `forwardedFor`. */
  of(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const socket = normalizeAddress(peer ?? "unknown");
    if (forwardedFor === undefined || !this.isTrusted(socket)) return socket;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",");
    let last = socket;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!);
      if (hop === undefined) return last;
      if (!this.isTrusted(hop)) return hop;
      last = hop;
    }
    return last;
  }
}
