import { describe, expect, it } from 'vitest';
import type { LanguageCode, ModelUse, SegmentedArticle, SegmentedParagraph, SentenceFlag } from '../../src/article.js';
import { translateArticle, type SentenceTarget, type TranslationBackend } from '../../src/stages/translate.js';
import { ModelUnavailableError } from '../../src/errors.js';

/** A stand-in "model": English is the source reversed, so every target shows which source it came from. */
const english = (source: string) => `en:${[...source].reverse().join('')}`;

/** A backend for the languages it is given, translating with `english`; it records every request. */
class ReversingBackend implements TranslationBackend {
  readonly requests: { lang: LanguageCode; sources: string[] }[] = [];

  constructor(
    private readonly languages: LanguageCode[],
    private readonly flagsFor: (source: string) => SentenceFlag[] = () => [],
  ) {}

  supports(lang: LanguageCode): boolean {
    return this.languages.includes(lang);
  }

  async translate(lang: LanguageCode, sources: string[]): Promise<{ model: ModelUse; targets: SentenceTarget[] }> {
    this.requests.push({ lang, sources });
    return {
      model: { lang, id: `test/${lang}-en`, revision: 'main', dtype: 'q8', weights: 'cd'.repeat(32) },
      targets: sources.map((source) => ({ target: english(source), flags: this.flagsFor(source) })),
    };
  }
}

function paragraph(lang: LanguageCode, sentences: string[], flags: SegmentedParagraph['flags'] = []): SegmentedParagraph {
  return {
    line: 1,
    kind: 'body',
    text: sentences.join(' '),
    language: { lang, confidence: 0.9 },
    flags,
    sentences: sentences.map((source) => ({ source })),
  };
}

function article(lang: LanguageCode, paragraphs: SegmentedParagraph[]): SegmentedArticle {
  let line = 1;
  return {
    id: 'news/1',
    source: { path: 'input/news/1.txt', bytes: 100, encoding: 'utf-8', sha256: '0'.repeat(64) },
    text: paragraphs.map((p) => p.text).join('\n'),
    title: null,
    removed: [],
    language: { lang, confidence: 0.95 },
    paragraphs: paragraphs.map((p) => ({ ...p, line: line++ })),
  };
}

const ARABIC = [
  paragraph('ar', ['أعلنت الحكومة خطة جديدة.', 'وقال الوزير إنها ستنفذ قريبا.']),
  paragraph('en', ['"We are ready," the minister said.', 'He smiled.'], ['foreign-language']),
  paragraph('ar', ['ورحب المزارعون بالخطة.']),
];

const targetsOf = (translated: { paragraphs: { sentences: { target: string | null }[] }[] }) =>
  translated.paragraphs.map((p) => p.sentences.map((s) => s.target));

