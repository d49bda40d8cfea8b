/**
 * The article as it moves through the pipeline. Each stage takes the article as the previous stage
 * left it and returns it with its own part added, so the types below read like the list of stages:
 * read → clean → detect → segment → translate → summarize.
 */

import type { DntKind } from './terminology/dnt.js';

/** ISO 639-1 code from language ID (`ar`, `vi`, `en`, `fa`, …), or `und` when it cannot tell. */
export type LanguageCode = string;

export interface LanguageGuess {
  lang: LanguageCode;
  /** 0–1; for `und` the confidence of the best rejected candidate. */
  confidence: number;
}

/** Where the article came from, as read from disk. */
export interface SourceFile {
  /** Path as given to the reader (relative to the working directory when it was relative). */
  path: string;
  bytes: number;
  /** Detected encoding of the original bytes, e.g. `utf-8`, `utf-16le`, `windows-1256`. */
  encoding: string;
  /** sha256 of the original bytes, hex. */
  sha256: string;
}

/** After read: decoded, NFC-normalized text with `\n` line endings. */
export interface SourceArticle {
  /** Stable id: the input path relative to the input root, without extension (`news/001`). */
  id: string;
  source: SourceFile;
  text: string;
  /** For a web page: what it said about itself and how its article was found; absent for text files. */
  page?: PageInfo;
  /** For a page `newsbridge fetch` saved: where it came from and the feed's date for it; absent otherwise. */
  fetched?: FetchedFrom;
  /** For a web page: the texts it marks `translate="no"` or `class="notranslate"`, copied as they are into the English. */
  doNotTranslate?: string[];
}

/** What the feed and the response said of a fetched page (its `.fetch.json` sidecar). */
export interface FetchedFrom {
  /** The article's canonical URL (tracking parameters and fragment removed). */
  url: string;
  /** The feed or sitemap that listed it. */
  feed: string;
  /** The item's date in the feed (ISO 8601 when it parsed), null when it gave none. */
  feedDate: string | null;
}

/** What a web page says about itself; null where it says nothing. */
export interface PageMetadata {
  title: string | null;
  byline: string | null;
  /** As the page gives it (ISO 8601 in `article:published_time` or JSON-LD, mostly). */
  published: string | null;
  /** `<link rel="canonical">`, else `og:url`. */
  canonicalUrl: string | null;
  siteName: string | null;
  /** `<html lang>`: a hint, never trusted over language ID on the text. */
  lang: string | null;
}

/** An HTML article's page metadata and the extraction method. */
export interface PageInfo extends PageMetadata {
  /** How the article was taken out of the page, e.g. `readability`. */
  extraction: string;
  /** What the extraction rules took out of the article's container (captions, related links…), and why. */
  removed: { text: string; reason: DroppedBlockReason }[];
}

/** Why the HTML reader's structure rules took a block out of the article's container (src/input/html-extract.ts). */
export const DROPPED_BLOCK_REASONS = [
  'caption',
  'navigation',
  'link-list',
  'byline',
  'timestamp',
  'title-repeat',
  'empty-section',
  'header',
  'widget',
] as const;
export type DroppedBlockReason = (typeof DROPPED_BLOCK_REASONS)[number];

export type ParagraphKind = 'title' | 'bullet' | 'body';

/** Why the clean stage removed a line; docs/stages.md's "Clean" section says what each means. */
export const BOILERPLATE_REASONS = [
  'navigation',
  'empty-label',
  'image-placeholder',
  'button-text',
  'read-also',
  'related-headline',
  'injected-headline',
  'repeated-across-corpus',
] as const;
export type BoilerplateReason = (typeof BOILERPLATE_REASONS)[number];

export interface RemovedLine {
  /** 1-based line number in the decoded text. */
  line: number;
  text: string;
  reason: BoilerplateReason;
}

export interface CleanParagraph {
  /** 1-based line number of the paragraph's first line in the decoded text. */
  line: number;
  kind: ParagraphKind;
  text: string;
}

/** After clean: boilerplate gone, every removed line kept with its reason. */
export interface CleanedArticle extends SourceArticle {
  title: string | null;
  paragraphs: CleanParagraph[];
  removed: RemovedLine[];
}

/**
 * `foreign-language`: the paragraph is in another language than its article (an English quote in an
 * Arabic article); it is kept as it is and not translated.
 */
export type ParagraphFlag = 'foreign-language';

export interface DetectedParagraph extends CleanParagraph {
  language: LanguageGuess;
  flags: ParagraphFlag[];
}

/** After detect: the article's language and each paragraph's. */
export interface DetectedArticle extends CleanedArticle {
  language: LanguageGuess;
  paragraphs: DetectedParagraph[];
}

export interface SourceSentence {
  source: string;
}

export interface SegmentedParagraph extends DetectedParagraph {
  sentences: SourceSentence[];
}

/** After segment: each paragraph split into sentences; paragraphs are kept. */
export interface SegmentedArticle extends DetectedArticle {
  paragraphs: SegmentedParagraph[];
}

