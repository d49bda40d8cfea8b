import type {
  LanguageCode,
  ModelUse,
  SegmentedArticle,
  SentenceFlag,
  TranslatedArticle,
  TranslatedParagraph,
  TranslatedSentence,
  TranslationInfo,
} from './article.js';

/** One sentence as a translation backend returns it. */
export interface SentenceTarget {
  target: string;
  flags: SentenceFlag[];
}

/**
 * What the translate stage needs from the outside world: a model per source language. The pipeline
 * gives it the Translator pool behind the translation memory; tests can give it anything that
 * translates.
 */
export interface TranslationBackend {
  /** True when a model is configured for the language (whether or not it can be loaded). */
  supports(lang: LanguageCode): boolean;
  /** Throws when the model cannot be loaded; the error message says why and how to fix it. */
  translate(lang: LanguageCode, sources: string[]): Promise<{ model: ModelUse; targets: SentenceTarget[] }>;
}

const ENGLISH = 'en';

/**
 * Translates the article's sentences into English. English text passes through; a paragraph flagged
 * `foreign-language` is kept as it is; an article whose language has no model passes through as
 * `unsupported-language`. A model that cannot be loaded leaves targets null and says so in
 * `translation`, so every other stage still runs.
 */
export async function translateArticle(
  article: SegmentedArticle,
  backend: TranslationBackend,
): Promise<TranslatedArticle> {
  const lang = article.language.lang;
  const keptAsIs = (flags: SentenceFlag[], source: string): TranslatedSentence => ({
    source,
    target: source,
    flags: ['passthrough', ...flags],
  });

  if (lang === ENGLISH) {
    return withTargets(article, { status: 'passthrough', models: [] }, (p) =>
      p.sentences.map((s) => keptAsIs([], s.source)),
    );
  }
  if (!backend.supports(lang)) {
    const info: TranslationInfo = {
      status: 'unsupported-language',
      message: `no translation model is configured for language "${lang}"; the text is kept as it is`,
      models: [],
    };
    return withTargets(article, info, (p) => p.sentences.map((s) => ({ source: s.source, target: null, flags: [] })));
  }

  const needsModel = (paragraphFlags: readonly string[]) => !paragraphFlags.includes('foreign-language');
  const sources = article.paragraphs.flatMap((p) => (needsModel(p.flags) ? p.sentences.map((s) => s.source) : []));
  if (sources.length === 0) {
    return withTargets(article, { status: 'translated', models: [] }, (p) => p.sentences.map((s) => keptAsIs([], s.source)));
  }

  let translated: Awaited<ReturnType<TranslationBackend['translate']>>;
  try {
    translated = await backend.translate(lang, sources);
  } catch (error) {
    const info: TranslationInfo = { status: 'model-unavailable', message: (error as Error).message, models: [] };
    return withTargets(article, info, (p) =>
      p.sentences.map((s) => (needsModel(p.flags) ? { source: s.source, target: null, flags: [] } : keptAsIs([], s.source))),
    );
  }

  let next = 0;
  const result = withTargets(article, { status: 'translated', models: [translated.model] }, (p) =>
    p.sentences.map((s) => {
      if (!needsModel(p.flags)) return keptAsIs([], s.source);
      const out = translated.targets[next++];
      return { source: s.source, target: out?.target ?? null, flags: out?.flags ?? [] };
    }),
  );
  const missing = result.paragraphs.some((p) => p.sentences.some((s) => s.target === null && s.source.trim() !== ''));
  if (missing) result.translation = { ...result.translation, status: 'partial', message: 'some sentences got no translation' };
  return result;
}

function withTargets(
  article: SegmentedArticle,
  translation: TranslationInfo,
  targetsOf: (paragraph: SegmentedArticle['paragraphs'][number]) => TranslatedSentence[],
): TranslatedArticle {
  const paragraphs: TranslatedParagraph[] = article.paragraphs.map((p) => ({ ...p, sentences: targetsOf(p) }));
  return { ...article, paragraphs, translation };
}
