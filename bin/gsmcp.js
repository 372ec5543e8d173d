#!/usr/bin/env node
// The gsmcp command: runs the compiled CLI in dist/ (`npm run build`; in a checkout, `npm install` builds it through
// the prepare script). In a checkout whose dist/ is missing or older than a file under src/, it runs the sources
// through bin/gsmcp-dev.js (tsx, a devDependency) instead, so a checkout never runs stale code: servers that tests
// start this way, `npm run demo` after an edit. The package ships no src/, so there it always runs dist/.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const src = fileURLToPath(new URL("../src", import.meta.url));
const newer = (ms) =>
  readdirSync(src, { recursive: true }).some((f) => /\.(ts|mjs)$/.test(f) && statSync(join(src, f)).mtimeMs > ms);

if (existsSync(src) && (!existsSync(dist) || newer(statSync(dist).mtimeMs))) {
  await import("./gsmcp-dev.js");
} else if (!existsSync(dist)) {
  process.stderr.write("gsmcp: dist/ is missing: run `npm run build`\n");
  process.exitCode = 1;
} else {
  const { main } = await import("../dist/cli/main.js");
  process.exitCode = await main(process.argv.slice(2));
}
