import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InitResult, initHome } from "../../src/cli/commands/init.js";
import { issueCst } from "../../src/cli/commands/token.js";
import { homePaths } from "../../src/governance/home.js";
import { connectStdio, type StdioSession } from "../../src/server/stdio-client.js";

export interface TestHome {
  home: string;
  init: InitResult;
  paths: ReturnType<typeof homePaths>;
  policyFile: (name: "triage-readonly" | "containment-with-approvals") => string;
}

/** A fresh, initialised GSMCP_HOME in a temp dir (keys, trust, signed policies, seeded workspace). */
export async function makeHome(): Promise<TestHome> {
  const home = mkdtempSync(join(tmpdir(), "gsmcp-test-"));
  const init = await initHome(home, { seed: 7 });
  const paths = homePaths(home);
  return { home, init, paths, policyFile: (name) => join(paths.policies, `${name}.dsse.json`) };
}

/** Issues a token and starts `gsmcp serve` over stdio with it. */
export async function startSession(
  h: TestHome,
  opts: {
    policy?: "triage-readonly" | "containment-with-approvals";
    /** A signed policy file other than the examples (wins over `policy`). */
    policyFile?: string;
    job?: string;
    ops?: string[];
    token?: string;
    env?: Record<string, string>;
  } = {},
): Promise<StdioSession & { token: string }> {
  const policy = opts.policyFile ?? h.policyFile(opts.policy ?? "triage-readonly");
  const token =
    opts.token ??
    (
      await issueCst(h.home, {
        policy,
        job: opts.job ?? "job-1",
        agent: "agent-1",
        ...(opts.ops ? { ops: opts.ops } : {}),
      })
    ).token;
  const session = await connectStdio({ GSMCP_HOME: h.home, GSMCP_CST: token, GSMCP_POLICY: policy, ...opts.env });
  return { ...session, token };
}
