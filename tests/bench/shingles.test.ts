import { describe, expect, it } from 'vitest';
import { matchShingles, scoreExtraction, tokenize } from '../../bench/shingles.js';

// Expected values are what the benchmark's evaluate.py (string_shingle_matching,
// metrics_from_tp_fp_fns, _tokenize) gives for the same inputs.
const PAIRS: [truth: string, prediction: string, expected: [number, number, number]][] = [
  ['The cat sat on the mat today', 'The cat sat on the mat', [0.75, 0, 0.25]],
  ['a b', 'a b', [1, 0, 0]],
  ['', 'x y z', [0, 1, 0]],
  ['one two three four five', 'zero one two three four five six', [0.5, 0.5, 0]],
  ['قال الوزير إن النمو بلغ', 'قال الوزير إن النمو بلغ اليوم', [2 / 3, 1 / 3, 0]],
  ['x', '', [0, 0, 1]],
];

describe('the article-extraction-benchmark score', () => {
  it('tokenizes as Python’s \\w+ does: letters, digits and underscore, case kept', () => {
    expect(tokenize('Ünïcode_x 2.5 naïve—dash قال')).toEqual(['Ünïcode_x', '2', '5', 'naïve', 'dash', 'قال']);
  });

  it.each(PAIRS)('matches evaluate.py on %j vs %j', (truth, prediction, [tp, fp, fn]) => {
    const match = matchShingles(truth, prediction);
    expect(match.tp).toBeCloseTo(tp, 12);
    expect(match.fp).toBeCloseTo(fp, 12);
    expect(match.fn).toBeCloseTo(fn, 12);
  });

  it('averages precision and recall over pages and takes F1 from the averages, as evaluate.py does', () => {
    const score = scoreExtraction(PAIRS.map(([truth, prediction]) => matchShingles(truth, prediction)));
    expect(score.precision).toBeCloseTo(0.6333333333333333, 12);
    expect(score.recall).toBeCloseTo(0.75, 12);
    expect(score.f1).toBeCloseTo(0.6867469879518072, 12);
  });
});
