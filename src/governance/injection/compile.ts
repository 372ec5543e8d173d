// Compiles the lexicon (lexicon.ts) once, on first use: words and phrases folded like scanned text, each mapped to its
// concepts; rules parsed into per-slot concept masks and indexed by concept; the dictionary (with a trie, its
// prefixes and its l-for-i look-alikes) used to repair split and glued words; chat-template markers by first
// character.
import { ADDRESSED, CONCEPTS, FILLERS, MARKER, MARKERS, RULES, type RuleSpec } from "./lexicon.js";
import { foldText } from "./normalise.js";
import { tokenize } from "./tokenize.js";

export const TOOL_PREFIXES = ["sentinel_", "governance_"];

export interface CompiledRule {
  category: string;
  weight: number;
  pattern: string;
  unordered: boolean;
  window: number;
  /** slots[s][conceptId] = 1 when the concept fills slot s. */
  slots: Uint8Array[];
  gaps: number[];
  neg: number;
  unlessNext?: Set<string>;
  /** Offset of this rule's state in the per-scan state array. */
  state: number;
}

export interface TrieNode {
  next: Map<number, TrieNode>;
  word: boolean;
}

/** What the lexicon knows about one word (or collapsed phrase). */
export interface WordInfo {
  concepts: number[];
  ai: boolean;
  roleLabel: boolean;
  neg: boolean;
}

export interface Lexicon {
  words: Map<string, WordInfo>;
  /** First word → phrases starting with it (as word lists), longest first. */
  phrases: Map<string, string[][]>;
  fillers: Set<string>;
  /** Every known single word: the dictionary for repairing split and glued words. */
  dict: Set<string>;
  /** Dictionary words with some "i" written as "l" ("lgnore", "dlsregard") → the word. */
  lookalikes: Map<string, string>;
  trie: TrieNode;
  /** Every proper prefix of a dictionary word: a word that is not one cannot start a join. */
  prefixes: Set<string>;
  rules: CompiledRule[];
  /** Concept id → the rules with a slot it fills. */
  byConcept: number[][];
  stateSize: number;
  markersByFirst: Map<number, { text: string; rule: number }[]>;
  /** markerStart[c] = 1 when some marker starts with character code c (c < 128). */
  markerStart: Uint8Array;
  toolName: number;
  dest: number;
  aiAddr: number;
  labelRule: number;
  vocativeRule: number;
}

/** Folded and tokenized form of a lexicon entry: one word, or a phrase of several. */
function entryWords(entry: string): string[] {
  return tokenize(foldText(entry)).words;
}

let compiled: Lexicon | undefined;

export function lexicon(): Lexicon {
  if (compiled) return compiled;
  const conceptIds = new Map<string, number>();
  const idOf = (name: string): number => {
    let id = conceptIds.get(name);
    if (id === undefined) {
      id = conceptIds.size;
      conceptIds.set(name, id);
    }
    return id;
  };
  const conceptsOf = new Map<string, number[]>();
  const phraseList: string[][] = [];
  const dict = new Set<string>();
  const addWord = (entry: string, concept: number) => {
    const words = entryWords(entry);
    if (words.length === 0) return;
    for (const w of words) dict.add(w);
    const key = words.join(" ");
    if (words.length > 1) phraseList.push(words);
    const list = conceptsOf.get(key) ?? [];
    if (!list.includes(concept)) list.push(concept);
    conceptsOf.set(key, list);
  };
  for (const [name, entries] of Object.entries(CONCEPTS)) {
    const id = idOf(name);
    for (const e of entries) addWord(e, id);
  }
  const toolName = idOf("TOOLNAME");

  const rules: CompiledRule[] = [];
  const slotIdsOf: number[][][] = [];
  let stateSize = 0;
  for (const spec of RULES) {
    const { rule, slotIds } = compileRule(spec, conceptIds, idOf, addWord, stateSize);
    rules.push(rule);
    slotIdsOf.push(slotIds);
    stateSize += slotIds.length;
  }
  // Pseudo-rules fired outside the word matcher: a role label opening a line or sentence ("SYSTEM:"), the AI
  // addressed as a vocative ("Assistant, …", "triage agent:", "@assistant"), and each chat-template marker.
  const pseudo = (category: string, weight: number, pattern: string): number => {
    rules.push({ category, weight, pattern, unordered: false, window: 0, slots: [], gaps: [], neg: -1, state: 0 });
    return rules.length - 1;
  };
  const labelRule = pseudo(MARKER, 0.5, "role label (SYSTEM: opening a line)");
  const vocativeRule = pseudo(ADDRESSED, 0.5, "AI addressed (Assistant, … / agent: / @assistant)");
  const markersByFirst = new Map<number, { text: string; rule: number }[]>();
  for (const [text, weight] of MARKERS) {
    const rule = pseudo(MARKER, weight, `marker ${text}`);
    const c = text.charCodeAt(0);
    const list = markersByFirst.get(c) ?? [];
    list.push({ text, rule });
    markersByFirst.set(c, list);
  }

  const n = conceptIds.size;
  const byConcept: number[][] = Array.from({ length: n }, () => []);
  slotIdsOf.forEach((slotIds, ri) => {
    rules[ri]!.slots = slotIds.map((alts) => {
      const mask = new Uint8Array(n);
      for (const id of alts) {
        mask[id] = 1;
        if (!byConcept[id]!.includes(ri)) byConcept[id]!.push(ri);
      }
      return mask;
    });
  });

  const fillers = new Set<string>();
  for (const f of FILLERS) {
    const words = entryWords(f);
    const key = words.join(" ");
    if (conceptsOf.has(key)) throw new Error(`injection lexicon: filler "${f}" is also a concept word`);
    if (words.length > 1) phraseList.push(words);
    for (const w of words) dict.add(w);
    fillers.add(key);
  }

  const phrases = new Map<string, string[][]>();
  for (const p of phraseList) {
    const list = phrases.get(p[0]!) ?? [];
    if (!list.some((q) => q.join(" ") === p.join(" "))) list.push(p);
    phrases.set(p[0]!, list);
  }
  for (const list of phrases.values()) list.sort((a, b) => b.length - a.length);

  const id = (name: string) => conceptIds.get(name)!;
  const ai = [id("AI_STRONG"), id("AI_WEAK")];
  const words = new Map<string, WordInfo>();
  for (const [key, concepts] of conceptsOf)
    words.set(key, {
      concepts,
      ai: concepts.some((c) => ai.includes(c)),
      roleLabel: concepts.includes(id("ROLE_LABEL")),
      neg: concepts.includes(id("NEG")),
    });

  compiled = {
    words,
    phrases,
    fillers,
    dict,
    lookalikes: lookalikes(dict),
    trie: trieOf(dict),
    prefixes: prefixesOf(dict),
    rules,
    byConcept,
    stateSize,
    markersByFirst,
    markerStart: Uint8Array.from({ length: 128 }, (_, c) => (markersByFirst.has(c) ? 1 : 0)),
    toolName,
    dest: id("DEST"),
    aiAddr: id("AI_ADDR"),
    labelRule,
    vocativeRule,
  };
  return compiled;
}

