// Repairs the word stream before matching, undoing spacing tricks in three linear passes: snake_case split (tool names
// kept whole), look-alike readings (1gn0r3, ru1es, lgnore), s p a c e d letters glued and re-split; split words
// joined (ig nore, in-struc-tions, dis-regard) and glued words split (IgnoreAllPreviousInstructions); phrases
// collapsed into one word and filler words dropped.
import { type Lexicon, TOOL_PREFIXES, type TrieNode, walk } from "./compile.js";
import { readings } from "./normalise.js";
import {
  F_AT_BEFORE,
  F_BREAK_BEFORE,
  F_COLON_AFTER,
  F_COMMA_AFTER,
  F_COMMA_BEFORE,
  F_DIGIT,
  F_TIGHT_BEFORE,
  type RawTokens,
} from "./tokenize.js";

/** Glued words (camelCase, no spaces) are split against the dictionary only within these lengths. */
const MIN_SEGMENT_LEN = 9;
const MAX_SEGMENT_LEN = 64;
/** Pieces of a glued word are at least this long ("un|trusted" is not a split). */
const MIN_PIECE_LEN = 3;
/** Word flags beyond tokenize.ts's: the word is a tool name (sentinel_…, governance_…); the word is in the dictionary. */
export const F_TOOL = 1 << 10;
export const F_KNOWN = 1 << 11;

/** A word as the dictionary knows it: itself, or a look-alike reading of it; undefined when it is not known. */
function read(word: string, flags: number, lx: Lexicon): string | undefined {
  if (lx.dict.has(word)) return word;
  const l = lx.lookalikes.get(word);
  if (l) return l;
  if (flags & F_DIGIT) for (const r of readings(word)) if (lx.dict.has(r)) return r;
  return undefined;
}

/** Greedy longest-match split of glued text into dictionary words; characters no word starts at are skipped. */
function segmentGreedy(s: string, lx: Lexicon, out: (w: string) => void): void {
  let i = 0;
  while (i < s.length) {
    let node: TrieNode | undefined = lx.trie;
    let best = -1;
    for (let j = i; j < s.length && node; j++) {
      node = node.next.get(s.charCodeAt(j));
      if (node?.word) best = j + 1;
    }
    if (best > 0) {
      out(s.slice(i, best));
      i = best;
    } else i++;
  }
}

/** Splits a glued word into dictionary words when they cover it exactly (≥ 2 words), else returns undefined. */
function segmentExact(s: string, lx: Lexicon): string[] | undefined {
  const n = s.length;
  // from[j] = start of the dictionary word ending at j on some full cover of s[0, j), or -1.
  const from = new Int32Array(n + 1).fill(-1);
  from[0] = 0;
  for (let i = 0; i < n; i++) {
    if (from[i] === -1) continue;
    let node: TrieNode | undefined = lx.trie;
    for (let j = i; j < n && node; j++) {
      node = node.next.get(s.charCodeAt(j));
      if (node?.word && j + 1 - i >= MIN_PIECE_LEN && from[j + 1] === -1) from[j + 1] = i;
    }
  }
  if (from[n] === -1) return undefined;
  const parts: string[] = [];
  for (let j = n; j > 0; j = from[j]!) parts.push(s.slice(from[j]!, j));
  return parts.length >= 2 ? parts.reverse() : undefined;
}

/** A stream of words with their flags and the raw word each started at (parallel arrays: no object per word). */
export class Stream {
  w: string[] = [];
  f = new Int32Array(0);
  o = new Int32Array(0);
  length = 0;
  /** Empties the stream for reuse, with room for `capacity` words (buffers over POOL_KEEP words are not kept). */
  reset(capacity: number): this {
    const cap = Math.max(64, capacity);
    if (this.f.length < cap || this.f.length > Math.max(cap, POOL_KEEP)) {
      this.f = new Int32Array(cap);
      this.o = new Int32Array(cap);
    }
    this.w.length = 0;
    this.length = 0;
    return this;
  }
  push(w: string, f: number, o: number): void {
    if (this.length === this.f.length) {
      const f2 = new Int32Array(this.f.length * 2);
      f2.set(this.f);
      this.f = f2;
      const o2 = new Int32Array(this.o.length * 2);
      o2.set(this.o);
      this.o = o2;
    }
    this.w[this.length] = w;
    this.f[this.length] = f;
    this.o[this.length] = o;
    this.length++;
  }
}

const AZ = /^[a-z]+$/;
/** Scans reuse three streams (scanning is synchronous, so never re-entered); buffers past POOL_KEEP are not kept. */
const POOL_KEEP = 1 << 14;
const pool = [new Stream(), new Stream(), new Stream()] as const;

