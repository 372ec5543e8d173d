// Scores one string for prompt-injection signals. Token-based and linear in the text's length:
//
//   fold (normalise.ts) → words (tokenize.ts) → repair words split or glued to dodge matching, collapse phrases,
//   drop filler words (repair.ts) → look each word up in the compiled lexicon's concepts (compile.ts, lexicon.ts) →
//   run every rule over the word stream in one pass (each rule keeps O(slots) state; a word only touches the rules
//   whose slots its concepts appear in) → sum the weights of what fired inside each window of WINDOW words → flag
//   when a window reaches THRESHOLD.
//
// Windows keep the score local: in a long log blob, a weak signal on line 3 and another on line 900 do not add up.
// No regular expression in these modules has a nested quantifier, and no step looks back or ahead more than a
// constant number of words (repair.ts bounds dictionary splits by MAX_SEGMENT_LEN), so adversarial input cannot make
// the work superlinear.
import { type CompiledRule, type Lexicon, lexicon } from "./compile.js";
import { foldText } from "./normalise.js";
import { collapse, F_KNOWN, F_TOOL, join, type Stream, split } from "./repair.js";
import { F_AT_BEFORE, F_BREAK_BEFORE, F_COLON_AFTER, F_COMMA_AFTER, F_COMMA_BEFORE, tokenize } from "./tokenize.js";

/** A window's score at or above this flags the string. Tuned on the corpus's tuning data. */
export const THRESHOLD = 1.0;
/** Words per scoring window; windows start every WINDOW/2 words, so any span of WINDOW/2 words is scored whole. */
export const WINDOW = 64;
const STRIDE = WINDOW / 2;
/** At most this many blanks are skipped between two characters of a marker ("< | im_start | >"). */
const MARKER_BLANKS = 3;
/** Weight of the k-th strongest distinct signal in one category: 1, 1/2, 1/4… (repetition is not evidence). */
const DECAY = 0.5;
/** Scans reuse the rule state (scoreText is synchronous, so never re-entered). */
let stateBuf = new Int32Array(0);
let stampBuf = new Int32Array(0);

/** Chat-template markers in the folded text, as [character offset, pseudo-rule] pairs in text order. */
function findMarkers(text: string, lx: Lexicon): number[] {
  const found: number[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || !lx.markerStart[c]) continue;
    const cands = lx.markersByFirst.get(c)!;
    for (const { text: m, rule } of cands) {
      let j = i + 1;
      let k = 1;
      for (; k < m.length; k++, j++) {
        for (let b = 0; b < MARKER_BLANKS && j < n && isBlank(text.charCodeAt(j)); b++) j++;
        if (j >= n || text.charCodeAt(j) !== m.charCodeAt(k)) break;
      }
      if (k === m.length) found.push(i, rule);
    }
  }
  return found;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

export interface Score {
  /** The highest window score. */
  score: number;
  /** Categories that contributed in windows reaching THRESHOLD, strongest first; empty when clean. */
  signals: string[];
  /** Patterns that fired in the best-scoring window (for tuning and explanations). */
  fired: string[];
}

/** Scores a string. Work is linear in its length; callers bound the length (see untrusted.ts). */
export function scoreText(input: string): Score {
  const lx = lexicon();
  const text = foldText(input);
  const raw = tokenize(text);
  const s = collapse(join(split(raw, lx), lx), lx);
  // Markers, placed at the first word at or after them: [word position, rule] pairs in order.
  const markers = findMarkers(text, lx);
  const marks: number[] = [];
  if (markers.length) {
    let wi = 0;
    let ri = 0;
    for (let m = 0; m < markers.length; m += 2) {
      while (ri < raw.length && raw.starts[ri]! < markers[m]!) ri++;
      while (wi < s.length && s.o[wi]! < ri) wi++;
      marks.push(wi, markers[m + 1]!);
    }
  }
  // Word events, in order: [word position, rule] pairs.
  const events: number[] = [];

  if (stateBuf.length !== lx.stateSize) stateBuf = new Int32Array(lx.stateSize);
  if (stampBuf.length !== lx.rules.length) stampBuf = new Int32Array(lx.rules.length);
  const state = stateBuf.fill(-1);
  const stamp = stampBuf.fill(-1);
  const scratch: number[] = [];
  let lastNeg = -100;
  const n = s.length;
  for (let p = 0; p < n; p++) {
    const f = s.f[p]!;
    const info = f & F_KNOWN ? lx.words.get(s.w[p]!) : undefined;
    if (!info && !(f & (F_TOOL | F_AT_BEFORE))) continue;
    let concepts = info ? info.concepts : scratch;
    if (f & (F_TOOL | F_AT_BEFORE) || info?.ai || info?.roleLabel) {
      scratch.length = 0;
      if (info) for (const c of info.concepts) scratch.push(c);
      if (f & F_TOOL) scratch.push(lx.toolName);
      if (f & F_AT_BEFORE) scratch.push(lx.dest);
      // "SYSTEM:" / "Assistant:" opening a line or sentence is a role label; "Assistant, …", "triage agent:" and
      // "@assistant" address the AI. Either way the word also counts as AI_ADDR for the rules that follow it.
      if (f & F_BREAK_BEFORE && f & F_COLON_AFTER && (info?.ai || info?.roleLabel)) {
        events.push(p, lx.labelRule);
        scratch.push(lx.aiAddr);
      } else if (
        info?.ai &&
        (f & F_COLON_AFTER || (f & (F_BREAK_BEFORE | F_COMMA_BEFORE) && f & F_COMMA_AFTER) || f & F_AT_BEFORE)
      ) {
        events.push(p, lx.vocativeRule);
        scratch.push(lx.aiAddr);
      }
      concepts = scratch;
    }
    const negated = p - lastNeg <= 2;
    for (const c of concepts) {
      for (const ri of lx.byConcept[c]!) {
        if (stamp[ri] === p) continue;
        stamp[ri] = p;
        if (matchRule(lx.rules[ri]!, p, concepts, negated, state, s)) events.push(p, ri);
      }
    }
    if (info?.neg) lastNeg = p;
  }
  return scoreEvents(merge(marks, events), lx);
}

