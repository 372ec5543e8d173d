import type { IncomingMessage, ServerResponse } from "node:http";

export const MAX_FORM_BYTES = 16 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

/** Security headers on every response: no framing, no inline script or style, nothing from elsewhere. */
export function secureHeaders(res: ServerResponse, csp?: string): void {
  res.setHeader(
    "content-security-policy",
    csp ??
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "same-origin");
  res.setHeader("x-frame-options", "DENY");
  res.setHeader("cache-control", "no-store");
}

export function sendHtml(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(body);
}

export function redirect(res: ServerResponse, location: string, status = 303): void {
  res.statusCode = status;
  res.setHeader("location", location);
  res.end();
}

/** A urlencoded form body, bounded; any other content type is refused (forms are the only writes). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded")
    throw new HttpError(415, `expected a form (application/x-www-form-urlencoded), got ${type || "no content type"}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, `form larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** One optional text field, trimmed, bounded; the error names the field and the limit. */
export function field(form: URLSearchParams, name: string, max: number): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1) throw new HttpError(400, `field "${name}" given ${values.length} times`);
  const v = values[0]?.trim();
  if (v === undefined || v === "") return undefined;
  if (v.length > max) throw new HttpError(400, `field "${name}" is longer than ${max} characters`, "shorten it");
  return v;
}
