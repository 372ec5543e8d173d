import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { policyHash, signPolicy, storePolicy } from "../../src/governance/policy.js";
import { loadSigningKey } from "../../src/governance/trust.js";
import type { WorkPolicyContract } from "../../src/types/wpc.js";
import type { TestHome } from "./home.js";

/** Signs a policy with the home's policy signer, stores it, and returns the envelope file path. */
export function signTestPolicy(h: TestHome, wpc: WorkPolicyContract): string {
  const env = signPolicy(wpc, [loadSigningKey(h.paths, "policySigner")]);
  storePolicy(h.paths, env, policyHash(wpc));
  const file = join(h.paths.policies, `${wpc.policy_name}.dsse.json`);
  writeFileSync(file, JSON.stringify(env));
  return file;
}

export function examplePolicy(name: string): WorkPolicyContract {
  return JSON.parse(readFileSync(`examples/policies/${name}.wpc.json`, "utf8")) as WorkPolicyContract;
}
