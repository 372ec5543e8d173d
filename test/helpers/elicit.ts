import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { CLI } from "./cli.js";

/**
 * An MCP client that supports elicitation, connected to `gsmcp serve` over stdio: `answer` plays the user in the
 * agent's host ("decline" declines the form). `asked` collects every elicitation message.
 */
export async function clientWithElicitation(
  env: Record<string, string>,
  answer: (message: string) => { approve: boolean; reason?: string } | "decline",
) {
  const client = new Client({ name: "elicit", version: "1" }, { capabilities: { elicitation: {} } });
  const asked: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    const a = answer(req.params.message);
    return a === "decline" ? { action: "decline" } : { action: "accept", content: a };
  });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "serve"],
      env: { PATH: process.env.PATH ?? "", ...env },
    }),
  );
  return { client, asked };
}
