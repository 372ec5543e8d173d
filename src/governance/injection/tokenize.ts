// Splits folded text into words in one pass: a word is a run of letters, digits and underscores (any script); every
// other character separates words. What a separator held is kept as per-word flags (a line or sentence break before
// the word, a colon or comma after it, an "@" just before it), because "SYSTEM:" at the start of a line or
// "Assistant," as a vocative means something a bare word does not.

/** The separator before the word is the start of the text, a line break, or punctuation other than a comma. */
export const F_BREAK_BEFORE = 1;
/** The first non-blank character after the word is ":". */
export const F_COLON_AFTER = 2;
/** The first non-blank character after the word is ",". */
export const F_COMMA_AFTER = 4;
/** The character just before the word is "@" (an e-mail domain, or "@assistant"). */
export const F_AT_BEFORE = 8;
/** The separator before the word holds a comma ("…, AI helper, …"). */
export const F_COMMA_BEFORE = 16;
/** The separator before the word is one hyphen, dot or apostrophe ("dis-regard", "i.g.n.o.r.e", "don't"). */
export const F_TIGHT_BEFORE = 32;
/** The word has a digit (0–9) in it. */
export const F_DIGIT = 64;

export interface RawTokens {
  length: number;
  words: string[];
  /**
   * Offset of each word's first character in the folded text, and each word's flags: the first `length` entries.
   * These buffers are reused by the next call (the scanner is synchronous); copy them to keep them.
   */
  starts: Int32Array;
  flags: Int32Array;
}

// Reused between calls; buffers past KEEP entries are not kept.
const KEEP = 1 << 14;
let startsBuf = new Int32Array(64);
let flagsBuf = new Int32Array(64);

// Character classes, filled lazily for non-ASCII code units: 1 = word character, 2 = separator.
const CLASS = new Uint8Array(65536);
for (let c = 0; c < 128; c++) {
  const word = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);
  CLASS[c] = word ? 1 : 2;
}
const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;

function isWord(code: number): boolean {
  let k = CLASS[code]!;
  if (k === 0) {
    // Lone surrogates (astral symbols, emoji) fail the test and separate words.
    k = LETTER_OR_NUMBER.test(String.fromCharCode(code)) ? 1 : 2;
    CLASS[code] = k;
  }
  return k === 1;
}

const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const COLON = 58;
const AT = 64;
const HYPHEN = 45;
const DOT = 46;
const APOSTROPHE = 39;
const RIGHT_QUOTE = 0x2019;

export function tokenize(text: string): RawTokens {
  const n = text.length;
  // At most one word per two characters: the arrays never grow during a call.
  const cap = (n >> 1) + 1;
  if (startsBuf.length < cap || startsBuf.length > Math.max(cap, KEEP)) {
    startsBuf = new Int32Array(Math.max(64, cap));
    flagsBuf = new Int32Array(Math.max(64, cap));
  }
  const words: string[] = [];
  const starts = startsBuf;
  const flags = flagsBuf;
  let count = 0;
  let i = 0;
  while (i < n) {
    // The separator run before the next word.
    const sepStart = i;
    let f = count === 0 ? F_BREAK_BEFORE : 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (isWord(c)) break;
      if (c === COMMA) f |= F_COMMA_BEFORE;
      else if (c !== SPACE && c !== TAB) f |= F_BREAK_BEFORE;
    }
    if (i >= n) break;
    if (i > 0 && text.charCodeAt(i - 1) === AT) f |= F_AT_BEFORE;
    if (count > 0 && i - sepStart === 1) {
      const t = text.charCodeAt(sepStart);
      if (t === HYPHEN || t === DOT || t === APOSTROPHE || t === RIGHT_QUOTE) f |= F_TIGHT_BEFORE;
    }
    const start = i;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) f |= F_DIGIT;
      else if (!isWord(c)) break;
    }
    // What follows: the first non-blank character of the next separator.
    let j = i;
    while (j < n && (text.charCodeAt(j) === SPACE || text.charCodeAt(j) === TAB)) j++;
    const next = j < n ? text.charCodeAt(j) : 0;
    if (next === COLON) f |= F_COLON_AFTER;
    else if (next === COMMA) f |= F_COMMA_AFTER;
    words.push(text.slice(start, i));
    starts[count] = start;
    flags[count] = f;
    count++;
  }
  return { length: count, words, starts, flags };
}
