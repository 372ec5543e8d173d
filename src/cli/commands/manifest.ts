import { join } from "node:path";
import type { Command } from "commander";
import { writeManifests } from "../../tools/manifest.js";
import { out } from "../output.js";
import { REPO_ROOT } from "./init.js";

export function registerManifestCommand(program: Command): void {
  program
    .command("manifest")
    .description("write tools/<tool>.json and tools/README.md from the tool registry")
    .option("--dir <dir>", "output directory", join(REPO_ROOT, "tools"))
    .action((o: { dir: string }) => {
      const files = writeManifests(o.dir);
      out(`wrote ${files.length} files to ${o.dir}`);
    });
}
