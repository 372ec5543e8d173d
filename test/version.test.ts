import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import pkg from "../package.json" with { type: "json" };
import { SERVER_VERSION } from "../src/server/mcp.js";
import { VERSION } from "../src/version.js";

// The version is written once, in package.json (review defect: it stood in four places).
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|mjs|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );

describe("version", () => {
  it("comes from package.json everywhere", () => {
    expect(VERSION).toBe(pkg.version);
    expect(SERVER_VERSION).toBe(pkg.version);
    const literal = `"${pkg.version}"`;
    expect(files("src").filter((f) => readFileSync(f, "utf8").includes(literal))).toEqual([]);
  });
});
