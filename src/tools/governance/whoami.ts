import { z } from "zod";
import { defineTool } from "../types.js";

export default defineTool({
  op: "governance.whoami",
  title: "Who am I",
  description:
    "This job's identity and limits: job id, agent, policy (name and hash), allowed operations, the workspaces it may reach (name, tenant, default), token expiry, and whether this server's telemetry is being written.",
  input: z.strictObject({}),
  output: z.object({
    job: z.string(),
    agent: z.string(),
    policy: z.object({ name: z.string(), hash: z.string() }),
    allowed_ops: z.array(z.string()),
    workspaces: z
      .array(z.object({ name: z.string(), tenant: z.string(), default: z.boolean() }))
      .describe("Registry workspaces this job may reach; pass a name as a tool's workspace argument."),
    token_expires_at: z.string(),
    telemetry: z.object({
      failures: z.number().describe("Telemetry writes that failed so far on this server (fail-open policies go on)."),
    }),
    query_workers: z
      .object({
        running: z
          .number()
          .describe("KQL queries running now, a terminated query until its thread has exited included."),
        queued: z.number().describe("KQL queries waiting for a worker."),
        terminated: z
          .number()
          .describe("Workers stopped since the server started: a query timed out or was cancelled."),
      })
      .optional()
      .describe(
        "The default workspace's local query workers (all jobs on this server), when this job may reach it; absent with Azure, whose queries run in Azure.",
      ),
  }),
  effects: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
  rbac: { role: "none", actions: [], note: "reads this server's state; nothing is sent to Azure" },
  approvalDefault: "none",
  rollback: { posture: "none", description: "Read-only." },
  async run(_args, ctx) {
    const g = ctx.governance!;
    return {
      job: g.job,
      agent: g.agent,
      policy: { name: g.policyName, hash: g.policyHash },
      allowed_ops: g.scope,
      workspaces: g.workspaces,
      token_expires_at: g.tokenExpiresAt,
      telemetry: { failures: g.telemetryFailures },
      // Only about a workspace this job may reach (a job pinned elsewhere learns nothing of the default's load).
      ...(ctx.backend.queryWorkers && g.workspaces.some((w) => w.default)
        ? { query_workers: ctx.backend.queryWorkers() }
        : {}),
    };
  },
});
