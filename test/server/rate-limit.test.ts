import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GovernanceError } from "../../src/governance/errors.js";
import { ClientAddresses, parseCidr } from "../../src/server/client-address.js";
import { RateLimiter, retryAfterSeconds, takeAll } from "../../src/server/rate-limit.js";
import { RefusalAggregator } from "../../src/server/refusals.js";

/** A limiter on a clock the test moves. */
function clocked(opts: { rate: number; burst: number; maxKeys?: number }) {
  const clock = { t: 1_000_000 };
  return { clock, limiter: new RateLimiter({ ...opts, now: () => clock.t }) };
}

/** Admitted times never exceed burst + rate·t in any window [a, b] (the tight windows start and end at admissions). */
function checkWindows(admitted: number[], rate: number, burst: number): void {
  for (let i = 0; i < admitted.length; i++)
    for (let j = i; j < admitted.length; j++) {
      const seconds = (admitted[j]! - admitted[i]!) / 1000;
      expect(j - i + 1).toBeLessThanOrEqual(burst + rate * seconds + 1e-9);
    }
}

describe("RateLimiter (GCRA)", () => {
  it("admits a burst, then one request per 1/rate s, and says how long to wait", () => {
    const { clock, limiter } = clocked({ rate: 2, burst: 3 });
    expect([1, 2, 3].map(() => limiter.take("k"))).toEqual([0, 0, 0]);
    const wait = limiter.take("k");
    expect(wait).toBe(500);
    expect(retryAfterSeconds(wait)).toBe(1);
    clock.t += 499;
    expect(limiter.take("k")).toBe(1);
    clock.t += 1;
    expect(limiter.take("k")).toBe(0);
    expect(limiter.take("k")).toBe(500);
  });

  it("never admits more than burst + rate·t in any window (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 200, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 20, maxLength: 150 }),
        (rate, burst, gaps) => {
          const { clock, limiter } = clocked({ rate, burst });
          const admitted: number[] = [];
          for (const g of gaps) {
            clock.t += g;
            if (limiter.take("k") === 0) admitted.push(clock.t);
          }
          checkWindows(admitted, rate, burst);
        },
      ),
    );
  });

  it("admits everything spaced at least 1/rate apart, and a request after the advertised wait (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }),
        (rate, burst, extra) => {
          const { clock, limiter } = clocked({ rate, burst });
          for (const x of extra) {
            clock.t += 1000 / rate + x;
            expect(limiter.take("k")).toBe(0);
          }
          // Flood, then wait what it says: admitted.
          let wait = 0;
          for (let i = 0; i < burst + 5 && wait === 0; i++) wait = limiter.take("k");
          expect(wait).toBeGreaterThan(0);
          clock.t += wait;
          expect(limiter.take("k")).toBe(0);
        },
      ),
    );
  });

  it("keeps one number per key, however many requests (a flooded key does not grow)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), (n) => {
        const { limiter } = clocked({ rate: 1, burst: 5 });
        for (let i = 0; i < n; i++) limiter.take("flood");
        expect(limiter.size).toBe(1);
        expect(typeof limiter.stateOf("flood")).toBe("number");
        // Refusals change nothing: the TAT is at most burst intervals ahead.
        expect(limiter.stateOf("flood")!).toBeLessThanOrEqual(1_000_000 + 5 * 1000);
      }),
    );
  });

  it("holds at most maxKeys under a flood of distinct keys, and never resets a busy key by evicting it (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        // A few keys coming back often (so a busy key would be pushed out and return), and a flood of new ones.
        fc.array(
          fc.tuple(
            fc.oneof(fc.integer({ min: 0, max: 3 }).map(String), fc.string({ minLength: 7, maxLength: 9 })),
            fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
          ),
          { minLength: 50, maxLength: 400 },
        ),
        (maxKeys, requests) => {
          const rate = 5;
          const burst = 3;
          const { clock, limiter } = clocked({ rate, burst, maxKeys });
          const admitted = new Map<string, number[]>();
          for (const [key, gap] of requests) {
            clock.t += gap;
            if (limiter.take(key) === 0) admitted.set(key, [...(admitted.get(key) ?? []), clock.t]);
            expect(limiter.size).toBeLessThanOrEqual(maxKeys);
          }
          for (const times of admitted.values()) checkWindows(times, rate, burst);
        },
      ),
    );
  });

  it("a full table of busy keys refuses a new key until the oldest is idle, then makes room", () => {
    const { clock, limiter } = clocked({ rate: 1, burst: 1, maxKeys: 2 });
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("b")).toBe(0);
    const wait = limiter.take("c");
    expect(wait).toBeGreaterThan(0);
    clock.t += wait;
    expect(limiter.take("c")).toBe(0);
    expect(limiter.size).toBeLessThanOrEqual(2);
  });

  it("takeAll charges every limiter or none", () => {
    const { limiter: a } = clocked({ rate: 1, burst: 2 });
    const { limiter: b } = clocked({ rate: 1, burst: 1 });
    expect(
      takeAll([
        [a, "x"],
        [b, "y"],
      ]),
    ).toBe(0);
    const before = a.stateOf("x");
    expect(
      takeAll([
        [a, "x"],
        [b, "y"],
      ]),
    ).toBeGreaterThan(0);
    expect(a.stateOf("x")).toBe(before);
  });

  it("rejects a rate or burst that is not positive", () => {
    expect(() => new RateLimiter({ rate: 0, burst: 1 })).toThrow(/rate/);
    expect(() => new RateLimiter({ rate: 1, burst: 0 })).toThrow(/burst/);
  });
});

