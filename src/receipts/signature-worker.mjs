// Worker for proof verification: checks Ed25519 receipt signatures off the main thread. Plain JS on purpose, so it
// runs the same under tsx, vitest and plain node, and the build (tsconfig.build.json) emits it as is next to
// signature-pool.js. It mirrors receiptSigningBytes (receipt.ts): JCS of every field but the signature;
// test/receipts/signature-pool.test.ts checks both agree.
import { createPublicKey, verify } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import canonicalize from "canonicalize";

const keys = new Map(
  workerData.keys.map((k) => [k.keyid, createPublicKey({ key: k.der, format: "der", type: "spki" })]),
);

parentPort.on("message", (texts) => {
  const bad = [];
  for (let i = 0; i < texts.length; i++) {
    let ok = false;
    try {
      const { signature, ...body } = JSON.parse(texts[i]);
      const key = keys.get(signature?.keyid);
      const sig = Buffer.from(String(signature?.sig), "base64");
      ok = key !== undefined && sig.length === 64 && verify(null, Buffer.from(canonicalize(body)), key, sig);
    } catch {
      ok = false;
    }
    if (!ok) bad.push(i);
  }
  parentPort.postMessage(bad);
});
