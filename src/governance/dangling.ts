import type { ReceiptStore } from "../receipts/store.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import type { RollbackStateRows } from "../state/contract.js";
import { toolByOp } from "../tools/registry.js";
import type { Receipt } from "../types/receipt.js";

export interface DanglingIntent {
  receipt: Receipt;
  /** The resource's state in Sentinel now, so an operator sees whether the write happened. */
  currentState?: unknown;
  error?: string;
}

/** Write intents without an outcome receipt (the server stopped mid-write), each with the resource's state now. */
export async function danglingIntents(deps: {
  receipts: ReceiptStore;
  backend: (workspace?: string) => Promise<SentinelBackend>;
  rollbackState?: RollbackStateRows;
}): Promise<DanglingIntent[]> {
  const out: DanglingIntent[] = [];
  for (const r of await deps.receipts.danglingIntents()) {
    const tool = toolByOp(r.op);
    if (!tool?.capture) {
      out.push({ receipt: r });
      continue;
    }
    try {
      const backend = await deps.backend(r.workspace);
      // The real arguments (protected state) address the resource; args_redacted may not (e.g. a redacted id).
      const args = (await deps.rollbackState?.get(r.receipt_id))?.args ?? r.args_redacted;
      out.push({
        receipt: r,
        currentState: await tool.capture(args as Record<string, unknown>, {
          backend,
          decision: { effect: "ALLOW", reasons: [], constraints: [] },
        }),
      });
    } catch (e) {
      out.push({ receipt: r, error: (e as Error).message });
    }
  }
  return out;
}