/**
 * QA flags on one translated sentence. They are warnings: the sentence still has its target.
 * `repetition-loop`: the output repeats an n-gram in a loop; `length-ratio`: output/input length is
 * out of bounds; `split-long-input`: the source was over the model's input limit and was translated
 * in pieces; `passthrough`: not translated (already English, or a foreign-language paragraph);
 * `number-missing`, `latin-token-missing`, `address-missing`: a number, a Latin-script name or code
 * (in Arabic or Vietnamese text), or a URL or e-mail address of the source is not in the English.
 * `term-missing`: a glossary term of the source could not be put in the English (the sentence's `terms` says which).
 */
export const SENTENCE_FLAGS = [
  'repetition-loop',
  'length-ratio',
  'split-long-input',
  'passthrough',
  'number-missing',
  'latin-token-missing',
  'address-missing',
  'term-missing',
] as const;
export type SentenceFlag = (typeof SENTENCE_FLAGS)[number];

/** A glossary term or do-not-translate span of a sentence's source, and whether the English carries it. */
export interface SentenceTerm {
  /** `term`: a glossary entry; else the do-not-translate kind. */
  kind: 'term' | DntKind;
  /** As the source writes it. */
  source: string;
  /** The English the output must carry. */
  target: string;
  present: boolean;
}

export interface TranslatedSentence extends SourceSentence {
  /** English text; null when no translation could be made (see the article's translation status). */
  target: string | null;
  flags: SentenceFlag[];
  /** The sentence's glossary terms and do-not-translate spans; absent when it has none or got no English. */
  terms?: SentenceTerm[];
}

export interface TranslatedParagraph extends SegmentedParagraph {
  sentences: TranslatedSentence[];
}

/**
 * `translated`: every sentence that needed a model got one; `passthrough`: the article is English;
 * `unsupported-language`: no model for its language (kept as it is); `model-unavailable`: the model
 * for its language could not be loaded (`message` says why and how to fix it); `partial`: some
 * sentences failed to translate; `over-budget`: the article is longer than the translation budget,
 * and the sentences past it were not sent to the model.
 */
export type TranslationStatus = 'translated' | 'passthrough' | 'unsupported-language' | 'model-unavailable' | 'partial' | 'over-budget';

export interface ModelUse {
  lang: LanguageCode;
  /** Model id as configured, e.g. `Xenova/opus-mt-ar-en`. */
  id: string;
  revision: string;
  dtype: string;
  /** sha256 over the model files the Translator loaded (their names and sha256s): which weights made the translations. */
  weights: string;
  /** The model's licence as its manifest records it (`models pull`: the hub's model card, else the family's); absent when unrecorded. */
  license?: string;
  /** With `translation.trimOutputVocabulary`: how many vocabulary pieces the output layer kept; absent when it kept them all. */
  outputPieces?: number;
}

export interface TranslationInfo {
  status: TranslationStatus;
  message?: string;
  models: ModelUse[];
}

/** After translate: every sentence has a target (or null), and the article says how it went. */
export interface TranslatedArticle extends SegmentedArticle {
  paragraphs: TranslatedParagraph[];
  translation: TranslationInfo;
}

export interface SummaryPair {
  source: string;
  target: string | null;
}

export interface Summary {
  /** 0-based indices into the article's sentences in reading order (all paragraphs, flattened). */
  indices: number[];
  pairs: SummaryPair[];
}

/** After summarize: the summary as aligned source/English pairs in document order. */
export interface SummarizedArticle extends TranslatedArticle {
  summary: Summary;
}

/** All sentences of an article in reading order, the index space the summary uses. */
export function sentencesOf<S extends SourceSentence>(article: { paragraphs: { sentences: S[] }[] }): S[] {
  return article.paragraphs.flatMap((paragraph) => paragraph.sentences);
}

/**
 * How an article's run ended. `ok`: every output written and every sentence that needed a model got
 * one (QA flags are warnings and do not change this); `partial`: outputs written, but something is
 * missing (untranslated sentences, replaced bytes); `failed`: no outputs (unreadable, binary, empty,
 * too large, a stage threw); `skipped`: outputs already up to date.
 */
export const ARTICLE_STATUSES = ['ok', 'partial', 'failed', 'skipped'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

/** Why an article's status is what it is; docs/running.md lists each with its fix. */
export const ARTICLE_REASONS = [
  // failed: the reader could not make an article of the file
  'binary',
  'empty',
  'too-large',
  'unreadable',
  'no-article',
  'too-complex',
  // failed: a stage threw, or the outputs could not be written
  'stage-error',
  'output-error',
  // failed: the file changed while it was processed, every time it was started over
  'input-changed',
  // failed on a queue (newsbridge worker): every worker that took it died, or its job was cancelled,
  // or refused it because its models are not the weights the run was enqueued with
  'worker-lost',
  'cancelled',
  'model-mismatch',
  // partial
  'invalid-utf8',
  'invalid-utf16',
  'model-unavailable',
  'untranslated-sentences',
  'over-budget',
  // ok, kept as it is
  'unsupported-language',
  // skipped
  'up-to-date',
] as const;
export type ArticleReason = (typeof ARTICLE_REASONS)[number];
