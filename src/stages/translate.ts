import type {
  LanguageCode,
  ModelUse,
  SegmentedArticle,
  SentenceFlag,
  SentenceTerm,
  TranslatedArticle,
  TranslatedParagraph,
  TranslatedSentence,
  TranslationInfo,
} from '../article.js';
import { ModelUnavailableError, TranslationStoppedError } from '../errors.js';
import { MIXED_LANGUAGE, TARGET_LANGUAGE } from '../languages.js';

/** One sentence as a translation backend returns it. */
export interface SentenceTarget {
  target: string;
  flags: SentenceFlag[];
  /** Its glossary terms and do-not-translate spans, each present in the English or not; absent when none. */
  terms?: SentenceTerm[];
}

/**
 * What the translate stage needs from the outside world: a model per source language. The pipeline
 * gives it the Translator pool behind the translation memory; tests can give it anything that
 * translates.
 */
export interface TranslationBackend {
  /** True when a model is configured for the language (whether or not it can be loaded). */
  supports(lang: LanguageCode): boolean;
  /**
   * Throws `ModelUnavailableError` when the model cannot be loaded (its message says why and how to
   * fix it); any other error is a failed translation. `doNotTranslate`: the texts the article's page
   * marks not to be translated, which a sentence holding one must copy.
   */
  translate(
    lang: LanguageCode,
    sources: string[],
    signal?: AbortSignal,
    doNotTranslate?: readonly string[],
  ): Promise<{ model: ModelUse; targets: SentenceTarget[] }>;
}

type Paragraph = SegmentedArticle['paragraphs'][number];

/**
 * The language a paragraph is translated from: the article's, unless the paragraph is flagged
 * `foreign-language` or the article is mixed, when it is its own (so Arabic paragraphs in a mostly
 * English article still reach the Arabic model, while an English quote in an Arabic article passes
 * through).
 */
function routeOf(article: SegmentedArticle, paragraph: Paragraph): LanguageCode {
  const own = paragraph.flags.includes('foreign-language') || article.language.lang === MIXED_LANGUAGE;
  return own ? paragraph.language.lang : article.language.lang;
}

/**
 * Translates the article's sentences into English, each paragraph with the model of its language.
 * English passes through; a foreign-language paragraph with no model is kept as it is; an article
 * whose language has no model is `unsupported-language`. A model that cannot be loaded leaves its
 * sentences' targets null and says so in `translation`, so every other stage still runs.
 */
export interface TranslateOptions {
  /**
   * Characters of source text one article may send to the models, in reading order; the sentences
   * past it keep a null target and the article is `over-budget`. One huge article then costs a
   * bounded time and memory instead of stopping the run. Default: no limit.
   */
  maxChars?: number;
}

export async function translateArticle(
  article: SegmentedArticle,
  backend: TranslationBackend,
  options: TranslateOptions = {},
): Promise<TranslatedArticle> {
  const maxChars = options.maxChars ?? Infinity;
  const sourcesByLanguage = new Map<LanguageCode, string[]>();
  let spent = 0;
  let overBudget = 0;
  let total = 0;
  for (const paragraph of article.paragraphs) {
    const lang = routeOf(article, paragraph);
    if (lang === TARGET_LANGUAGE || !backend.supports(lang)) continue;
    const sources = sourcesByLanguage.get(lang) ?? [];
    for (const sentence of paragraph.sentences) {
      total += 1;
      // Once one sentence does not fit, none after it is sent: the English stops at one place.
      if (overBudget > 0 || spent + sentence.source.length > maxChars) {
        overBudget += 1;
        continue;
      }
      spent += sentence.source.length;
      sources.push(sentence.source);
    }
    sourcesByLanguage.set(lang, sources);
  }

  const targets = new Map<LanguageCode, SentenceTarget[]>();
  const models: ModelUse[] = [];
  let failure: Error | undefined;
  for (const [lang, sources] of sourcesByLanguage) {
    try {
      const translated = await backend.translate(lang, sources, undefined, article.doNotTranslate);
      targets.set(lang, translated.targets);
      models.push(translated.model);
    } catch (error) {
      // A stopped run does not finish this article: it is left as it was, not written half-done.
      if (error instanceof TranslationStoppedError) throw error;
      failure ??= error as Error;
    }
  }

  const next = new Map<LanguageCode, number>();
  const paragraphs: TranslatedParagraph[] = article.paragraphs.map((paragraph) => {
    const lang = routeOf(article, paragraph);
    const sentences = paragraph.sentences.map((sentence): TranslatedSentence => {
      if (lang === TARGET_LANGUAGE || (!backend.supports(lang) && lang !== article.language.lang)) {
        return { source: sentence.source, target: sentence.source, flags: ['passthrough'] };
      }
      const index = next.get(lang) ?? 0;
      next.set(lang, index + 1);
      const out = targets.get(lang)?.[index];
      if (!out) return { source: sentence.source, target: null, flags: [] };
      return { source: sentence.source, target: out.target, flags: out.flags, ...(out.terms?.length ? { terms: out.terms } : {}) };
    });
    return { ...paragraph, sentences };
  });
  const info = translationInfo(article, paragraphs, models, failure, backend);
  if (overBudget > 0 && (info.status === 'translated' || (info.status === 'partial' && !failure))) {
    return {
      ...article,
      paragraphs,
      translation: {
        status: 'over-budget',
        message: `the last ${overBudget} of ${total} sentences were left untranslated: the article is longer than translation.maxArticleChars (${maxChars} characters); raise it to translate more`,
        models,
      },
    };
  }
  return { ...article, paragraphs, translation: info };
}

function translationInfo(
  article: SegmentedArticle,
  paragraphs: TranslatedParagraph[],
  models: ModelUse[],
  failure: Error | undefined,
  backend: TranslationBackend,
): TranslationInfo {
  const lang = article.language.lang;
  if (failure instanceof ModelUnavailableError) return { status: 'model-unavailable', message: failure.message, models };
  if (failure) return { status: 'partial', message: `translation failed: ${failure.message}`, models };
  if (lang === MIXED_LANGUAGE && models.length === 0) {
    // Nothing was sent to a model: all English (passthrough), or languages without one.
    const unsupported = [...new Set(article.paragraphs.map((p) => p.language.lang))].filter((l) => l !== TARGET_LANGUAGE && l !== 'und');
    if (unsupported.length === 0) return { status: 'passthrough', models };
    const message = `no translation model is configured for the languages of this mixed article (${unsupported.join(', ')}); the text is kept as it is`;
    return { status: 'unsupported-language', message, models };
  }
  if (lang === TARGET_LANGUAGE && models.length === 0) return { status: 'passthrough', models };
  if (lang !== TARGET_LANGUAGE && lang !== MIXED_LANGUAGE && !backend.supports(lang)) {
    const message = `no translation model is configured for language "${lang}"; the text is kept as it is`;
    return { status: 'unsupported-language', message, models };
  }
  const missing = paragraphs.some((p) => p.sentences.some((s) => s.target === null && s.source.trim() !== ''));
  if (missing) return { status: 'partial', message: 'some sentences got no translation', models };
  return { status: 'translated', models };
}
