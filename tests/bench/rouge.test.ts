import { describe, expect, it } from 'vitest';
import {
  lcsIndices,
  normalizeArabicForRouge,
  rougeLsum,
  rougeTokens,
  scoreRouge,
  scoreRougeMulti,
  type RougeOptions,
} from '../../bench/rouge.js';

/**
 * Expected figures are rouge-score's own test cases (google-research/rouge, rouge_scorer_test.py,
 * Apache-2.0), whose "ground truth" comes from manual runs of ROUGE-1.5.5; the texts below are its
 * testdata/target.txt, prediction.txt and pyrouge_files/{target,prediction}_multi.0.txt.
 */
const plain: RougeOptions = { tokenization: 'ascii', stem: false };
const stemmed: RougeOptions = { tokenization: 'ascii', stem: true };

const targets = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN",
];
const predictions = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD",
];
const targetMulti = [
  ...targets,
  "NhETebUbBk'er WOvoHMTjSRizKgH'vHiing Xu,hWxfs VkNE QhgKiLHE -HidivzoM.dO anhtion jbLQiSGDTCsuhREebUaKM dv J dVN tmbOT",
  "vMR HDm,xOAetion D,tion HJtodT.mHl UIv-p VjWH'BdyWjnfGU-OjT aEMdFICyLWfQMtion wEMfdOKing AwkeKbO 'DxqNOHBH qKtVvm OYJl mM",
];
const predictionMulti = [
  ...predictions,
  'xfs VkJE QhgKiLHE -HidivzoM.dO anhing jbLQiSGDTCsuhREebUaKM dv J',
  "VjWH'BdyWjnfGU-OjTNaEMdFICyLWfQMing wEMfdOKijg AwkeKbO 'DxqNO",
];

describe('rouge against rouge-score / ROUGE-1.5.5', () => {
  it('matches the hand-checked small cases', () => {
    const one = scoreRouge(['testing one two'], ['testing'], plain);
    expect(one.rouge1.precision).toBeCloseTo(1, 10);
    expect(one.rouge1.recall).toBeCloseTo(1 / 3, 10);
    expect(one.rouge1.f1).toBeCloseTo(1 / 2, 10);
    const two = scoreRouge(['testing one two'], ['testing one'], plain);
    expect(two.rouge2.precision).toBeCloseTo(1, 10);
    expect(two.rouge2.recall).toBeCloseTo(1 / 2, 10);
    expect(two.rouge2.f1).toBeCloseTo(2 / 3, 10);
  });

  it('matches ROUGE-1.5.5 on ROUGE-1 and ROUGE-2, without and with stemming', () => {
    const expected = [
      { options: plain, r1: [0.40741, 0.6875, 0.51163], r2: [0.30769, 0.53333, 0.39024] },
      { options: plain, r1: [0.40476, 0.65385, 0.5], r2: [0.29268, 0.48, 0.36364] },
      { options: stemmed, r1: [0.40741, 0.6875, 0.51163], r2: [0.30769, 0.53333, 0.39024] },
      { options: stemmed, r1: [0.42857, 0.69231, 0.52941], r2: [0.29268, 0.48, 0.36364] },
    ];
    expected.forEach(({ options, r1, r2 }, k) => {
      const scores = scoreRouge([targets[k % 2]!], [predictions[k % 2]!], options);
      expect([scores.rouge1.recall, scores.rouge1.precision, scores.rouge1.f1].map((x) => +x.toFixed(5))).toEqual(r1);
      expect([scores.rouge2.recall, scores.rouge2.precision, scores.rouge2.f1].map((x) => +x.toFixed(5))).toEqual(r2);
    });
  });

  it('matches ROUGE-1.5.5 on ROUGE-Lsum over several sentences with stemming', () => {
    const { rougeLsum: lsum } = scoreRouge(targetMulti, predictionMulti, stemmed);
    expect(lsum.recall).toBeCloseTo(0.36538, 5);
    expect(lsum.precision).toBeCloseTo(0.66667, 5);
    expect(lsum.f1).toBeCloseTo(0.47205, 5);
  });

  it('computes the union LCS of the ROUGE paper example', () => {
    expect(lcsIndices(['1', '2', '3', '4', '5'], ['2', '5', '3', '4'])).toEqual([1, 2, 3]);
    expect(lcsIndices(['1', '2', '3', '4', '5'], ['8', '9'])).toEqual([]);
    const score = rougeLsum(
      [['1', '2', '3', '4', '5']],
      [
        ['1', '2', '6', '7', '8'],
        ['1', '3', '8', '9', '5'],
      ],
    );
    expect(score.recall).toBe(0.8);
    expect(score.precision).toBe(0.4);
    expect(score.f1).toBeCloseTo(0.5333, 3);
    const viaText = scoreRouge(['w1 w2 w3 w4 w5'], ['w1 w2 w6 w7 w8', 'w1 w3 w8 w9 w5'], plain);
    expect(viaText.rougeLsum.f1).toBeCloseTo(0.5333, 3);
  });

  it('scores empty and all-punctuation summaries as zero', () => {
    for (const [reference, candidate] of [
      [['testing one two'], ['']],
      [[''], ['w1']],
      [['w1 w2 w3 w4 w5'], ['/']],
    ] as const) {
      const scores = scoreRouge([...reference], [...candidate], plain);
      expect([scores.rouge1.f1, scores.rouge2.f1, scores.rougeLsum.f1]).toEqual([0, 0, 0]);
    }
  });
});

