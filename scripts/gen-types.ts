// Generates src/types/*.ts from schemas/*.schema.json: the schemas are the one source of truth for types.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { compile } from "json-schema-to-typescript";

const targets: [schema: string, out: string][] = [
  ["schemas/wpc.schema.json", "src/types/wpc.ts"],
  ["schemas/cst-claims.schema.json", "src/types/cst.ts"],
  ["schemas/receipt.schema.json", "src/types/receipt.ts"],
  ["schemas/agent-security-event.schema.json", "src/types/agent-security-event.ts"],
  ["schemas/approval.schema.json", "src/types/approval.ts"],
  // The CLI's --json outputs (docs/cli-json.md): schemas/cli/<name>.schema.json -> src/types/cli/<name>.ts.
  ...readdirSync("schemas/cli")
    .filter((f) => f.endsWith(".schema.json"))
    .sort()
    .map((f): [string, string] => [`schemas/cli/${f}`, `src/types/cli/${f.replace(/\.schema\.json$/, ".ts")}`]),
];

export async function generate(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [schemaPath, outPath] of targets) {
    const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
    const ts = await compile(schema, schema.title, {
      cwd: schemaPath.slice(0, schemaPath.lastIndexOf("/")),
      bannerComment: `// Generated from ${schemaPath} by scripts/gen-types.ts. Do not edit.`,
      additionalProperties: false,
      format: false,
    });
    out.set(outPath, ts);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync("src/types/cli", { recursive: true });
  for (const [path, ts] of await generate()) writeFileSync(path, ts);
}
