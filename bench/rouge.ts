import { stemmer } from 'stemmer';

/**
 * ROUGE-1, ROUGE-2 and ROUGE-Lsum as computed by Google's `rouge-score` (itself a re-implementation of
 * ROUGE-1.5.5): lower-case, every run of non-alphanumeric characters becomes a space, n-gram counts are
 * clipped, Lsum is the summary-level union LCS over sentences with ROUGE-1.5.5's guard against
 * counting a token twice. Two tokenizations:
 * - `ascii` is rouge-score's exactly (`[^a-z0-9]+` → space), so English figures compare with published
 *   ones; with `stem`, tokens longer than 3 characters go through the Porter stemmer (the original
 *   algorithm, as ROUGE-1.5.5 `-m`; rouge-score uses NLTK's variant, which differs on a few rare words).
 * - `unicode` keeps every letter, digit and combining mark (`[^\p{L}\p{N}\p{M}]+` → space). rouge-score's
 *   default would delete the non-ASCII letters of Vietnamese (`được` → `c`), so Vietnamese is scored
 *   with this one: tokens are syllables with their diacritics. No stemming.
 * Several references are scored as rouge-score's `score_multi` does: for each measure, the reference
 * with the highest F1 (`scoreRougeMulti`). Arabic texts go through `normalizeArabicForRouge` first,
 * on both sides, as the EASC references were written that way.
 */

export type RougeTokenization = 'ascii' | 'unicode';

export interface RougeOptions {
  tokenization: RougeTokenization;
  stem: boolean;
}

export interface RougeScore {
  precision: number;
  recall: number;
  f1: number;
}

export interface RougeScores {
  rouge1: RougeScore;
  rouge2: RougeScore;
  rougeLsum: RougeScore;
}

const asciiSeparators = /[^a-z0-9]+/g;
const unicodeSeparators = /[^\p{L}\p{N}\p{M}]+/gu;

export function rougeTokens(text: string, options: RougeOptions): string[] {
  const lower = options.tokenization === 'ascii' ? text.toLowerCase() : text.normalize('NFC').toLowerCase();
  const spaced = lower.replace(options.tokenization === 'ascii' ? asciiSeparators : unicodeSeparators, ' ');
  const tokens = spaced.split(' ').filter((token) => token.length > 0);
  return options.stem ? tokens.map((token) => (token.length > 3 ? stemmer(token) : token)) : tokens;
}

function score(hits: number, candidateCount: number, referenceCount: number): RougeScore {
  const precision = hits / Math.max(candidateCount, 1);
  const recall = hits / Math.max(referenceCount, 1);
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

function countNgrams(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const gram = tokens.slice(i, i + n).join(' ');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

export function rougeN(reference: string[], candidate: string[], n: number): RougeScore {
  const referenceGrams = countNgrams(reference, n);
  const candidateGrams = countNgrams(candidate, n);
  let hits = 0;
  for (const [gram, count] of referenceGrams) hits += Math.min(count, candidateGrams.get(gram) ?? 0);
  const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, c) => sum + c, 0);
  return score(hits, total(candidateGrams), total(referenceGrams));
}

/** Indices into `reference` of one LCS with `candidate`, read back exactly as rouge-score does. */
export function lcsIndices(reference: string[], candidate: string[]): number[] {
  const rows = reference.length;
  const cols = candidate.length;
  const table = Array.from({ length: rows + 1 }, () => new Uint32Array(cols + 1));
  for (let i = 1; i <= rows; i++) {
    for (let j = 1; j <= cols; j++) {
      table[i]![j] = reference[i - 1] === candidate[j - 1] ? table[i - 1]![j - 1]! + 1 : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
    }
  }
  const indices: number[] = [];
  let i = rows;
  let j = cols;
  while (i > 0 && j > 0) {
    if (reference[i - 1] === candidate[j - 1]) {
      indices.push(i - 1);
      i--;
      j--;
    } else if (table[i]![j - 1]! > table[i - 1]![j]!) {
      j--;
    } else {
      i--;
    }
  }
  return indices.reverse();
}

function tokenCounts(sentences: string[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sentence of sentences) for (const token of sentence) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

/** Summary-level LCS (ROUGE paper §3.2) over tokenized sentences. */
export function rougeLsum(reference: string[][], candidate: string[][]): RougeScore {
  const referenceCount = reference.reduce((sum, s) => sum + s.length, 0);
  const candidateCount = candidate.reduce((sum, s) => sum + s.length, 0);
  if (referenceCount === 0 || candidateCount === 0) return { precision: 0, recall: 0, f1: 0 };
  const referenceLeft = tokenCounts(reference);
  const candidateLeft = tokenCounts(candidate);
  let hits = 0;
  for (const sentence of reference) {
    const union = new Set<number>();
    for (const other of candidate) for (const index of lcsIndices(sentence, other)) union.add(index);
    for (const index of [...union].sort((a, b) => a - b)) {
      const token = sentence[index]!;
      // ROUGE-1.5.5 credits a token at most as often as it occurs on both sides.
      if ((candidateLeft.get(token) ?? 0) > 0 && (referenceLeft.get(token) ?? 0) > 0) {
        hits++;
        candidateLeft.set(token, candidateLeft.get(token)! - 1);
        referenceLeft.set(token, referenceLeft.get(token)! - 1);
      }
    }
  }
  return score(hits, candidateCount, referenceCount);
}

/** Scores a candidate against a reference, each given as its sentences (Lsum's units). */
export function scoreRouge(reference: string[], candidate: string[], options: RougeOptions): RougeScores {
  const referenceSentences = reference.map((sentence) => rougeTokens(sentence, options));
  const candidateSentences = candidate.map((sentence) => rougeTokens(sentence, options));
  const referenceTokens = referenceSentences.flat();
  const candidateTokens = candidateSentences.flat();
  return {
    rouge1: rougeN(referenceTokens, candidateTokens, 1),
    rouge2: rougeN(referenceTokens, candidateTokens, 2),
    rougeLsum: rougeLsum(
      referenceSentences.filter((s) => s.length > 0),
      candidateSentences.filter((s) => s.length > 0),
    ),
  };
}

/**
 * Against several references, as rouge-score's `score_multi`: for each measure, the score against the
 * reference where its F1 is highest (the first of equals).
 */
export function scoreRougeMulti(references: string[][], candidate: string[], options: RougeOptions): RougeScores {
  const all = references.map((reference) => scoreRouge(reference, candidate, options));
  const best = (measure: keyof RougeScores) => all.reduce((top, scores) => (scores[measure].f1 > top[measure].f1 ? scores : top))[measure];
  return { rouge1: best('rouge1'), rouge2: best('rouge2'), rougeLsum: best('rougeLsum') };
}

/** Tatweel, harakat and Quranic marks. */
const arabicMarks = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]/gu;

/**
 * The spelling EASC's references use: tatweel and diacritics dropped, alef with hamza or madda
 * (أ إ آ) written as bare alef. Without it a summary that copies the article's `أعلن` misses the
 * reference's `اعلن`.
 */
export function normalizeArabicForRouge(text: string): string {
  return text.normalize('NFC').replace(arabicMarks, '').replace(/[أإآ]/gu, 'ا');
}
