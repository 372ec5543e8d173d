/**
 * A failure of Sentinel itself (the Azure API or the embedded workspace), as distinct from a governance refusal. The
 * backend throws only this; the pipeline maps it to a refusal code (src/governance/codes.ts, `toGovernanceError`).
 */
export type BackendFailure =
  /** The resource the call names does not exist (HTTP 404). */
  | "not_found"
  /** A query ran past its server timeout. */
  | "timeout"
  /** A query hit a resource limit (memory, intermediate rows, result size). */
  | "limit"
  /** The caller aborted the request. */
  | "cancelled"
  /** Anything else: unreachable, refused, a 5xx, an unsupported resource shape. */
  | "failed";

export class BackendError extends Error {
  override readonly name = "BackendError";
  constructor(
    readonly failure: BackendFailure,
    message: string,
    readonly extra: { status?: number; fix?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
  }

  get status(): number | undefined {
    return this.extra.status;
  }
}
