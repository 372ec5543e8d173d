import type { IncomingMessage } from "node:http";

/**
 * A request body's chunks, or undefined once it passes `max` bytes: the rest is drained, never buffered (the caller
 * answers 413 and closes the connection). data/end listeners rather than an async iterator per request.
 */
export function collectBody(req: IncomingMessage, max: number): Promise<Buffer[] | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off("data", onData);
        req.resume();
        resolve(undefined);
      } else chunks.push(c);
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks));
    req.once("error", reject);
  });
}
