import { BackendError } from "./errors.js";

/** Runs an SDK call; any failure comes out as a BackendError. */
export async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw backendError(e);
  }
}

/** An SDK failure as a BackendError with the HTTP status, the SDK's error kept as cause. */
export function backendError(e: unknown): BackendError {
  if (e instanceof BackendError) return e;
  const err = e as { statusCode?: number; code?: string; message?: string };
  const status = err.statusCode ? ` (HTTP ${err.statusCode}${err.code ? ` ${err.code}` : ""})` : "";
  return new BackendError(
    err.statusCode === 404 ? "not_found" : "failed",
    `Sentinel call failed${status}: ${err.message ?? String(e)}`,
    {
      ...(err.statusCode ? { status: err.statusCode } : {}),
      cause: e,
    },
  );
}
