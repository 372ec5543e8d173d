import { request } from "node:http";

// Plain HTTP requests for tests that need what a client library hides: exact status, headers and raw bodies.

export interface RawResponse {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request on a fresh connection (no keep-alive agent); never throws on an HTTP error status. */
export function rawRequest(url: string, opts: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers ?? {}, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/** rawRequest with the body parsed as JSON ({} when empty). */
export async function rawJson(
  url: string,
  opts: RawOptions = {},
): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  const r = await rawRequest(url, opts);
  return { status: r.status, headers: r.headers, json: r.body ? JSON.parse(r.body) : {} };
}
