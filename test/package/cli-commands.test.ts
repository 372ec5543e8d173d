import { Command, Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/main.js";

// `gsmcp --help` lists the commands from src/cli/main.ts without importing their modules (they load the MCP server,
// the Azure SDKs and SQLite: start time). This keeps that listing true to what each module registers.
describe("the CLI's lazily loaded commands", () => {
  for (const [name, lazy] of Object.entries(COMMANDS)) {
    it(`${name}: gsmcp --help lists it as its module registers it`, async () => {
      const program = new Command("gsmcp");
      (await lazy.load())(program, () => "");
      expect(program.commands.map((c) => c.name())).toEqual([name]);
      const cmd = program.commands[0]!;
      expect({ term: new Help().subcommandTerm(cmd), description: cmd.description() }).toEqual({
        term: lazy.term,
        description: lazy.description,
      });
    });
  }
});
