import type { KqlErrorInfo } from "./types.js";

/** A query the engine cannot run: syntax, an unsupported construct, a semantic error or a limit — with where. */
export class KqlError extends Error {
  override readonly name = "KqlError";
  constructor(readonly info: KqlErrorInfo) {
    super(info.line ? `${info.message} (line ${info.line}, column ${info.column})` : info.message);
  }
}

export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}