describe("client address behind proxies", () => {
  it("parses CIDRs and addresses", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseCidr("::1")).toEqual({ address: "::1", prefix: 128, family: "ipv6" });
    expect(parseCidr("::ffff:10.1.2.3")).toMatchObject({ address: "10.1.2.3", family: "ipv4" });
    for (const bad of ["10.0.0.0/33", "nope", "10.0.0/8", "", "1.2.3.4/"]) expect(parseCidr(bad)).toBeUndefined();
  });

  it("believes X-Forwarded-For only from a trusted proxy, right-most untrusted hop", () => {
    const a = new ClientAddresses(["10.0.0.0/8", "::1"]);
    // Untrusted peer: the header is ignored.
    expect(a.of("203.0.113.9", "198.51.100.1")).toBe("203.0.113.9");
    // Trusted peer: the right-most hop not a trusted proxy; what the client wrote on the left is ignored.
    expect(a.of("10.0.0.2", "1.1.1.1, 198.51.100.7")).toBe("198.51.100.7");
    expect(a.of("::ffff:10.0.0.2", "1.1.1.1, 198.51.100.7, 10.0.0.3")).toBe("198.51.100.7");
    expect(a.of("::1", ["1.1.1.1", "198.51.100.7:4321"])).toBe("198.51.100.7");
    // A hop that is not an address stops at the last trusted one; every hop trusted: the left-most.
    expect(a.of("10.0.0.2", "garbage, 10.0.0.9")).toBe("10.0.0.9");
    expect(a.of("10.0.0.2", "10.0.0.7, 10.0.0.9")).toBe("10.0.0.7");
    expect(a.of("10.0.0.2", undefined)).toBe("10.0.0.2");
    expect(() => new ClientAddresses(["10.0.0.0/99"])).toThrow(/10\.0\.0\.0\/99/);
  });

  it("a client behind a trusted proxy cannot pick its key by forging hops (property)", () => {
    const a = new ClientAddresses(["10.0.0.0/8"]);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.string({ maxLength: 12 })), { maxLength: 6 }), (forged) => {
        const real = "198.51.100.23";
        expect(a.of("10.1.1.1", [...forged, real].join(", "))).toBe(real);
      }),
    );
  });
});

describe("refusal aggregation", () => {
  it("records the first refusal of a kind at once and the rest as one count per interval", () => {
    const written: { code: string; args: Record<string, unknown> }[] = [];
    const agg = new RefusalAggregator((err, _what, args) => written.push({ code: err.code, args }), 60_000, 4);
    const err = new GovernanceError("auth_invalid", "bad token");
    for (let i = 0; i < 1000; i++) agg.refuse("bad", err, { what: "http", client: `192.0.2.${i % 20}` });
    expect(written).toHaveLength(1);
    expect(agg.flush()).toBe(1);
    expect(written[1]).toMatchObject({ code: "auth_invalid", args: { aggregated: true, count: 999 } });
    expect(Object.keys(written[1]!.args.clients as object)).toHaveLength(8);
    expect(written[1]!.args.other_clients).toBe(
      999 - Object.values(written[1]!.args.clients as object).reduce((a, b) => a + b, 0),
    );
    // A bounded table of kinds: a flood of distinct kinds folds into one per reason.
    for (let i = 0; i < 500; i++) agg.refuse(`kind-${i}`, err, { what: "http" });
    expect(agg.size).toBeLessThanOrEqual(5);
    agg.close();
    expect(written.length).toBeLessThanOrEqual(2 + 5 * 2);
  });
});
