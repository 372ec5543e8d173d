import type { Command } from "commander";
import { requireHome } from "../../governance/home.js";
import { loadSigningKey } from "../../governance/trust.js";
import { openRuntime } from "../../server/runtime.js";
import type { RollbackOutput } from "../../types/cli/rollback.js";
import { CliError, out, printJson } from "../output.js";

export function registerRollbackCommand(program: Command, home: () => string): void {
  program
    .command("rollback")
    .argument("<receipt>", "intent receipt id of the write to roll back")
    .description("restore the state a write changed, from the prior state in its intent receipt (receipted)")
    .option("--json", "JSON output (schemas/cli/rollback.schema.json)")
    .action(async (receiptId: string, o: { json?: boolean }) => {
      const { paths } = requireHome(home());
      // The operator acts with the approver key's identity; the rollback runs under the policy the write ran under.
      const operator = loadSigningKey(paths, "approver").keyid;
      const probe = await openRuntime({ home: home() });
      const intent = await probe.receipts.get(receiptId);
      await probe.close();
      if (!intent) throw new CliError(`no receipt ${receiptId}`, 1, "see gsmcp receipts list", "not_found");
      const runtime = await openRuntime({ home: home(), policyRef: intent.policy_hash });
      try {
        const r = await runtime.rollback(receiptId, operator);
        const text = r.content.map((c) => c.text).join("\n");
        if (r.isError) throw new CliError(`rollback refused: ${text}`, 1);
        if (o.json)
          return printJson({
            receipt_id: receiptId,
            op: intent.op,
            job: intent.job,
            result: text,
          } satisfies RollbackOutput);
        out(`rolled back ${receiptId} (${intent.op}, job ${intent.job})`);
        out(text);
      } finally {
        await runtime.close();
      }
    });
}
