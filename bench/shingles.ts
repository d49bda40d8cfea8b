/**
 * The article-extraction-benchmark's score (scrapinghub/article-extraction-benchmark, evaluate.py):
 * the text is cut into tokens as Python's `re.findall(r'\w+')` does (letters, digits and `_`; case
 * kept), the tokens into overlapping 4-token shingles, and truth and prediction are compared as
 * multisets of shingles. Each page's TP/FP/FN are scaled to sum 1 so long pages weigh no more than
 * short ones; precision and recall are averaged over pages and F1 is taken from the two averages.
 */

export interface ShingleMatch {
  tp: number;
  fp: number;
  fn: number;
}

export interface ExtractionScore {
  f1: number;
  precision: number;
  recall: number;
}

// Python's \w is str.isalnum() or `_`: letters and numbers, not combining marks.
const TOKEN = /[\p{L}\p{N}_]+/gu;
const SHINGLE_SIZE = 4;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

/** Shingles and their counts; a text shorter than 4 tokens is one shingle of what it has. */
function shingles(text: string): Map<string, number> {
  const tokens = tokenize(text);
  const counts = new Map<string, number>();
  for (let i = 0; i < Math.max(1, tokens.length - SHINGLE_SIZE + 1); i++) {
    const shingle = tokens.slice(i, i + SHINGLE_SIZE);
    if (shingle.length === 0) continue;
    const key = shingle.join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function matchShingles(truth: string, prediction: string): ShingleMatch {
  const expected = shingles(truth);
  const found = shingles(prediction);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const key of new Set([...expected.keys(), ...found.keys()])) {
    const want = expected.get(key) ?? 0;
    const got = found.get(key) ?? 0;
    tp += Math.min(want, got);
    fp += Math.max(0, got - want);
    fn += Math.max(0, want - got);
  }
  const sum = tp + fp + fn;
  return sum > 0 ? { tp: tp / sum, fp: fp / sum, fn: fn / sum } : { tp, fp, fn };
}

function precisionOf({ tp, fp, fn }: ShingleMatch): number {
  if (fp === 0 && fn === 0) return 1;
  if (tp === 0 && fp === 0) return 0;
  return tp / (tp + fp);
}

function recallOf({ tp, fp, fn }: ShingleMatch): number {
  if (fp === 0 && fn === 0) return 1;
  if (tp === 0 && fn === 0) return 0;
  return tp / (tp + fn);
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Pages with nothing predicted count for recall only, pages with no truth for precision only. */
export function scoreExtraction(matches: readonly ShingleMatch[]): ExtractionScore {
  const precision = mean(matches.filter((m) => m.tp + m.fp > 0).map(precisionOf));
  const recall = mean(matches.filter((m) => m.tp + m.fn > 0).map(recallOf));
  return { f1: (2 * precision * recall) / (precision + recall), precision, recall };
}
