// One GSMCP_HOME for the benches that need a governed server (governance, coldstart), made once per process.
//
// The policy is the example triage-readonly policy with its budgets raised out of reach (still present, so the budget
// checks run on every call): the example's budgets (500 calls per job, 120 calls per minute) are spent within the
// first second of a bench, after which every governed call is a cheap budget_exceeded refusal that never reaches the
// backend — which is how "governed" used to measure faster than "ungoverned".
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initHome } from "../src/cli/commands/init.js";
import { issueCst } from "../src/cli/commands/token.js";
import { type HomeConfig, homePaths } from "../src/governance/home.js";
import { policyHash, readPolicyDocument, signPolicy, storePolicy } from "../src/governance/policy.js";
import { loadSigningKey } from "../src/governance/trust.js";

export interface BenchHome {
  home: string;
  config: HomeConfig;
  /** The signed bench policy (stored envelope): GSMCP_POLICY. */
  policyFile: string;
  /** A fresh job token under the bench policy: GSMCP_CST. One job per measure, so no measure spends another's usage. */
  token(job: string): Promise<string>;
}

/** Out of reach for any bench run, but set: decide() still checks every budget on every call. */
export const BENCH_BUDGETS = { max_calls: 1_000_000_000, max_rows: 1_000_000_000_000, calls_per_minute: 1_000_000_000 };

let made: Promise<BenchHome> | undefined;

export function benchHome(): Promise<BenchHome> {
  made ??= (async () => {
    const home = mkdtempSync(join(tmpdir(), "gsmcp-bench-"));
    const init = await initHome(home, { seed: 1 });
    const paths = homePaths(home);
    const { wpc } = readPolicyDocument(join(paths.policies, "triage-readonly.dsse.json"));
    const benchWpc = { ...wpc, policy_name: `${wpc.policy_name}-bench`, budgets: BENCH_BUDGETS };
    const hash = policyHash(benchWpc);
    const policyFile = storePolicy(paths, signPolicy(benchWpc, [loadSigningKey(paths, "policySigner")]), hash);
    return {
      home,
      config: init.config,
      policyFile,
      token: async (job) => (await issueCst(home, { policy: policyFile, job, agent: "bench" })).token,
    };
  })();
  return made;
}