describe('rouge tokenization', () => {
  it('drops punctuation and lower-cases like rouge-score', () => {
    expect(rougeTokens("Locke 's first six -LRB- games -RRB- .", plain)).toEqual(['locke', 's', 'first', 'six', 'lrb', 'games', 'rrb']);
  });

  it('keeps Vietnamese syllables whole with the unicode tokenization, which ascii would mangle', () => {
    const text = 'Toà án tuyên phạt Quang 20 năm tù.';
    expect(rougeTokens(text, { tokenization: 'unicode', stem: false })).toEqual(['toà', 'án', 'tuyên', 'phạt', 'quang', '20', 'năm', 'tù']);
    expect(rougeTokens(text, plain)).toEqual(['to', 'n', 'tuy', 'n', 'ph', 't', 'quang', '20', 'n', 'm', 't']);
  });

  it('treats decomposed and precomposed Vietnamese as the same syllable', () => {
    const unicode: RougeOptions = { tokenization: 'unicode', stem: false };
    expect(rougeTokens('được'.normalize('NFD'), unicode)).toEqual(rougeTokens('được', unicode));
  });

  it('takes, for each measure, the reference where F1 is highest, as score_multi does', () => {
    const references = [['the cat ran'], ['a dog ran in the park today']];
    const multi = scoreRougeMulti(references, ['cat ran in the park'], plain);
    const each = references.map((reference) => scoreRouge(reference, ['cat ran in the park'], plain));
    expect(multi.rouge1).toEqual(each[0]!.rouge1);
    expect(multi.rouge2).toEqual(each[1]!.rouge2);
    expect(multi.rouge1.f1).toBe(Math.max(...each.map((scores) => scores.rouge1.f1)));
  });

  it('reads Arabic with and without tatweel, diacritics and hamza on alef as the same words', () => {
    const unicode: RougeOptions = { tokenization: 'unicode', stem: false };
    expect(normalizeArabicForRouge('أعلنَ الرئيـــس إطلاقَ آلية')).toBe('اعلن الرئيس اطلاق الية');
    const scores = scoreRouge(
      [normalizeArabicForRouge('اعلن الرئيس اطلاق الية')],
      [normalizeArabicForRouge('أعلنَ الرئيـــس إطلاقَ آلية')],
      unicode,
    );
    expect(scores.rouge1.f1).toBe(1);
    expect(scoreRouge(['اعلن الرئيس اطلاق الية'], ['أعلنَ الرئيـــس إطلاقَ آلية'], unicode).rouge1.f1).toBeLessThan(0.5);
  });
});