describe('translateArticle', () => {
  it('sends the sentences that need a model in reading order and aligns the targets to them', async () => {
    const backend = new ReversingBackend(['ar', 'vi']);
    const translated = await translateArticle(article('ar', ARABIC), backend);

    expect(backend.requests).toEqual([
      { lang: 'ar', sources: ['أعلنت الحكومة خطة جديدة.', 'وقال الوزير إنها ستنفذ قريبا.', 'ورحب المزارعون بالخطة.'] },
    ]);
    expect(targetsOf(translated)).toEqual([
      [english('أعلنت الحكومة خطة جديدة.'), english('وقال الوزير إنها ستنفذ قريبا.')],
      ['"We are ready," the minister said.', 'He smiled.'],
      [english('ورحب المزارعون بالخطة.')],
    ]);
    expect(translated.translation).toEqual({
      status: 'translated',
      models: [{ lang: 'ar', id: 'test/ar-en', revision: 'main', dtype: 'q8', weights: 'cd'.repeat(32) }],
    });
    // The stage adds targets and keeps everything the earlier stages found.
    expect(translated.paragraphs.map((p) => p.flags)).toEqual([[], ['foreign-language'], []]);
    expect(translated.paragraphs.map((p) => p.sentences.map((s) => s.source))).toEqual(ARABIC.map((p) => p.sentences.map((s) => s.source)));
  });

  it('keeps a foreign-language paragraph as it is, flagged passthrough', async () => {
    const translated = await translateArticle(article('ar', ARABIC), new ReversingBackend(['ar']));
    expect(translated.paragraphs[1]!.sentences).toEqual([
      { source: '"We are ready," the minister said.', target: '"We are ready," the minister said.', flags: ['passthrough'] },
      { source: 'He smiled.', target: 'He smiled.', flags: ['passthrough'] },
    ]);
    expect(translated.paragraphs[0]!.sentences.every((s) => !s.flags.includes('passthrough'))).toBe(true);
  });

  it('keeps the QA flags the backend puts on a sentence, which do not change the status', async () => {
    const backend = new ReversingBackend(['vi'], (source) => (source.startsWith('Giá') ? ['length-ratio'] : []));
    const translated = await translateArticle(article('vi', [paragraph('vi', ['Giá xăng giảm.', 'Dầu tăng.'])]), backend);
    expect(translated.paragraphs[0]!.sentences.map((s) => s.flags)).toEqual([['length-ratio'], []]);
    expect(translated.translation.status).toBe('translated');
  });

  it('passes English through without asking the backend', async () => {
    const backend = new ReversingBackend(['ar', 'vi']);
    const translated = await translateArticle(
      article('en', [paragraph('en', ['The government announced a plan.', 'Farmers welcomed it.'])]),
      backend,
    );
    expect(backend.requests).toEqual([]);
    expect(translated.translation).toEqual({ status: 'passthrough', models: [] });
    expect(translated.paragraphs[0]!.sentences).toEqual([
      { source: 'The government announced a plan.', target: 'The government announced a plan.', flags: ['passthrough'] },
      { source: 'Farmers welcomed it.', target: 'Farmers welcomed it.', flags: ['passthrough'] },
    ]);
  });

  it('leaves an unsupported language untranslated and says so', async () => {
    const backend = new ReversingBackend(['ar', 'vi']);
    const translated = await translateArticle(article('fa', [paragraph('fa', ['دولت برنامه تازه‌ای اعلام کرد.'])]), backend);
    expect(backend.requests).toEqual([]);
    expect(translated.translation.status).toBe('unsupported-language');
    expect(translated.translation.message).toContain('"fa"');
    expect(targetsOf(translated)).toEqual([[null]]);
  });

  it('leaves targets null with the backend’s message when the model cannot be loaded', async () => {
    const unavailable = new ModelUnavailableError(
      { name: 'Xenova/opus-mt-ar-en (ar)', fix: 'run `newsbridge models pull --only ar`' },
      'models/Xenova/opus-mt-ar-en',
      null,
      'does not exist',
    );
    const failing: TranslationBackend = {
      supports: () => true,
      translate: () => Promise.reject(unavailable),
    };
    const translated = await translateArticle(article('ar', ARABIC), failing);
    expect(translated.translation).toEqual({ status: 'model-unavailable', message: unavailable.message, models: [] });
    expect(unavailable.message).toContain('newsbridge models pull --only ar');
    expect(targetsOf(translated)).toEqual([[null, null], ['"We are ready," the minister said.', 'He smiled.'], [null]]);
  });

  it('calls any other backend failure a failed translation, not a missing model', async () => {
    const failing: TranslationBackend = {
      supports: () => true,
      translate: () => Promise.reject(new Error('database is locked')),
    };
    const translated = await translateArticle(article('ar', ARABIC), failing);
    expect(translated.translation).toEqual({ status: 'partial', message: 'translation failed: database is locked', models: [] });
    expect(targetsOf(translated)[0]).toEqual([null, null]);
  });

  it('translates the paragraphs of a language with a model even when the article is mostly English', async () => {
    const backend = new ReversingBackend(['ar', 'vi']);
    const mixed = article('en', [
      paragraph('en', ['The minister spoke in Riyadh.']),
      paragraph('ar', ['أعلنت الحكومة خطة جديدة.'], ['foreign-language']),
      paragraph('fr', ['Le ministre a parlé.'], ['foreign-language']),
    ]);
    const translated = await translateArticle(mixed, backend);
    expect(backend.requests).toEqual([{ lang: 'ar', sources: ['أعلنت الحكومة خطة جديدة.'] }]);
    expect(targetsOf(translated)).toEqual([
      ['The minister spoke in Riyadh.'],
      [english('أعلنت الحكومة خطة جديدة.')],
      ['Le ministre a parlé.'],
    ]);
    expect(translated.paragraphs[2]!.sentences[0]!.flags).toEqual(['passthrough']);
    expect(translated.translation).toEqual({
      status: 'translated',
      models: [{ lang: 'ar', id: 'test/ar-en', revision: 'main', dtype: 'q8', weights: 'cd'.repeat(32) }],
    });
  });

  it('routes every paragraph of a mixed article by its own language (issue 18)', async () => {
    const backend = new ReversingBackend(['ar', 'vi']);
    const mixed = article('mul', [
      paragraph('ar', ['أعلنت الحكومة خطة جديدة.']),
      paragraph('vi', ['Giá xăng giảm.', 'Dầu tăng.']),
      paragraph('en', ['The minister spoke in Riyadh.']),
      paragraph('fr', ['Le ministre a parlé.']),
      paragraph('ar', ['ورحب المزارعون بالخطة.']),
    ]);
    const translated = await translateArticle(mixed, backend);
    expect(backend.requests).toEqual([
      { lang: 'ar', sources: ['أعلنت الحكومة خطة جديدة.', 'ورحب المزارعون بالخطة.'] },
      { lang: 'vi', sources: ['Giá xăng giảm.', 'Dầu tăng.'] },
    ]);
    expect(targetsOf(translated)).toEqual([
      [english('أعلنت الحكومة خطة جديدة.')],
      [english('Giá xăng giảm.'), english('Dầu tăng.')],
      ['The minister spoke in Riyadh.'],
      ['Le ministre a parlé.'],
      [english('ورحب المزارعون بالخطة.')],
    ]);
    expect(translated.paragraphs.slice(2, 4).map((p) => p.sentences[0]!.flags)).toEqual([['passthrough'], ['passthrough']]);
    expect(translated.translation.status).toBe('translated');
    expect(translated.translation.models.map((m) => m.lang)).toEqual(['ar', 'vi']);
  });

  it('says why nothing of a mixed article was translated: all English, or no model for its languages', async () => {
    const backend = new ReversingBackend(['ar', 'vi']);
    const allEnglish = article('mul', [paragraph('en', ['The minister spoke.']), paragraph('und', ['OK.'])]);
    expect((await translateArticle(allEnglish, backend)).translation).toEqual({ status: 'passthrough', models: [] });
    const unsupported = article('mul', [paragraph('fr', ['Le ministre a parlé.']), paragraph('en', ['He left.'])]);
    const translated = await translateArticle(unsupported, backend);
    expect(translated.translation.status).toBe('unsupported-language');
    expect(translated.translation.message).toContain('(fr)');
    expect(targetsOf(translated)).toEqual([['Le ministre a parlé.'], ['He left.']]);
  });

  it('is partial when the backend returns fewer targets than sentences', async () => {
    const short: TranslationBackend = {
      supports: () => true,
      translate: async (lang, sources) => ({
        model: { lang, id: 'test', revision: 'main', dtype: 'q8', weights: 'cd'.repeat(32) },
        targets: sources.slice(1).map((source) => ({ target: english(source), flags: [] })),
      }),
    };
    const translated = await translateArticle(article('ar', ARABIC), short);
    expect(translated.translation.status).toBe('partial');
    expect(translated.translation.message).toBe('some sentences got no translation');
    expect(targetsOf(translated)[2]).toEqual([null]);
  });

  it('needs no model when every paragraph is foreign-language', async () => {
    const backend = new ReversingBackend(['ar']);
    const translated = await translateArticle(article('ar', [ARABIC[1]!]), backend);
    expect(backend.requests).toEqual([]);
    expect(translated.translation).toEqual({ status: 'translated', models: [] });
    expect(targetsOf(translated)).toEqual([['"We are ready," the minister said.', 'He smiled.']]);
  });
});
