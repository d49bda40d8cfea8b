import { sentencesOf, type LanguageCode, type SummarizedArticle, type TranslatedArticle } from '../article.js';
import { guessLanguage, languageByCode, type TermRules } from '../languages.js';

/**
 * Extractive summary (stage 6): choose the sentences that carry the article. Each sentence is scored by
 * its centrality (continuous LexRank over TF-IDF cosine similarity between sentences), a prior on its
 * position (news puts the point first), and its similarity to the title when there is one. A long
 * sentence's centrality is scaled down towards the article's median length. Sentences
 * with very few content words, or that open with a quotation (somebody's words rather than the
 * report), are scaled down. Sentences are then picked greedily by maximal marginal relevance:
 * similarity to a sentence already chosen costs, and a near-copy of one is never chosen.
 */

export interface SummaryLength {
  /** Sentences in the summary. */
  sentences: number;
  /** Fraction of the article's sentences; the summary has the larger of the two counts. */
  ratio: number;
}

export interface SummaryOptions extends SummaryLength {
  /** ISO 639-1 code of the sentences; guessed from the script when missing or `und`. */
  lang?: LanguageCode;
  title?: string | null;
}

/**
 * Set on the development sets (99 CNN/DailyMail and 181 VietNews articles, `npm run eval:summarize`);
 * each value sits on a plateau of its neighbours rather than on a peak.
 */
const ranking = {
  /** Weight of the prior `1 / (1 + index)` against centrality, which is scaled to 0–1 (at three sentences; see `leadScale`). */
  position: 2,
  /** Weight of the cosine similarity to the title. */
  title: 2,
  /** MMR: how much the similarity to the closest sentence already chosen costs. */
  redundancy: 0.5,
  /** Above this cosine to a chosen sentence, a candidate says the same thing and is never chosen. */
  duplicate: 0.4,
  /** Sentences with fewer content terms than this are scaled down in proportion. */
  minTerms: 4,
  /** Multiplier for a sentence that opens with a quotation mark. */
  quote: 0.5,
  /**
   * The centrality of a sentence with more content terms than the article's median is scaled by
   * `(median / terms) ** longSentence`: a long sentence shares terms with more of the others, so LexRank
   * ranks it high for its length as much as for its content. Set on CNN/DM and VietNews; EASC, not
   * used to set it, gained too (bench/RESULTS.md, "Long sentences").
   */
  longSentence: 0.5,
};

/**
 * The prior for a longer summary: asked for N sentences, the first N are its lead as the first three
 * are for three. Positions are counted in units of `size / 3` and the weight grows with its square.
 * Without it the summary leaned away from the lead as it grew (below Lead-4 and Lead-5 on CNN/DM,
 * below Lead-5 on EASC); the square was set on CNN/DM, VietNews and EASC at 4 and 5 sentences together.
 * Summaries of three sentences or fewer are untouched; past five the factor stays at five's, which is
 * as far as it was measured.
 */
function leadScale(size: number): number {
  return Math.min(Math.max(size / 3, 1), 5 / 3);
}

/**
 * Only the first this many sentences are candidates, so no summary is longer: the position prior has
 * faded to nothing past them, and the similarity matrix grows with the square of the count.
 */
const MAX_CANDIDATES = 1000;

export function summarySize(total: number, length: SummaryLength): number {
  return Math.min(total, Math.max(length.sentences, Math.ceil(length.ratio * total)));
}

const wordPattern = /[\p{L}\p{M}\p{N}]+/gu;

/** Turns sentences into content terms by the language's rules (see `terms` in languages.ts). */
class TermExtractor {
  private readonly stems = new Map<string, string>();

  constructor(private readonly rules: TermRules | undefined) {}

  terms(sentence: string): string[] {
    const words = sentence.normalize('NFC').toLowerCase().match(wordPattern) ?? [];
    const rules = this.rules;
    if (!rules) return words;
    const { normalize, isTerm, stem } = rules;
    const terms = (normalize ? words.map(normalize) : words).filter(isTerm);
    return stem ? terms.map((word) => this.stem(word, stem)) : terms;
  }

