import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sharedPath } from '../../bench/shared-data.js';
import { DNT_KINDS } from '../../src/terminology/dnt.js';
import { parseGlossary } from '../../src/terminology/glossary.js';
import { Translator } from '../../src/translation/translator.js';
import { tinyTranslatorOptions } from '../helpers/translator-options.js';

/**
 * Real ONNX sessions on the generated tiny models. Their random weights never write "Kishida" or
 * "XNUMX" by chance, so a term in the output was put there by the constraints.
 */

const count = (text: string, term: string) => text.split(term).length - 1;

describe('constrained translation (Vietnamese, greedy and beam)', () => {
  const glossary = parseGlossary('Kishida Fumio\tFumio Kishida\nNhà Trắng\tWhite House\nNhật Bản\tJapan\n', 'vi.tsv');
  let greedy: Translator;
  let beam: Translator;
  let plain: Translator;
  beforeAll(async () => {
    const modelsDir = inject('modelsDir');
    const terminology = { glossary, doNotTranslate: DNT_KINDS };
    [greedy, beam, plain] = await Promise.all([
      Translator.load(tinyTranslatorOptions(modelsDir, 'vi', 'fp32', { terminology })),
      Translator.load(tinyTranslatorOptions(modelsDir, 'vi', 'fp32', { terminology, numBeams: 4 })),
      Translator.load(tinyTranslatorOptions(modelsDir, 'vi', 'fp32')),
    ]);
  });
  afterAll(async () => Promise.all([greedy, beam, plain].map((translator) => translator?.dispose())));

  it('puts every term and every XNUMX of the sample article into the English, and lists the terms', async () => {
    const article = await readFile(sharedPath('seeds/004_218d8854b8495f3e.txt'), 'utf8');
    const lines = article.split('\n').filter((line) => line.includes('XNUMX'));
    for (const translator of [greedy, beam]) {
      const results = await translator.translate(lines);
      results.forEach((result, i) => {
        expect(count(result.target, 'XNUMX')).toBeGreaterThanOrEqual(count(lines[i]!, 'XNUMX'));
        expect(result.flags).not.toContain('term-missing');
      });
      const terms = results[0]!.terms!.filter((term) => term.kind === 'term');
      expect(terms.map((term) => [term.target, term.present])).toEqual([
        ['White House', true],
        ['Japan', true],
        ['Fumio Kishida', true],
        ['Japan', true],
      ]);
      expect(results[0]!.terms!.filter((term) => term.kind === 'numbers').every((span) => span.present)).toBe(true);
      expect(results[0]!.target).toContain('White House');
    }
    const [unconstrained] = await plain.translate([lines[0]!]);
    expect(unconstrained!.target).not.toContain('Fumio Kishida');
  });

  it('takes a glossary per call, and keys the translation memory by what a sentence is constrained to', async () => {
    const sentence = 'Nhà Trắng nói.';
    const [own] = await plain.translate([sentence], undefined, { terminology: { glossary, doNotTranslate: [] } });
    expect(own!.terms).toEqual([{ kind: 'term', source: 'Nhà Trắng', target: 'White House', present: true }]);
    expect(plain.memorySource(sentence)).toBe(sentence);
    expect(greedy.memorySource(sentence)).not.toBe(sentence);
    expect(plain.memorySource(sentence, { terminology: { glossary, doNotTranslate: [] } })).toBe(greedy.memorySource(sentence));
  });

  it('masks a term the vocabulary cannot spell with a placeholder, and the English carries it verbatim', async () => {
    const odd = parseGlossary('Nhà Trắng\t\u{1F3DB}\u{FE0F}\u{2728}House\n', 'vi.tsv');
    expect(plain.spell('\u{1F3DB}\u{FE0F}\u{2728}House')).toBeNull();
    const [result] = await plain.translate(['Nhà Trắng nói.'], undefined, { terminology: { glossary: odd, doNotTranslate: [] } });
    expect(result!.target).toContain('\u{1F3DB}\u{FE0F}\u{2728}House');
    expect(result!.target).not.toMatch(/ZZ1|QX1|TMP1/u);
    expect(result!.flags).not.toContain('term-missing');
    expect(result!.terms).toEqual([{ kind: 'term', source: 'Nhà Trắng', target: '\u{1F3DB}\u{FE0F}\u{2728}House', present: true }]);
  });

  it('without constraints, gives token for token the same output on 200 NTREX sentences', async () => {
    const sentences = (await readFile(sharedPath('data/mt/ntrex128/newstest2019-ref.vie.txt'), 'utf8')).split('\n').slice(0, 200);
    // A glossary none of them holds and no DNT kinds: the Translator with terminology takes the unconstrained path.
    const none = { glossary: parseGlossary('zzqx\tZzqx\n', 'vi.tsv'), doNotTranslate: [] };
    const [before, after] = await Promise.all([plain.translate(sentences), plain.translate(sentences, undefined, { terminology: none })]);
    expect(after.map((r) => r.target)).toEqual(before.map((r) => r.target));
    expect(after.map((r) => r.targetTokens)).toEqual(before.map((r) => r.targetTokens));
    expect(after.every((r) => r.terms === undefined)).toBe(true);
  });
});

describe('constrained translation (Arabic)', () => {
  let translator: Translator;
  beforeAll(async () => {
    const glossary = parseGlossary('كيشيدا\tKishida\nالأمم المتحدة\tUnited Nations\n', 'ar.tsv');
    translator = await Translator.load(
      tinyTranslatorOptions(inject('modelsDir'), 'ar', 'q8', { terminology: { glossary, doNotTranslate: DNT_KINDS } }),
    );
  });
  afterAll(async () => translator?.dispose());

  it('matches prefixed forms and copies Latin tokens and numbers (Arabic-Indic digits as ASCII)', async () => {
    const [result] = await translator.translate(['وقال وكيشيدا للأمم المتحدة إن NSATU تلقت صاروخا عام ٢٠٢٤.']);
    expect(result!.terms!.map((term) => [term.kind, term.source, term.target, term.present])).toEqual([
      ['term', 'وكيشيدا', 'Kishida', true],
      ['term', 'للأمم المتحدة', 'United Nations', true],
      ['latin', 'NSATU', 'NSATU', true],
      ['numbers', '٢٠٢٤', '2024', true],
    ]);
    for (const span of ['Kishida', 'United Nations', 'NSATU', '2024']) expect(result!.target).toContain(span);
    expect(result!.flags).not.toContain('term-missing');
  });

  it('copies verbatim the spans and terms its vocabulary cannot spell (no B, G, J, ö, @), through placeholders', async () => {
    const unspellable = ['Britain', 'Björn', 'news@example.org', 'XNUMX'];
    for (const text of unspellable) expect(translator.spell(text)).toBeNull();
    const glossary = parseGlossary('بريطانيا\tBritain\n', 'ar.tsv');
    const sentence = 'وقال Björn إن بريطانيا سترسل XNUMX جنديا وكتب إلى news@example.org أمس.';
    const [result] = await translator.translate([sentence], undefined, { terminology: { glossary, doNotTranslate: DNT_KINDS } });
    for (const text of unspellable) expect(result!.target).toContain(text);
    expect(result!.terms!.every((term) => term.present)).toBe(true);
    expect(result!.flags).not.toContain('term-missing');
  });
});
