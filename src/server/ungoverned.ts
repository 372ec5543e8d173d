import { GovernanceError } from "../governance/errors.js";
import { formatZodError } from "../governance/stages/admit.js";
import { errorResult } from "../governance/stages/result.js";
import type { SentinelBackend } from "../sentinel/backend.js";
import { describeTool } from "../tools/describe.js";
import { TOOLS, toolByName } from "../tools/registry.js";
import type { SessionHost } from "./session.js";

/**
 * The benchmarks' baseline, outside the governed path: the same tool handlers over the same backend connection with no
 * token, policy, receipts or events. Exists only for `GSMCP_UNGOVERNED=1` against the local workspace.
 */
export function ungovernedSession(backend: () => Promise<SentinelBackend>): SessionHost {
  return {
    listTools: async () => TOOLS.map(describeTool),
    async call(name, rawArgs) {
      const tool = toolByName(name);
      if (!tool) return errorResult(new GovernanceError("unknown_tool", `no tool named "${name}"`));
      const parsed = tool.input.safeParse(rawArgs ?? {});
      if (!parsed.success) return errorResult(new GovernanceError("invalid_arguments", formatZodError(parsed.error)));
      const b = await backend();
      const facts = tool.resolveFacts ? await tool.resolveFacts(parsed.data, { backend: b }) : undefined;
      const out = (await tool.run(parsed.data, {
        backend: b,
        decision: { effect: "ALLOW", reasons: [], constraints: [] },
        ungoverned: true,
        ...(facts ? { facts } : {}),
      })) as Record<string, unknown>;
      return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out };
    },
    readResource: async () => {
      throw new GovernanceError("unknown_tool", "an ungoverned baseline has no resources");
    },
    promptJob: async () => {
      throw new GovernanceError("auth_missing", "an ungoverned baseline has no prompts");
    },
  };
}
