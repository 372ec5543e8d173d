import { fileURLToPath } from "node:url";

/**
 * The gsmcp CLI as tests start it: bin/gsmcp-dev.js runs src/ through tsx, so a spawned CLI runs the current source,
 * never a dist/ build that may be stale. Start it with node: `spawn(process.execPath, [CLI, ...args])`.
 */
export const CLI = fileURLToPath(new URL("../../bin/gsmcp-dev.js", import.meta.url));