  private stem(word: string, stem: (word: string) => string): string {
    let result = this.stems.get(word);
    if (result === undefined) {
      result = stem(word);
      this.stems.set(word, result);
    }
    return result;
  }
}

/** The term rules of `lang`, or of the language `sample` is written in when `lang` is missing or `und`. */
function termRules(lang: LanguageCode | undefined, sample: string): TermRules | undefined {
  const known = lang === undefined || lang === 'und' ? guessLanguage(sample) : lang;
  return known === undefined ? undefined : languageByCode(known)?.terms;
}

/** The terms the summarizer compares for one sentence (`lang` as in {@link SummaryOptions}). */
export function contentTerms(sentence: string, lang?: LanguageCode): string[] {
  return new TermExtractor(termRules(lang, sentence)).terms(sentence);
}

/** L2-normalised TF-IDF vector as parallel arrays of term ids and weights. */
interface TermVector {
  ids: number[];
  weights: number[];
}

function tfidf(terms: string[], vocabulary: Map<string, number>, idf: number[]): TermVector {
  const counts = new Map<number, number>();
  for (const term of terms) {
    const id = vocabulary.get(term);
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + idf[id]!);
  }
  const ids = [...counts.keys()];
  const weights = [...counts.values()];
  const norm = Math.sqrt(weights.reduce((sum, w) => sum + w * w, 0));
  return { ids, weights: norm > 0 ? weights.map((w) => w / norm) : weights };
}

/** Cosine similarity of every pair, accumulated term by term so the cost follows shared terms only. */
function similarityMatrix(vectors: TermVector[], vocabularySize: number): Float64Array[] {
  const n = vectors.length;
  const postings: { sentence: number; weight: number }[][] = Array.from({ length: vocabularySize }, () => []);
  vectors.forEach((vector, sentence) => {
    vector.ids.forEach((id, k) => {
      postings[id]!.push({ sentence, weight: vector.weights[k]! });
    });
  });
  const matrix = Array.from({ length: n }, () => new Float64Array(n));
  for (const posting of postings) {
    for (let a = 0; a < posting.length; a++) {
      for (let b = a + 1; b < posting.length; b++) {
        const product = posting[a]!.weight * posting[b]!.weight;
        matrix[posting[a]!.sentence]![posting[b]!.sentence]! += product;
        matrix[posting[b]!.sentence]![posting[a]!.sentence]! += product;
      }
    }
  }
  return matrix;
}

/** Continuous LexRank: PageRank over the similarity graph with each row normalised. */
function lexRank(similarity: Float64Array[], damping = 0.85): Float64Array {
  const n = similarity.length;
  // Sparse rows (most pairs share no term): neighbour ids and transition probabilities.
  const rows = similarity.map((row) => {
    const neighbours: number[] = [];
    const weights: number[] = [];
    let sum = 0;
    row.forEach((value, j) => {
      if (value > 0) {
        neighbours.push(j);
        weights.push(value);
        sum += value;
      }
    });
    return { neighbours, weights: weights.map((w) => w / sum) };
  });
  let rank = new Float64Array(n).fill(1 / n);
  for (let step = 0; step < 200; step++) {
    const next = new Float64Array(n);
    let dangling = 0;
    for (let i = 0; i < n; i++) {
      const { neighbours, weights } = rows[i]!;
      if (neighbours.length === 0) dangling += rank[i]!;
      const share = damping * rank[i]!;
      for (let k = 0; k < neighbours.length; k++) next[neighbours[k]!]! += share * weights[k]!;
    }
    // A sentence that shares nothing passes its rank to all sentences alike.
    const base = (1 - damping + damping * dangling) / n;
    let change = 0;
    for (let j = 0; j < n; j++) {
      next[j]! += base;
      change += Math.abs(next[j]! - rank[j]!);
    }
    rank = next;
    if (change < 1e-6) break;
  }
  return rank;
}

