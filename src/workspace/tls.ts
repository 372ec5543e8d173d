import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const selfsigned = require("selfsigned") as {
  generate(
    attrs: { name: string; value: string }[],
    opts: { days: number; keySize: number; algorithm: string; extensions: unknown[] },
  ): { private: string; cert: string };
};

/** A self-signed certificate for the loopback workspace (127.0.0.1, ::1, localhost), made once at init. */
export function makeLoopbackCertificate(): { key: string; cert: string } {
  const pems = selfsigned.generate([{ name: "commonName", value: "gsmcp-local-workspace" }], {
    days: 3650,
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
