import { z } from "zod";
import { defineTool } from "../types.js";

const reason = z.object({ code: z.string(), message: z.string(), rule: z.string().optional() });

export default defineTool({
  op: "governance.explain",
  title: "Explain a policy decision",
  description:
    "Say whether an operation (op id like incidents.close, or tool name) would be allowed for this job, and why — without running it.",
  input: z.strictObject({
    op: z.string().min(1).max(100).describe("Op id (incidents.close) or tool name (sentinel_incidents_close)."),
    arguments: z.record(z.string(), z.unknown()).optional().describe("Arguments to evaluate constraints against."),
  }),
  output: z.object({
    op: z.string(),
    tool: z.string().optional(),
    effect: z.enum(["ALLOW", "CONSTRAIN", "LOG", "BLOCK"]),
    reasons: z.array(reason),
    constraints: z.array(z.record(z.string(), z.unknown())),
    approval_required: z.boolean(),
    policy: z.string(),
  }),
  effects: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  rbac: { role: "none", actions: [], note: "reads this server's policy; nothing is sent to Azure" },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only." },
  async run(args, ctx) {
    const g = ctx.governance!;
    const op = args.op.startsWith("sentinel_") ? args.op.slice("sentinel_".length).replaceAll("_", ".") : args.op;
    const { tool, decision, approval_required } = await g.explain(op, args.arguments ?? {});
    return {
      op,
      ...(tool ? { tool } : {}),
      effect: decision.effect,
      reasons: decision.reasons,
      constraints: decision.constraints as Record<string, unknown>[],
      approval_required,
      policy: `${g.policyName} (${g.policyHash})`,
    };
  },
});