/** Pass 1: tool names kept whole, other snake_case split, look-alikes read, s p a c e d letters glued and re-split. */
export function split(raw: RawTokens, lx: Lexicon): Stream {
  const out = pool[0].reset(raw.length + (raw.length >> 3));
  let runStart = -1;
  let run = "";
  let runFlags = 0;
  const flush = () => {
    if (runStart < 0) return;
    if (run.length >= 3) {
      const glued = lx.dict.has(run) ? run : (readings(run).find((r) => lx.dict.has(r)) ?? readings(run)[0] ?? run);
      let first = true;
      segmentGreedy(glued, lx, (p) => {
        out.push(p, (first ? runFlags : 0) | F_KNOWN, runStart);
        first = false;
      });
    } else {
      // One or two single letters: not a spacing trick, keep them as they are.
      for (let k = 0; k < run.length; k++) {
        const f = k === 0 ? runFlags : raw.flags[runStart + k]!;
        out.push(run[k]!, f | (lx.dict.has(run[k]!) ? F_KNOWN : 0), runStart + k);
      }
    }
    runStart = -1;
    run = "";
  };
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const w = raw.words[i]!;
    const flags = raw.flags[i]!;
    if (w.length === 1) {
      if (runStart < 0) {
        runStart = i;
        runFlags = flags;
      }
      run += w;
      continue;
    }
    flush();
    if (w.indexOf("_") >= 0) {
      if (TOOL_PREFIXES.some((p) => w.startsWith(p))) {
        out.push(w, flags | F_TOOL, i);
        continue;
      }
      let first = true;
      for (const part of w.split("_")) {
        if (!part) continue;
        const r = read(part, flags, lx);
        out.push(r ?? part, (first ? flags : 0) | (r === undefined ? 0 : F_KNOWN), i);
        first = false;
      }
      continue;
    }
    const r = read(w, flags, lx);
    out.push(r ?? w, flags | (r === undefined ? 0 : F_KNOWN), i);
  }
  flush();
  return out;
}

/**
 * Pass 2: split words ("ig nore", "in-struc-tions", "dis-regard") are joined — up to four neighbours, when the join is
 * a known word and some part is not, or every part is joined by a single hyphen, dot or apostrophe — and glued words
 * ("IgnoreAllPreviousInstructions") are split when dictionary words cover them exactly.
 */
export function join(s: Stream, lx: Lexicon): Stream {
  const out = pool[1].reset(s.length + (s.length >> 3));
  const n = s.length;
  for (let i = 0; i < n; ) {
    const w = s.w[i]!;
    const f = s.f[i]!;
    if (f & F_TOOL) {
      out.push(w, f, s.o[i]!);
      i++;
      continue;
    }
    const known = (f & F_KNOWN) !== 0;
    // Walk the dictionary trie through the neighbours' letters: no string is built unless a join is found.
    let taken = 1;
    let node = lx.prefixes.has(w) ? walk(lx.trie, w) : undefined;
    let anyUnknown = !known;
    let allTight = true;
    for (let k = 1; k < 4 && node && i + k < n && !(s.f[i + k]! & F_TOOL); k++) {
      anyUnknown ||= !(s.f[i + k]! & F_KNOWN);
      allTight &&= (s.f[i + k]! & F_TIGHT_BEFORE) !== 0;
      if (!anyUnknown && !allTight) break;
      node = walk(node, s.w[i + k]!);
      if (node?.word) taken = k + 1;
    }
    const joined = taken > 1 ? s.w.slice(i, i + taken).join("") : "";
    if (taken > 1) {
      out.push(joined, f | F_KNOWN | (s.f[i + taken - 1]! & (F_COLON_AFTER | F_COMMA_AFTER)), s.o[i]!);
      i += taken;
      continue;
    }
    if (
      !known &&
      w.length >= MIN_SEGMENT_LEN &&
      w.length <= MAX_SEGMENT_LEN &&
      walk(lx.trie, w.slice(0, MIN_PIECE_LEN)) !== undefined &&
      AZ.test(w)
    ) {
      const parts = segmentExact(w, lx);
      if (parts) {
        parts.forEach((p, k) => {
          out.push(p, (k === 0 ? f : 0) | F_KNOWN, s.o[i]!);
        });
        i++;
        continue;
      }
    }
    out.push(w, f, s.o[i]!);
    i++;
  }
  return out;
}

/** Pass 3: the lexicon's phrases collapse into one word each; filler words are dropped (flags pass to the next). */
export function collapse(s: Stream, lx: Lexicon): Stream {
  const out = pool[2].reset(s.length);
  const n = s.length;
  let carry = 0;
  for (let i = 0; i < n; ) {
    let w = s.w[i]!;
    let f = s.f[i]!;
    let taken = 1;
    const cands = lx.phrases.get(w);
    if (cands) {
      for (const p of cands) {
        if (i + p.length > n) continue;
        let k = 1;
        while (k < p.length && s.w[i + k] === p[k]) k++;
        if (k === p.length) {
          taken = p.length;
          w = p.join(" ");
          f |= F_KNOWN;
          f = (f & ~(F_COLON_AFTER | F_COMMA_AFTER)) | (s.f[i + taken - 1]! & (F_COLON_AFTER | F_COMMA_AFTER));
          break;
        }
      }
    }
    const origin = s.o[i]!;
    i += taken;
    if (lx.fillers.has(w)) {
      carry |= f & (F_BREAK_BEFORE | F_AT_BEFORE | F_COMMA_BEFORE);
      continue;
    }
    out.push(w, f | carry, origin);
    carry = 0;
  }
  return out;
}
