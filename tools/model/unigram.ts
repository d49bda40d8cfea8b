/**
 * A small Unigram language-model trainer in the manner of SentencePiece (`--model_type=unigram`):
 * seed with frequent substrings of whitespace-delimited words (each word prefixed with `▁`), then
 * alternate EM (forward–backward expected piece counts → log-probabilities) with pruning of the
 * least used pieces until the vocabulary has the wanted size. Every character of the corpus stays
 * a piece, so the corpus never needs `<unk>`. Hand-written because npm has no maintained JS
 * SentencePiece trainer (the npm packages only load trained models to encode).
 */

export const WORD_BOUNDARY = '▁';

export interface Piece {
  piece: string;
  /** Log-probability of the piece under the unigram model. */
  score: number;
}

export interface UnigramOptions {
  vocabSize: number;
  maxPieceLength?: number;
  /** How many EM rounds to run once the vocabulary has its final size. */
  finalIterations?: number;
}

/** Text → NFKC words with the `▁` prefix, as the Metaspace pre-tokenizer sees them. */
export function corpusWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.normalize('NFKC').split(/\s+/u)) {
    if (word === '') continue;
    const key = WORD_BOUNDARY + word;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function logSumExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const max = Math.max(a, b);
  return max + Math.log(Math.exp(a - max) + Math.exp(b - max));
}

/** Expected count of every piece over all words (forward–backward on each word's lattice). */
function expectedCounts(words: Map<string, number>, scores: Map<string, number>, maxLen: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [word, frequency] of words) {
    const chars = Array.from(word);
    const n = chars.length;
    const alpha = new Array<number>(n + 1).fill(-Infinity);
    const beta = new Array<number>(n + 1).fill(-Infinity);
    alpha[0] = 0;
    beta[n] = 0;
    const edges: { start: number; end: number; piece: string; score: number }[] = [];
    for (let start = 0; start < n; start++) {
      let piece = '';
      for (let end = start + 1; end <= Math.min(n, start + maxLen); end++) {
        piece += chars[end - 1];
        const score = scores.get(piece);
        if (score !== undefined) edges.push({ start, end, piece, score });
      }
    }
    for (const e of edges) alpha[e.end] = logSumExp(alpha[e.end] as number, (alpha[e.start] as number) + e.score);
    for (let i = edges.length - 1; i >= 0; i--) {
      const e = edges[i] as (typeof edges)[number];
      beta[e.start] = logSumExp(beta[e.start] as number, (beta[e.end] as number) + e.score);
    }
    const total = alpha[n] as number;
    if (total === -Infinity) continue;
    for (const e of edges) {
      const posterior = Math.exp((alpha[e.start] as number) + e.score + (beta[e.end] as number) - total);
      if (posterior > 0) counts.set(e.piece, (counts.get(e.piece) ?? 0) + frequency * posterior);
    }
  }
  return counts;
}

function toLogProbabilities(counts: Map<string, number>, pieces: Iterable<string>): Map<string, number> {
  const list = Array.from(pieces);
  let total = 0;
  for (const piece of list) total += counts.get(piece) ?? 0;
  const scores = new Map<string, number>();
  for (const piece of list) {
    // A floor keeps pieces that lost all mass reachable, with a very low score.
    scores.set(piece, Math.log(Math.max(counts.get(piece) ?? 0, 1e-6) / total));
  }
  return scores;
}

/** Substrings of the words (length ≥ 2) ranked by frequency × length, SentencePiece's seed criterion. */
export function substringCandidates(words: Map<string, number>, maxLen: number): string[] {
  const seeds = new Map<string, number>();
  for (const [word, frequency] of words) {
    const chars = Array.from(word);
    for (let start = 0; start < chars.length; start++) {
      let piece = chars[start] as string;
      for (let end = start + 2; end <= Math.min(chars.length, start + maxLen); end++) {
        piece += chars[end - 1];
        seeds.set(piece, (seeds.get(piece) ?? 0) + frequency * (end - start));
      }
    }
  }
  return Array.from(seeds.entries())
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([piece]) => piece);
}

export function trainUnigram(text: string, options: UnigramOptions): Piece[] {
  const maxLen = options.maxPieceLength ?? 16;
  const words = corpusWords(text);
  const characters = new Set<string>();
  for (const word of words.keys()) for (const char of word) characters.add(char);
  if (characters.size > options.vocabSize) {
    throw new Error(`the corpus has ${characters.size} distinct characters, more than a vocabulary of ${options.vocabSize}`);
  }

  const seeds = substringCandidates(words, maxLen).slice(0, Math.max(options.vocabSize * 4, 10_000));
  let pieces = new Set<string>([...characters, ...seeds]);
  let scores = new Map(Array.from(pieces, (p): [string, number] => [p, -Math.log(pieces.size)]));
  const counted = (s: Map<string, number>) => expectedCounts(words, s, maxLen);

  // EM with pruning: drop the quarter of the multi-character pieces with the lowest expected counts.
  while (pieces.size > options.vocabSize) {
    const counts = counted(scores);
    scores = toLogProbabilities(counts, pieces);
    const removable = Array.from(pieces)
      .filter((p) => !characters.has(p))
      .sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || (a < b ? -1 : 1));
    const excess = pieces.size - options.vocabSize;
    const drop = new Set(removable.slice(0, Math.min(excess, Math.max(1, Math.floor(removable.length / 4)))));
    pieces = new Set(Array.from(pieces).filter((p) => !drop.has(p)));
    scores = toLogProbabilities(counts, pieces);
  }
  for (let i = 0; i < (options.finalIterations ?? 2); i++) scores = toLogProbabilities(counted(scores), pieces);

  return Array.from(scores.entries())
    .map(([piece, score]) => ({ piece, score }))
    .sort((a, b) => b.score - a.score || (a.piece < b.piece ? -1 : 1));
}

/** Best segmentation of one `▁`-prefixed word under the given scores (Viterbi). */
export function segmentWord(word: string, scores: Map<string, number>, maxLen = 16): string[] | null {
  const chars = Array.from(word);
  const n = chars.length;
  const best = new Array<number>(n + 1).fill(-Infinity);
  const back = new Array<number>(n + 1).fill(-1);
  best[0] = 0;
  for (let end = 1; end <= n; end++) {
    for (let start = Math.max(0, end - maxLen); start < end; start++) {
      const score = scores.get(chars.slice(start, end).join(''));
      if (score === undefined || best[start] === -Infinity) continue;
      const total = (best[start] as number) + score;
      if (total > (best[end] as number)) {
        best[end] = total;
        back[end] = start;
      }
    }
  }
  if (best[n] === -Infinity) return null;
  const pieces: string[] = [];
  for (let end = n; end > 0; end = back[end] as number) pieces.unshift(chars.slice(back[end] as number, end).join(''));
  return pieces;
}
