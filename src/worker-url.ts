/**
 * The file a Worker starts for the worker `base` that lives next to the caller (`from`: the caller's import.meta.url).
 *
 * - Compiled (dist/, `from` ends in .js): `<base>-impl.js`, plain JavaScript that node runs directly.
 * - From source (vitest, tsx; `from` ends in .ts): `<base>.mjs`, a JavaScript entry that registers tsx and then
 *   imports `<base>-impl.ts`. A worker thread gets no TypeScript transform of its own: vitest transforms only the main
 *   thread and tsx hooks registered there are not inherited. These entries import tsx (a devDependency), so they are
 *   not part of the build.
 */
export function workerUrl(base: string, from: string): URL {
  return new URL(from.endsWith(".ts") ? `./${base}.mjs` : `./${base}-impl.js`, from);
}
