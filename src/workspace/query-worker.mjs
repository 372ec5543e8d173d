// Entry of a query worker (see query-pool.ts) when running from source; the compiled package starts
// query-worker-impl.js directly (src/worker-url.ts chooses). Plain JS on purpose: a Worker started on a .ts file gets
// no transform under vitest (vite-node transforms only the main thread) nor under `node bin/gsmcp-dev.js` (tsx hooks
// registered with register() on the main thread are not inherited by workers). So this entry registers tsx itself,
// then loads the TypeScript implementation. When tsx is already loaded through --import (`tsx bench/run.ts`),
// registering it a second time is harmless. It imports tsx (a devDependency), so it is not part of the build.
import { register } from "tsx/esm/api";

register();
await import("./query-worker-impl.ts");