const quoteOpener = /^\s*["“”'‘’«»„]/u;

/**
 * Indices of the sentences to keep, in document order. An article no longer than the summary is
 * returned whole; near-duplicates are skipped even when that leaves the summary short; only the first
 * 1000 sentences are candidates.
 */
export function chooseSummarySentences(article: string[], options: SummaryOptions): number[] {
  const sentences = article.slice(0, MAX_CANDIDATES);
  const n = sentences.length;
  const size = summarySize(article.length, options);
  if (size >= n) return sentences.map((_, index) => index);

  const extractor = new TermExtractor(termRules(options.lang, sentences.slice(0, 5).join(' ')));
  const termLists = sentences.map((sentence) => extractor.terms(sentence));
  const vocabulary = new Map<string, number>();
  const documentFrequency: number[] = [];
  for (const terms of termLists) {
    for (const term of new Set(terms)) {
      let id = vocabulary.get(term);
      if (id === undefined) {
        id = vocabulary.size;
        vocabulary.set(term, id);
        documentFrequency.push(0);
      }
      documentFrequency[id]!++;
    }
  }
  const idf = documentFrequency.map((df) => Math.log(1 + n / df));
  const vectors = termLists.map((terms) => tfidf(terms, vocabulary, idf));
  const similarity = similarityMatrix(vectors, vocabulary.size);
  const centrality = lexRank(similarity);
  const maxCentrality = centrality.reduce((max, value) => Math.max(max, value), 0);

  const titleWeights = new Map<number, number>();
  if (options.title) {
    const title = tfidf(extractor.terms(options.title), vocabulary, idf);
    title.ids.forEach((id, k) => {
      titleWeights.set(id, title.weights[k]!);
    });
  }

  const termCounts = termLists.map((terms) => terms.length);
  const medianTerms = Math.max([...termCounts].sort((a, b) => a - b)[Math.floor(n / 2)]!, 1);
  const lead = leadScale(size);
  const relevance = vectors.map((vector, i) => {
    const lengthFactor = Math.min(1, medianTerms / Math.max(termCounts[i]!, 1)) ** ranking.longSentence;
    let score = (lengthFactor * centrality[i]!) / maxCentrality + (ranking.position * lead * lead) / (1 + i / lead);
    score += ranking.title * vector.ids.reduce((dot, id, k) => dot + vector.weights[k]! * (titleWeights.get(id) ?? 0), 0);
    const terms = termLists[i]!.length;
    if (terms < ranking.minTerms) score *= terms / ranking.minTerms;
    if (quoteOpener.test(sentences[i]!)) score *= ranking.quote;
    return score;
  });

  const chosen: number[] = [];
  const closeness = new Float64Array(n);
  const taken = new Uint8Array(n);
  while (chosen.length < size) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i] || closeness[i]! > ranking.duplicate) continue;
      const score = relevance[i]! - ranking.redundancy * closeness[i]!;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    if (best < 0) break;
    chosen.push(best);
    taken[best] = 1;
    const row = similarity[best]!;
    for (let i = 0; i < n; i++) closeness[i] = Math.max(closeness[i]!, row[i]!);
  }
  return chosen.sort((a, b) => a - b);
}

/**
 * Stage 6. Chooses on the source sentences, so an untranslated article gets its summary too and the
 * choice never depends on the quality of a translation; each chosen sentence comes with its English.
 * The title paragraph is the query, not a candidate.
 */
export function summarizeArticle(article: TranslatedArticle, length: SummaryLength): SummarizedArticle {
  const sentences = sentencesOf(article);
  const candidates: number[] = [];
  let index = 0;
  for (const paragraph of article.paragraphs) {
    for (let k = 0; k < paragraph.sentences.length; k++, index++) if (paragraph.kind !== 'title') candidates.push(index);
  }
  const indices = chooseSummarySentences(
    candidates.map((candidate) => sentences[candidate]!.source),
    { ...length, lang: article.language.lang, title: article.title },
  ).map((chosen) => candidates[chosen]!);
  const pairs = indices.map((i) => ({ source: sentences[i]!.source, target: sentences[i]!.target }));
  return { ...article, summary: { indices, pairs } };
}
