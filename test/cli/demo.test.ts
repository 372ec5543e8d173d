import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/commands/demo.js";

describe("npm run demo", () => {
  it("tells the whole story on a fresh home with every step behaving as described", async () => {
    const lines: string[] = [];
    const r = await runDemo(join(mkdtempSync(join(tmpdir(), "gsmcp-demo-")), ".gsmcp"), (s) => lines.push(s));
    expect(r.failures, lines.join("\n")).toBe(0);
    const all = lines.join("\n");
    expect(all).toContain("approval_required");
    expect(all).toContain("verify → VALID (trusted)");
    expect(all).toMatch(/FIRED {2}AI agent - repeated attempts at blocked tools/);
  });
});
