import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { signingKeyFromPem } from "../../crypto/keys.js";
import { type Approval, ApprovalStore, statusOf } from "../../governance/approvals.js";
import { requireHome } from "../../governance/home.js";
import { loadSigningKey } from "../../governance/trust.js";
import { openStateDb } from "../../state/db.js";
import { CliError, out } from "../output.js";

function withApprovals<T>(
  home: string,
  fn: (a: ApprovalStore, paths: ReturnType<typeof requireHome>["paths"]) => T,
): T {
  const { paths } = requireHome(home);
  const db = openStateDb(paths.stateDb);
  try {
    return fn(new ApprovalStore(db), paths);
  } finally {
    db.close();
  }
}

function line(a: Approval & { consumed_at?: string }): string {
  return `${a.approval_id}\t${statusOf(a)}\t${a.job}\t${a.op}\t${a.requested_at}\texpires ${a.expires_at}`;
}

/** Approves or denies with this home's approver key (keys/approver.pem), or the PEM named by --key. */
export function decideApproval(
  home: string,
  id: string,
  decision: "approved" | "denied",
  reason: string,
  keyFile?: string,
): Approval {
  return withApprovals(home, (store, paths) => {
    const key = keyFile ? signingKeyFromPem(readFileSync(keyFile, "utf8")) : loadSigningKey(paths, "approver");
    return store.decide(id, decision, key, reason, new Date());
  });
}

export function registerApprovalCommands(program: Command, home: () => string): void {
  const approvals = program.command("approvals").description("human approvals for gated writes");
  approvals
    .command("list")
    .option("--status <s>", "pending | approved | denied | consumed | expired")
    .option("--job <id>", "only this job")
    .option("--json", "JSON output")
    .action((o: { status?: string; job?: string; json?: boolean }) => {
      const list = withApprovals(home(), (s) =>
        s.list({ ...(o.status ? { status: o.status } : {}), ...(o.job ? { job: o.job } : {}) }),
      );
      if (o.json) return out(JSON.stringify(list, null, 2));
      if (!list.length) return out("no approvals");
      for (const a of list) out(line(a));
    });
  approvals
    .command("show")
    .argument("<id>", "approval id (apr_…)")
    .action((id: string) => {
      const a = withApprovals(home(), (s) => s.get(id));
      if (!a) throw new CliError(`no approval "${id}"`, 1, "see gsmcp approvals list");
      out(JSON.stringify({ ...a, status: statusOf(a) }, null, 2));
    });
  for (const [verb, decision] of [
    ["approve", "approved"],
    ["deny", "denied"],
  ] as const) {
    approvals
      .command(verb)
      .argument("<id>", "approval id (apr_…)")
      .option("--reason <text>", "recorded with the signed decision", `${decision} by operator`)
      .option("--key <file>", "approver private key (PEM); default: GSMCP_HOME/keys/approver.pem")
      .action((id: string, o: { reason: string; key?: string }) => {
        const a = decideApproval(home(), id, decision, o.reason, o.key);
        out(`${a.approval_id} ${decision} (${a.op} for job ${a.job}), signed by ${a.approver}`);
      });
  }
}