function inSlot(slot: Uint8Array, concepts: number[]): boolean {
  for (const c of concepts) if (slot[c]) return true;
  return false;
}

/** Advances one rule's state with the word at p; true when the rule completes at p. */
function matchRule(
  rule: CompiledRule,
  p: number,
  concepts: number[],
  negated: boolean,
  state: Int32Array,
  s: Stream,
): boolean {
  const k = rule.slots.length;
  const o = rule.state;
  let fired = false;
  if (rule.unordered) {
    let touched = false;
    for (let i = 0; i < k; i++) {
      if (!inSlot(rule.slots[i]!, concepts) || (i === rule.neg && negated)) continue;
      state[o + i] = p;
      touched = true;
    }
    if (!touched) return false;
    fired = true;
    for (let i = 0; i < k && fired; i++) {
      const at = state[o + i]!;
      if (at < 0 || p - at >= rule.window) fired = false;
      for (let t = 0; t < i && fired; t++) if (state[o + t] === at) fired = false;
    }
  } else {
    for (let i = k - 1; i >= 0; i--) {
      if (!inSlot(rule.slots[i]!, concepts) || (i === rule.neg && negated)) continue;
      if (i === 0) {
        if (k === 1) fired = true;
        else state[o] = p;
        continue;
      }
      const prev = state[o + i - 1]!;
      if (prev < 0 || prev >= p || p - prev - 1 > rule.gaps[i]!) continue;
      if (i === k - 1) fired = true;
      else state[o + i] = p;
    }
  }
  if (fired && rule.unlessNext && p + 1 < s.length && rule.unlessNext.has(s.w[p + 1]!)) return false;
  return fired;
}

function windowScore(fired: Set<number>, lx: Lexicon): { score: number; byCat: Map<string, number> } {
  const perCat = new Map<string, number[]>();
  for (const ri of fired) {
    const r = lx.rules[ri]!;
    const list = perCat.get(r.category);
    if (list) list.push(r.weight);
    else perCat.set(r.category, [r.weight]);
  }
  let score = 0;
  const byCat = new Map<string, number>();
  for (const [cat, ws] of perCat) {
    ws.sort((x, y) => y - x);
    let sum = 0;
    let f = 1;
    for (const w of ws) {
      sum += w * f;
      f *= DECAY;
    }
    byCat.set(cat, sum);
    score += sum;
  }
  return { score, byCat };
}

/** Merges two [position, rule] pair lists that are each in position order. */
function merge(a: number[], b: number[]): number[] {
  if (a.length === 0) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) {
      out.push(a[i]!, a[i + 1]!);
      i += 2;
    } else {
      out.push(b[j]!, b[j + 1]!);
      j += 2;
    }
  }
  return out;
}

function scoreEvents(events: number[], lx: Lexicon): Score {
  if (events.length === 0) return { score: 0, signals: [], fired: [] };
  // Windows [b·STRIDE, b·STRIDE + WINDOW) for every bucket b holding an event: each event is in at most two.
  const flagged = new Map<string, number>();
  let best = 0;
  let bestFired = new Set<number>();
  let lo = 0;
  let lastStart = -1;
  for (let e = 0; e < events.length; e += 2) {
    const start = Math.floor(events[e]! / STRIDE) * STRIDE;
    if (start === lastStart) continue;
    lastStart = start;
    while (lo < events.length && events[lo]! < start) lo += 2;
    const inWin = new Set<number>();
    for (let i = lo; i < events.length && events[i]! < start + WINDOW; i += 2) inWin.add(events[i + 1]!);
    const { score, byCat } = windowScore(inWin, lx);
    if (score > best) {
      best = score;
      bestFired = inWin;
    }
    if (score >= THRESHOLD) for (const [cat, v] of byCat) flagged.set(cat, Math.max(flagged.get(cat) ?? 0, v));
  }
  const signals = [...flagged.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c]) => c);
  return { score: best, signals, fired: [...bestFired].map((ri) => lx.rules[ri]!.pattern) };
}

/** The compiled lexicon's size: distinct words and phrases, rules (including markers and pseudo-rules). */
export function lexiconStats(): { words: number; rules: number } {
  const lx = lexicon();
  return { words: lx.words.size, rules: lx.rules.length };
}
