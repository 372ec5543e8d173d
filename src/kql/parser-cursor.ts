import { KqlError, positionOf } from "./errors.js";
import { type Token, tokenize } from "./lexer.js";

// The token stream under the recursive-descent parser: the current token, look-ahead, and the expect/accept steps
// every grammar rule is built from. Errors carry the construct's position, so the engine never guesses.

export class TokenCursor {
  protected i = 0;
  protected readonly toks: Token[];
  constructor(protected readonly text: string) {
    this.toks = tokenize(text);
  }

  protected get t(): Token {
    return this.toks[this.i]!;
  }
  protected peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  protected fail(code: "syntax" | "unsupported", message: string, pos = this.t.pos): never {
    throw new KqlError({ code, message, ...positionOf(this.text, pos) });
  }
  /** Kusto keywords are case-sensitive (`LET`, `Union` are names, not keywords): matched exactly, as the analyzer does. */
  protected isWord(w: string, t = this.t): boolean {
    return t.kind === "ident" && t.text === w;
  }
  protected eat(text: string): Token {
    if (this.t.text !== text) {
      this.fail("syntax", `expected "${text}" but found "${this.t.text || "end of query"}"`);
    }
    return this.toks[this.i++]!;
  }
  protected accept(text: string): boolean {
    if (this.t.text === text) {
      this.i++;
      return true;
    }
    return false;
  }
  protected ident(): Token {
    if (this.t.kind !== "ident") this.fail("syntax", `expected a name but found "${this.t.text || "end of query"}"`);
    return this.toks[this.i++]!;
  }
}
