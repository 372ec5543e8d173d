import { describe, expect, it } from "vitest";
import { dsseSign, dsseVerifiedKeyIds, pae } from "../../src/crypto/dsse.js";
import { jcs, jcsHash } from "../../src/crypto/jcs.js";
import { generateSigningKey } from "../../src/crypto/keys.js";

describe("RFC 8785 canonical JSON", () => {
  it("sorts keys by UTF-16 code units and serializes numbers the ECMAScript way", () => {
    // Vectors from RFC 8785 §3.2.2/§3.2.3.
    expect(jcs({ b: 2, a: 1, "€": 3, "\r": 4 })).toBe('{"\\r":4,"a":1,"b":2,"€":3}');
    expect(jcs([1e21, 1e-7, -0, 4.5, Number("333333333.33333329")])).toBe("[1e+21,1e-7,0,4.5,333333333.3333333]");
  });

  it("hashes key order independently", () => {
    expect(jcsHash({ a: 1, b: [1, 2] })).toBe(jcsHash({ b: [1, 2], a: 1 }));
    expect(jcsHash({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(jcsHash({ a: 1 })).not.toBe(jcsHash({ a: 2 }));
  });
});

describe("DSSE", () => {
  it("uses the DSSEv1 pre-authentication encoding", () => {
    expect(pae("t", Buffer.from("hi")).toString()).toBe("DSSEv1 1 t 2 hi");
  });

  it("verifies only with a trusted key and only the signed bytes", () => {
    const k = generateSigningKey();
    const other = generateSigningKey();
    const env = dsseSign("application/x", Buffer.from("payload"), [k]);
    expect(dsseVerifiedKeyIds(env, new Map([[k.keyid, k.publicKey]]))).toEqual([k.keyid]);
    expect(dsseVerifiedKeyIds(env, new Map([[other.keyid, other.publicKey]]))).toEqual([]);
    const tampered = { ...env, payload: Buffer.from("payloaD").toString("base64") };
    expect(dsseVerifiedKeyIds(tampered, new Map([[k.keyid, k.publicKey]]))).toEqual([]);
    const retyped = { ...env, payloadType: "application/y" };
    expect(dsseVerifiedKeyIds(retyped, new Map([[k.keyid, k.publicKey]]))).toEqual([]);
  });
});
