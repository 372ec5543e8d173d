import type { SigningKey } from "../../src/crypto/keys.js";
import { generateSigningKey, publicKeyPem } from "../../src/crypto/keys.js";
import { TrustStore } from "../../src/governance/trust.js";

export interface TestKeys {
  policySigner: SigningKey;
  tokenIssuer: SigningKey;
  approver: SigningKey;
  receiptSigner: SigningKey;
  clientAssertionSigner: SigningKey;
  trust: TrustStore;
}

/** Fresh keys for every role and a trust store that trusts them. */
export function makeKeys(): TestKeys {
  const k = {
    policySigner: generateSigningKey(),
    tokenIssuer: generateSigningKey(),
    approver: generateSigningKey(),
    receiptSigner: generateSigningKey(),
    clientAssertionSigner: generateSigningKey(),
  };
  const entry = (key: SigningKey, name: string) => ({
    keyid: key.keyid,
    name,
    public_key: publicKeyPem(key.publicKey),
  });
  const trust = new TrustStore({
    policy_signers: [entry(k.policySigner, "test policy signer")],
    token_issuers: [entry(k.tokenIssuer, "test-issuer")],
    approvers: [entry(k.approver, "test approver")],
    receipt_signers: [entry(k.receiptSigner, "test receipt signer")],
    client_assertion_signers: [entry(k.clientAssertionSigner, "test client assertions")],
  });
  return { ...k, trust };
}
