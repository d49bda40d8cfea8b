import { describe, expect, it } from 'vitest';
import { findDntSpans } from '../../src/terminology/dnt.js';
import { memorySource, Terminology } from '../../src/terminology/terminology.js';
import { parseGlossary } from '../../src/terminology/glossary.js';

const spans = (sentence: string, lang: 'ar' | 'vi') => findDntSpans(sentence, lang).map((span) => [span.kind, span.target]);

describe('findDntSpans', () => {
  it('finds placeholders, addresses, Latin tokens in Arabic and numbers', () => {
    expect(spans('أرسل {{name}} إلى info@example.org عبر https://example.org/a?b=1 صاروخ Block-XNUMX IIA في ٢٠٢٤ و%s و{0}', 'ar')).toEqual([
      ['placeholders', '{{name}}'],
      ['addresses', 'info@example.org'],
      ['addresses', 'https://example.org/a?b=1'],
      ['latin', 'Block-XNUMX'],
      ['latin', 'IIA'],
      ['numbers', '2024'],
      ['placeholders', '%s'],
      ['placeholders', '{0}'],
    ]);
  });

  it('leaves Latin words of Vietnamese to the model, but keeps XNUMX and numbers', () => {
    expect(spans('Vào ngày 25 tháng XNUMX, Kishida tới.', 'vi')).toEqual([
      ['numbers', '25'],
      ['numbers', 'XNUMX'],
    ]);
  });

  it('takes the texts a page marks not to be translated, which win over the patterns inside them', () => {
    const marked = ['Block IIA 2024', 'Tuổi Trẻ'];
    expect(findDntSpans('Tờ Tuổi Trẻ viết về Block IIA 2024 và 25 người.', 'vi', undefined, marked).map((s) => [s.kind, s.source])).toEqual(
      [
        ['markup', 'Tuổi Trẻ'],
        ['markup', 'Block IIA 2024'],
        ['numbers', '25'],
      ],
    );
    expect(findDntSpans('Tờ Tuổi Trẻ.', 'vi', ['numbers'], marked)).toEqual([]);
  });

  it('can be switched off per kind', () => {
    expect(findDntSpans('في 2024 قال NSATU', 'ar', ['numbers'])).toHaveLength(1);
    expect(findDntSpans('في 2024 قال NSATU', 'ar', [])).toEqual([]);
  });
});

describe('Terminology', () => {
  it('lists terms and spans in sentence order; a span inside a term belongs to the term', () => {
    const terminology = new Terminology('vi', { glossary: parseGlossary('tháng 3\tMarch\n', 'vi.tsv'), doNotTranslate: ['numbers'] });
    const requirements = terminology.requirements('Từ tháng 3 tới 2024.');
    expect(requirements.map((r) => [r.kind, r.target])).toEqual([
      ['term', 'March'],
      ['numbers', '2024'],
    ]);
  });

  it('lets a text the page marks win over a glossary term in it', () => {
    const glossary = parseGlossary('Nhà Trắng\tWhite House\nTuổi Trẻ\tYouth\n', 'vi.tsv');
    const terminology = new Terminology('vi', { glossary, doNotTranslate: ['markup'] }, ['Tuổi Trẻ']);
    expect(terminology.requirements('Tuổi Trẻ hỏi Nhà Trắng.').map((r) => [r.kind, r.target])).toEqual([
      ['markup', 'Tuổi Trẻ'],
      ['term', 'White House'],
    ]);
  });

  it('keys a sentence with requirements apart from the same sentence without', () => {
    expect(memorySource('câu', [])).toBe('câu');
    const requirements = new Terminology('vi', { doNotTranslate: ['numbers'] }).requirements('câu 7');
    expect(memorySource('câu 7', requirements)).not.toBe('câu 7');
  });
});
