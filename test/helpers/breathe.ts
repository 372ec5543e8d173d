/**
 * For long synchronous test loops (fuzzers, property sweeps): returns a function to await on every iteration that
 * yields to the event loop every `ms`, so vitest's worker can answer its RPCs (otherwise: "Timeout calling
 * onTaskUpdate").
 */
export function breather(ms = 100): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < ms) return;
    await new Promise((r) => setImmediate(r));
    last = Date.now();
  };
}