/**
 * Parses a rule pattern: slots are concepts (UPPER) or literal words (lower), alternatives joined by "|", numbers
 * between slots are the most words allowed in between (default 3); "{N}" first makes it unordered within N words.
 */
function compileRule(
  spec: RuleSpec,
  conceptIds: Map<string, number>,
  idOf: (name: string) => number,
  addWord: (entry: string, concept: number) => void,
  state: number,
): { rule: CompiledRule; slotIds: number[][] } {
  let parts = spec.pattern.trim().split(" ");
  let unordered = false;
  let window = 0;
  const head = parts[0]!;
  if (head.startsWith("{") && head.endsWith("}")) {
    unordered = true;
    window = Number(head.slice(1, -1));
    parts = parts.slice(1);
  }
  const slotIds: number[][] = [];
  const gaps: number[] = [];
  let gap = 3;
  for (const p of parts) {
    if (!p) continue;
    if (/^[0-9]+$/.test(p)) {
      gap = Number(p);
      continue;
    }
    const ids = p.split("|").map((a) => {
      if (/^[A-Z_]+$/.test(a)) {
        const cid = conceptIds.get(a);
        if (cid === undefined) throw new Error(`injection lexicon: unknown concept ${a} in "${spec.pattern}"`);
        return cid;
      }
      const lid = idOf(`=${a}`);
      addWord(a, lid);
      return lid;
    });
    slotIds.push(ids);
    gaps.push(slotIds.length === 1 ? 0 : gap);
    gap = 3;
  }
  const rule: CompiledRule = {
    category: spec.category,
    weight: spec.weight,
    pattern: spec.pattern,
    unordered,
    window,
    slots: [],
    gaps,
    neg: spec.neg ?? -1,
    state,
    ...(spec.unlessNext ? { unlessNext: new Set(spec.unlessNext.map((w) => entryWords(w).join(" "))) } : {}),
  };
  return { rule, slotIds };
}

/** Every way of writing some of a word's (at most four) "i"s as "l", mapped back to the word. */
function lookalikes(dict: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of dict) {
    const at: number[] = [];
    for (let i = 0; i < w.length; i++) if (w[i] === "i") at.push(i);
    if (at.length === 0 || at.length > 4) continue;
    for (let mask = 1; mask < 1 << at.length; mask++) {
      const chars = w.split("");
      at.forEach((pos, k) => {
        if (mask & (1 << k)) chars[pos] = "l";
      });
      const v = chars.join("");
      if (!dict.has(v) && !out.has(v)) out.set(v, w);
    }
  }
  return out;
}

function prefixesOf(dict: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const w of dict) for (let i = 1; i < w.length; i++) out.add(w.slice(0, i));
  return out;
}

function trieOf(dict: Set<string>): TrieNode {
  const trie: TrieNode = { next: new Map(), word: false };
  for (const w of dict) {
    if (w.length < 2) continue;
    let node = trie;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      let nx = node.next.get(c);
      if (!nx) {
        nx = { next: new Map(), word: false };
        node.next.set(c, nx);
      }
      node = nx;
    }
    node.word = true;
  }
  return trie;
}

/** The trie node reached from `node` through the characters of `w`, if any. */
export function walk(node: TrieNode | undefined, w: string): TrieNode | undefined {
  for (let i = 0; i < w.length && node; i++) node = node.next.get(w.charCodeAt(i));
  return node;
}
