import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { signingKeyFromPem } from "../../crypto/keys.js";
import { decideWitnessed } from "../../governance/approval-decide.js";
import { type Approval, ApprovalStore, statusOf } from "../../governance/approvals.js";
import { requireHome } from "../../governance/home.js";
import { loadSigningKey } from "../../governance/trust.js";
import { openStore } from "../../state/open.js";
import type { ApprovalsDecideOutput } from "../../types/cli/approvals-decide.js";
import type { ApprovalsListOutput } from "../../types/cli/approvals-list.js";
import type { ApprovalsShowOutput } from "../../types/cli/approvals-show.js";
import { CliError, out, printJson } from "../output.js";
import { withStore } from "../store-access.js";

function withApprovals<T>(home: string, fn: (a: ApprovalStore) => Promise<T>): Promise<T> {
  return withStore(home, (s) => fn(new ApprovalStore(s.approvals)));
}

const STATUSES = ["pending", "approved", "denied", "consumed", "expired"] as const;

/** An approval as --json prints it: as stored, with `status` its decision as it stands now (consumed, expired). */
function withStatus(a: Approval & { consumed_at?: string }): ApprovalsShowOutput {
  return { ...a, status: statusOf(a) as ApprovalsShowOutput["status"] };
}

/** Approval ids are apr_ + 16 hex digits: anything else is refused before the store is opened. */
function checkId(id: string): void {
  if (!/^apr_[0-9a-f]{16}$/.test(id))
    throw new CliError(
      `"${id}" is not an approval id`,
      2,
      "approval ids look like apr_0123456789abcdef (see gsmcp approvals list)",
    );
}

function line(a: Approval & { consumed_at?: string }): string {
  return `${a.approval_id}\t${statusOf(a)}\t${a.job}\t${a.op}\t${a.requested_at}\texpires ${a.expires_at}`;
}

/** Approves or denies from the CLI with this home's approver key (keys/approver.pem), or the PEM named by --key. */
export async function decideApproval(
  home: string,
  id: string,
  decision: "approved" | "denied",
  reason: string,
  keyFile?: string,
  changeTicket?: string,
): Promise<Approval> {
  const { paths, config } = requireHome(home);
  const state = await openStore(paths);
  try {
    const key = keyFile ? signingKeyFromPem(readFileSync(keyFile, "utf8")) : loadSigningKey(paths, "approver");
    return await decideWitnessed(
      { paths, config, approvals: new ApprovalStore(state.approvals) },
      { id, decision, key, reason, ...(changeTicket ? { changeTicket } : {}) },
    );
  } finally {
    await state.close();
  }
}

export function registerApprovalCommands(program: Command, home: () => string): void {
  const approvals = program.command("approvals").description("human approvals for gated writes");
  approvals
    .command("list")
    .option("--status <s>", "pending | approved | denied | consumed | expired")
    .option("--job <id>", "only this job")
    .option("--json", "JSON output (schemas/cli/approvals-list.schema.json)")
    .action(async (o: { status?: string; job?: string; json?: boolean }) => {
      if (o.status !== undefined && !(STATUSES as readonly string[]).includes(o.status))
        throw new CliError(`--status "${o.status}" is not a status`, 2, `use one of ${STATUSES.join(", ")}`);
      const list = await withApprovals(home(), (s) =>
        s.list({ ...(o.status ? { status: o.status } : {}), ...(o.job ? { job: o.job } : {}) }),
      );
      if (o.json) return printJson(list.map(withStatus) satisfies ApprovalsListOutput);
      if (!list.length) return out("no approvals");
      for (const a of list) out(line(a));
    });
  approvals
    .command("show")
    .argument("<id>", "approval id (apr_…)")
    .option("--json", "JSON output, as without it (schemas/cli/approvals-show.schema.json)")
    .action(async (id: string) => {
      checkId(id);
      const a = await withApprovals(home(), (s) => s.get(id));
      if (!a) throw new CliError(`no approval "${id}"`, 1, "see gsmcp approvals list", "not_found");
      printJson(withStatus(a));
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
      .option("--ticket <ref>", "change-ticket reference, recorded in the approval and the receipt")
      .option("--json", "JSON output: the decided approval (schemas/cli/approvals-decide.schema.json)")
      .action(async (id: string, o: { reason: string; key?: string; ticket?: string; json?: boolean }) => {
        checkId(id);
        const a = await decideApproval(home(), id, decision, o.reason, o.key, o.ticket);
        if (o.json) return printJson(withStatus(a) satisfies ApprovalsDecideOutput);
        out(`${a.approval_id} ${decision} (${a.op} for job ${a.job}), signed by ${a.approver}`);
      });
  }
}
