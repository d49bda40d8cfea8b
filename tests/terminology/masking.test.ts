import { describe, expect, it } from 'vitest';
import { maskUnspellable, unmask } from '../../src/terminology/masking.js';
import { sentenceTerms, Terminology } from '../../src/terminology/terminology.js';

/** A vocabulary without B, G and J (as the tiny Arabic model's): one token per character, null when it lacks one. */
const spell = (english: string) => (/[BGJ]/u.test(english) ? null : [...english].map((char) => char.codePointAt(0)!));
const terminology = new Terminology('ar', { doNotTranslate: ['latin', 'numbers'] });

describe('maskUnspellable', () => {
  it('replaces only the unspellable spans by numbered placeholders, constrained to the placeholder', () => {
    const sentence = 'قال Bob و Alice إن Gaza تلقت 25 صاروخا.';
    const masked = maskUnspellable(sentence, terminology.requirements(sentence), spell);
    expect(masked.text).toBe('قال ZZ1 و Alice إن ZZ2 تلقت 25 صاروخا.');
    expect(masked.constraints.map((constraint) => constraint.source)).toEqual(['ZZ1', 'Alice', 'ZZ2', '25']);
    expect(masked.constraints[0]!.tokens).toEqual(spell('ZZ1'));
    expect(masked.placeholders).toEqual([
      { placeholder: 'ZZ1', target: 'Bob' },
      { placeholder: 'ZZ2', target: 'Gaza' },
    ]);
    expect(unmask('Bob? no: ZZ1 and Alice said ZZ2 got 25', masked)).toBe('Bob? no: Bob and Alice said Gaza got 25');
  });

  it('takes the next form when the sentence holds the placeholder already or the vocabulary cannot spell it', () => {
    const sentence = 'قال Bob عن ZZ1.';
    expect(maskUnspellable(sentence, terminology.requirements(sentence), spell).text).toBe('قال QX1 عن ZZ1.');
    const noZ = (english: string) => (/[BZ]/u.test(english) ? null : spell(english));
    expect(maskUnspellable('قال Bob.', terminology.requirements('قال Bob.'), noZ).text).toBe('قال QX1.');
  });

  it('restores ZZ12 before ZZ1', () => {
    const masked = { text: '', constraints: [], placeholders: [1, 12].map((n) => ({ placeholder: `ZZ${n}`, target: `T${n}` })) };
    expect(unmask('ZZ12 ZZ1', masked)).toBe('T12 T1');
  });

  it('leaves a span unconstrained when no placeholder can be spelled; the output then says it is missing', () => {
    const sentence = 'قال Bob.';
    const requirements = terminology.requirements(sentence);
    const masked = maskUnspellable(sentence, requirements, () => null);
    expect(masked).toEqual({ text: sentence, constraints: [{ source: 'Bob', tokens: null }], placeholders: [] });
    expect(sentenceTerms(sentence, 'He said.', requirements)).toEqual([{ kind: 'latin', source: 'Bob', target: 'Bob', present: false }]);
  });
});
