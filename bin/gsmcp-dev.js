#!/usr/bin/env node
// Development entry: runs the TypeScript sources (src/) through tsx, a devDependency, so the current source runs
// without a build. Tests spawn it (test/helpers/cli.ts); the package ships bin/gsmcp.js (compiled dist/) only.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
