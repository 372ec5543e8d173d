// Text folding for the injection scanner: the same function folds the scanned text and the lexicon's words, so any
// spelling trick that folding undoes cannot separate the two. Every step is one linear pass (native normalize(),
// single-character-class regexes with no nested quantifiers, a lookup per character).
//
//   1. Unicode NFKC: fullwidth (Ｉｇｎｏｒｅ), mathematical alphanumerics (𝐈𝐠𝐧𝐨𝐫𝐞), ligatures, circled and
//      compatibility forms become their plain letters; a fullwidth colon becomes ":".
//   2. Lower case (locale-independent), so Cyrillic and Greek capitals fold with their small letters.
//   3. NFD, then drop every combining mark (diacritics: "précédentes" → "precedentes", "i̇gnöre" → "ignore") and
//      every format character: zero-width space/joiners, word joiner, BOM, soft hyphen, bidi embeddings, overrides
//      and isolates (U+200B–U+200F, U+202A–U+202E, U+2060–U+2069, U+FEFF, U+00AD are all category Cf).
//   4. Confusables: Cyrillic and Greek letters that look like Latin ones (а е о р с у х і ѕ ј, ο α ε ι ν ρ τ υ …),
//      dotless ı, ł, ß → ss, ø, æ, œ. Mapping Cyrillic to Latin also folds real Russian words, but the lexicon's
//      Russian entries go through the same mapping, so they still match.
// Word-level: `readings` offers leetspeak readings of a word (1gn0r3 → ignore, ru1es → rules), taken only when they
// are lexicon words.

const CONFUSABLES: Record<string, string> = {
  // Cyrillic (small letters; capitals are lower-cased first)
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ї: "i",
  ј: "j",
  һ: "h",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ӏ: "l",
  ү: "y",
  ɡ: "g",
  // Greek
  α: "a",
  β: "b",
  γ: "y",
  ε: "e",
  ζ: "z",
  η: "h",
  ι: "i",
  κ: "k",
  μ: "u",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  ω: "w",
  ϲ: "c",
  // Latin look-alikes and letters NFD does not decompose
  ı: "i",
  ł: "l",
  ß: "ss",
  ø: "o",
  đ: "d",
  ħ: "h",
  æ: "ae",
  œ: "oe",
  ŀ: "l",
  ĸ: "k",
  ſ: "s",
};

const MARKS_AND_FORMAT = /[\p{Mn}\p{Me}\p{Cf}]/gu;
const NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII_CHAR = /[\u0080-\uffff]/g;

const NON_ASCII_RUN = /[\u0080-\uffff]+/g;

function foldRun(run: string): string {
  const t = run.normalize("NFD").replace(MARKS_AND_FORMAT, "");
  return t.replace(NON_ASCII_CHAR, (c) => CONFUSABLES[c] ?? c);
}

/**
 * Folds text for matching (steps 1–4 above). ASCII-only text takes the fast path (NFKC and lower case); otherwise only
 * the runs of non-ASCII characters go through steps 3–4.
 */
export function foldText(s: string): string {
  const t = s.normalize("NFKC").toLowerCase();
  return NON_ASCII.test(t) ? t.replace(NON_ASCII_RUN, foldRun) : t;
}

// Leetspeak digits, read only inside words that also contain letters.
const LEET: Record<string, string> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "7": "t",
  "8": "b",
  "9": "g",
};
const HAS_LETTER = /[a-z]/;
const HAS_DIGIT = /[0-9]/;
const LEET_CHARS = /[01345789]/g;

/**
 * Readings of a folded word that hides letters behind digits, most likely first — only for words that mix letters
 * and digits ("1gn0r3" → "ignore"; "1" read as "i", then as "l": "ru1es" → "rules"). The caller keeps a reading only
 * when it is a lexicon word, so pure numbers (event IDs, ports) and ordinary words are never rewritten. (A small L
 * standing in for a capital I, "lgnore", is undone by the lexicon's own look-alike table: see score.ts.)
 */
export function readings(word: string): string[] {
  if (!HAS_DIGIT.test(word) || !HAS_LETTER.test(word)) return [];
  const out = [word.replace(LEET_CHARS, (c) => LEET[c]!)];
  if (word.includes("1")) out.push(word.replace(LEET_CHARS, (c) => (c === "1" ? "l" : LEET[c]!)));
  return out;
}
