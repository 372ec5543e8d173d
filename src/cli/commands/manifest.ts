import { join } from "node:path";
import type { Command } from "commander";
import { writeManifests } from "../../tools/manifest.js";
import type { ManifestOutput } from "../../types/cli/manifest.js";
import { out, printJson } from "../output.js";
import { REPO_ROOT } from "./init.js";

export function registerManifestCommand(program: Command): void {
  program
    .command("manifest")
    .description("write tools/<tool>.json and tools/README.md from the tool registry")
    .option("--dir <dir>", "output directory", join(REPO_ROOT, "tools"))
    .option("--json", "JSON output (schemas/cli/manifest.schema.json)")
    .action((o: { dir: string; json?: boolean }) => {
      const files = writeManifests(o.dir);
      if (o.json) return printJson({ dir: o.dir, files } satisfies ManifestOutput);
      out(`wrote ${files.length} files to ${o.dir}`);
    });
}
