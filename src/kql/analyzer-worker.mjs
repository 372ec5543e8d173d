// Entry of the KQL analyzer worker (see analyzer-worker.ts) when running from source; the compiled package starts
// analyzer-worker-impl.js directly (src/worker-url.ts). Plain JS for the same reason as the query worker's entry
// (src/workspace/query-worker.mjs): a worker gets no TypeScript transform of its own, so it registers tsx first.
import { register } from "tsx/esm/api";

register();
await import("./analyzer-worker-impl.ts");
