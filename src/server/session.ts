import { effectiveScope } from "../governance/decide.js";
import { GovernanceError } from "../governance/errors.js";
import type { Governor } from "../governance/pipeline.js";
import type { Elicitor } from "../governance/stages/approval-gate.js";
import type { CallMeta, ToolCallResult } from "../governance/stages/types.js";
import { describeTool, type ListedTool } from "../tools/describe.js";
import { KNOWN_OPS, toolByOp } from "../tools/registry.js";
import type { PromptJob } from "./prompts.js";

export const RESOURCE_URIS = {
  policy: "gsmcp://policy/active",
  manifest: "gsmcp://tools/manifest",
  proof: "gsmcp://proof/current-job",
} as const;

/** What the MCP server asks of a session: tools, resources and prompts. Governed, or the bench's ungoverned baseline. */
export interface SessionHost {
  listTools(): Promise<ListedTool[]>;
  call(name: string, args: unknown, meta: CallMeta): Promise<ToolCallResult>;
  readResource(uri: string): Promise<{ mimeType: string; text: string }>;
  /** The authenticated job a prompt is built from; throws the refusal otherwise. */
  promptJob(): Promise<PromptJob>;
  setElicitor?(fn: Elicitor): void;
}

/**
 * A governed session: every tool call through the governor; tools/list, resources and prompts show only what the
 * session's authenticated job may see (resources and prompts are refused to an unauthenticated session).
 */
export function governedSession(governor: Governor, proofBundle?: (job: string) => Promise<string>): SessionHost {
  const listTools = async () => (await governor.listOps()).map((op) => describeTool(toolByOp(op)!));
  return {
    listTools,
    call: (name, args, meta) => governor.call(name, args, meta),
    setElicitor: (fn) => governor.setElicitor(fn),
    async readResource(uri) {
      const { claims, policy } = await governor.caller();
      if (uri === RESOURCE_URIS.policy)
        return {
          mimeType: "application/json",
          text: JSON.stringify({ hash: policy.hash, signers: policy.signerKeyIds, wpc: policy.wpc }, null, 2),
        };
      if (uri === RESOURCE_URIS.manifest)
        return { mimeType: "application/json", text: JSON.stringify(await listTools(), null, 2) };
      if (uri === RESOURCE_URIS.proof) {
        if (!proofBundle) throw new GovernanceError("internal_error", "proof bundles are not available in this server");
        return { mimeType: "application/json", text: await proofBundle(claims.job) };
      }
      throw new GovernanceError("unknown_tool", `no resource ${uri}`);
    },
    async promptJob() {
      const { claims, policy } = await governor.caller();
      return {
        job: claims.job,
        agent: claims.sub,
        policyName: policy.wpc.policy_name,
        policyHash: policy.hash,
        wpc: policy.wpc,
        scope: effectiveScope(policy.wpc, claims.scope, KNOWN_OPS),
      };
    },
  };
}
