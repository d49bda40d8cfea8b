import { z } from 'zod';
import {
  ARTICLE_REASONS,
  ARTICLE_STATUSES,
  BOILERPLATE_REASONS,
  SENTENCE_FLAGS,
  type ArticleReason,
  type ArticleStatus,
  type LanguageCode,
  type ModelUse,
  type SummarizedArticle,
  type TranslatedParagraph,
} from '../article.js';
import type { OutputFormat } from '../config/config.js';
import { isRightToLeft, MIXED_LANGUAGE, TARGET_LANGUAGE } from '../languages.js';
import { articleHeading } from './heading.js';

/**
 * Stage 7, write: the article as JSON (for machines), as bilingual Markdown (for people) and as one
 * line of `manifest.jsonl`. Rendering is pure; `writeFileAtomic` is the only I/O.
 */

const languageGuessSchema = z.strictObject({
  lang: z
    .string()
    .describe("ISO 639-1 code, or `und` when undetermined; an article's is `mul` when its paragraphs are in several languages, none of them most of it (each paragraph then has its own)."),
  confidence: z.number().min(0).max(1),
});

const modelUseSchema = z.strictObject({
  lang: z.string(),
  id: z.string(),
  revision: z.string(),
  dtype: z.string(),
  weights: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe("sha256 over the names and sha256s of the model's files that were loaded (ONNX graphs, config, tokenizer): which weights made the translations."),
});

export const articleOutputSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    id: z.string().describe('Input path relative to the input root, without extension.'),
    status: z.enum(ARTICLE_STATUSES),
    reason: z.enum(ARTICLE_REASONS).optional().describe('Why the status is not `ok`.'),
    source: z.strictObject({
      path: z.string(),
      bytes: z.number().int().nonnegative(),
      encoding: z.string().describe('Detected encoding of the original bytes.'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
    page: z
      .strictObject({
        title: z.string().nullable(),
        byline: z.string().nullable(),
        published: z.string().nullable().describe('As the page gives it (mostly ISO 8601).'),
        canonicalUrl: z.string().nullable(),
        siteName: z.string().nullable(),
        lang: z.string().nullable().describe('`<html lang>`: a hint only; `language` is what the text is.'),
        extraction: z.string().describe('How the article was taken out of the page: `readability` (Readability on linkedom, then the structure rules).'),
        removed: z
          .array(z.strictObject({ text: z.string(), reason: z.string() }))
          .describe('Blocks the extraction rules took out of the article container: `caption`, `navigation`, `widget`, `link-list`, `byline`, `timestamp`, `title-repeat`, `header`, `empty-section`.'),
      })
      .optional()
      .describe('For an HTML input: what the page said about itself (null where it says nothing) and how its article was found.'),
    language: languageGuessSchema,
    title: z.string().nullable(),
    paragraphs: z.array(
      z.strictObject({
        line: z.number().int().positive().describe('1-based line of the paragraph in the decoded text.'),
        kind: z.enum(['title', 'bullet', 'body']),
        language: languageGuessSchema,
        flags: z.array(z.enum(['foreign-language'])),
        sentences: z.array(
          z.strictObject({
            source: z.string(),
            target: z.string().nullable().describe('English; null when no translation could be made.'),
            flags: z.array(z.enum(SENTENCE_FLAGS)),
          }),
        ),
      }),
    ),
    removed: z
      .array(z.strictObject({ line: z.number().int().positive(), text: z.string(), reason: z.enum(BOILERPLATE_REASONS) }))
      .describe('Boilerplate lines removed by the clean stage, with the reason.'),
    summary: z.strictObject({
      indices: z
        .array(z.number().int().nonnegative())
        .describe("0-based indices into the article's sentences in reading order (all paragraphs, flattened)."),
      pairs: z.array(z.strictObject({ source: z.string(), target: z.string().nullable() })),
    }),
    translation: z.strictObject({
      status: z.enum(['translated', 'passthrough', 'unsupported-language', 'model-unavailable', 'partial', 'over-budget']),
      message: z.string().optional(),
    }),
    models: z.array(modelUseSchema),
    timings: z.record(z.string(), z.number().nonnegative()).describe('Milliseconds per stage.'),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe('sha256 of the input bytes, the settings that shape the output and the models used; a later run skips the article while it is unchanged.'),
  })
  .describe('newsbridge article output (output/<id>.json).');

export type ArticleOutput = z.infer<typeof articleOutputSchema>;

export interface ArticleMeta {
  status: ArticleStatus;
  reason?: ArticleReason;
  models: ModelUse[];
  /** Milliseconds per stage. */
  timings: Record<string, number>;
  /** What the output was made from; see `articleOutputSchema.fingerprint`. */
  fingerprint: string;
}

export function renderArticleJson(article: SummarizedArticle, meta: ArticleMeta): ArticleOutput {
  return {
    schemaVersion: 1,
    id: article.id,
    status: meta.status,
    ...(meta.reason !== undefined ? { reason: meta.reason } : {}),
    source: { ...article.source },
    ...(article.page ? { page: { ...article.page, removed: article.page.removed.map((block) => ({ ...block })) } } : {}),
    language: { lang: article.language.lang, confidence: article.language.confidence },
    title: article.title,
    paragraphs: article.paragraphs.map((paragraph) => ({
      line: paragraph.line,
      kind: paragraph.kind,
      language: { lang: paragraph.language.lang, confidence: paragraph.language.confidence },
      flags: [...paragraph.flags],
      sentences: paragraph.sentences.map((sentence) => ({
        source: sentence.source,
        target: sentence.target,
        flags: [...sentence.flags],
      })),
    })),
    removed: article.removed.map((line) => ({ line: line.line, text: line.text, reason: line.reason })),
    summary: {
      indices: [...article.summary.indices],
      pairs: article.summary.pairs.map((pair) => ({ source: pair.source, target: pair.target })),
    },
    translation: {
      status: article.translation.status,
      ...(article.translation.message !== undefined ? { message: article.translation.message } : {}),
    },
    models: meta.models.map((model) => ({ lang: model.lang, id: model.id, revision: model.revision, dtype: model.dtype, weights: model.weights })),
    timings: Object.fromEntries(Object.entries(meta.timings).map(([stage, ms]) => [stage, Math.round(ms * 10) / 10])),
    fingerprint: meta.fingerprint,
  };
}

/** `<id>.json`'s text: pretty-printed, newline-terminated. */
export function articleJsonText(output: ArticleOutput): string {
  return `${JSON.stringify(output, null, 2)}\n`;
}

/** First strong character of Hebrew, Arabic, Syriac, Thaana or N'Ko script. */
const RTL_FIRST_STRONG = /^[^\p{L}]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;

export function directionOf(lang: LanguageCode, text: string): 'rtl' | 'ltr' {
  if (isRightToLeft(lang)) return 'rtl';
  return lang === 'und' && RTL_FIRST_STRONG.test(text) ? 'rtl' : 'ltr';
}

/**
 * A block of text in its own direction. The blank lines around the content make CommonMark renderers
 * (GitHub, VS Code) treat the inside as Markdown rather than raw HTML.
 */
function block(lang: LanguageCode, text: string, dir: 'rtl' | 'ltr' = directionOf(lang, text)): string {
  const langAttribute = lang === 'und' ? '' : ` lang="${lang}"`;
  return `<div dir="${dir}"${langAttribute}>\n\n${text}\n\n</div>`;
}

/** Backslash-escapes what Markdown or HTML would otherwise interpret inside article text. */
function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>#|~]/g, (character) => `\\${character}`)
    .replace(/^(\s*)([-+=]|\d+[.)])(?=\s|$)/, (_match, space: string, marker: string) => `${space}\\${marker}`);
}

/** Characters that would end a Markdown line or hide in it: line breaks and other controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;

/**
 * Text from a path or a message, for one line of Markdown: escaped like article text, and line
 * breaks and other control characters shown as `\u000a` so that a file name cannot start a new
 * block. Paths go in as text, not as code spans: a backtick in a name would close the span.
 */
function escapeInline(text: string): string {
  return escapeMarkdown(text).replace(CONTROL, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const BULLET_MARKER = /^\s*[-*+•·▪●◦–—]\s*/u;

function unavailable(article: SummarizedArticle): string {
  return `_(translation unavailable: ${article.translation.status})_`;
}

/** Stands for a sentence without a target while the paragraph's English is escaped (text has no NUL). */
const MISSING = '\u0000';

function englishOf(paragraph: TranslatedParagraph, article: SummarizedArticle, strip?: RegExp): string {
  if (paragraph.sentences.every((sentence) => sentence.target === null)) return unavailable(article);
  const raw = paragraph.sentences.map((sentence) => sentence.target ?? MISSING).join(' ');
  return escapeMarkdown(strip ? raw.replace(strip, '') : raw).replaceAll(MISSING, '_(untranslated)_');
}

/** Source then English; English once when it is the source itself (English text passed through). */
function bilingual(lang: LanguageCode, source: string, english: string, prefix = ''): string {
  const sourceText = prefix + escapeMarkdown(source);
  if (english === escapeMarkdown(source)) return block(lang, sourceText);
  return `${block(lang, sourceText)}\n\n${block(TARGET_LANGUAGE, prefix + english, 'ltr')}`;
}

/** The languages of a mixed article's paragraphs, in order of first appearance. */
function mixedLanguages(article: SummarizedArticle): string[] {
  return [...new Set(article.paragraphs.map((paragraph) => paragraph.language.lang))];
}

/** Bilingual Markdown: title, summary first, then every paragraph in the source and in English. */
export function renderArticleMarkdown(article: SummarizedArticle): string {
  const lang = article.language.lang;
  const titleParagraph = article.paragraphs.find((paragraph) => paragraph.kind === 'title');
  const parts: string[] = [];

  // Without a title line, the English of the first sentence (or its source) heads the file (`articleHeading`).
  const heading = articleHeading(article);
  if (titleParagraph) {
    parts.push(bilingual(titleParagraph.language.lang, titleParagraph.text, englishOf(titleParagraph, article), '# '));
  } else if (heading.english !== null) {
    parts.push(block(TARGET_LANGUAGE, `# ${escapeInline(heading.english)}`, 'ltr'));
  } else if (heading.from !== 'id') {
    parts.push(block(heading.source.lang, `# ${escapeInline(heading.source.text)}`));
  } else {
    parts.push(`# ${escapeInline(article.id)}`);
  }

  const details = [
    `Article ${escapeInline(article.id)}`,
    `Source: ${escapeInline(article.source.path)} (${article.source.encoding})`,
    `language: ${lang} (${lang === MIXED_LANGUAGE ? `mixed: ${mixedLanguages(article).join(', ')}; ` : ''}${article.language.confidence.toFixed(2)})`,
    `translation: ${article.translation.status}`,
  ];
  parts.push(`> ${details.join(' · ')}`);
  if (article.translation.message) parts.push(`> ${escapeInline(article.translation.message)}`);

  parts.push('## Summary');
  if (article.summary.pairs.length === 0) parts.push('_(no summary: the article has no sentences)_');
  const sentenceLanguages = article.paragraphs.flatMap((paragraph) =>
    paragraph.sentences.map(() => paragraph.language.lang),
  );
  article.summary.pairs.forEach((pair, position) => {
    const index = article.summary.indices[position];
    const pairLang = (index !== undefined ? sentenceLanguages[index] : undefined) ?? lang;
    const english = pair.target === null ? unavailable(article) : escapeMarkdown(pair.target);
    parts.push(bilingual(pairLang, pair.source, english, `${position + 1}. `));
  });

  parts.push('## Article');
  for (const paragraph of article.paragraphs) {
    if (paragraph === titleParagraph) continue;
    const isBullet = paragraph.kind === 'bullet';
    const source = isBullet ? paragraph.text.replace(BULLET_MARKER, '') : paragraph.text;
    const english = englishOf(paragraph, article, isBullet ? BULLET_MARKER : undefined);
    const note = paragraph.flags.includes('foreign-language') ? '\n\n_(kept as it is: not in the article’s language)_' : '';
    parts.push(bilingual(paragraph.language.lang, source, english, isBullet ? '- ' : '') + note);
  }

  if (article.removed.length > 0) {
    parts.push(
      `<details><summary>Removed lines (${article.removed.length})</summary>\n\n` +
        article.removed.map((line) => `- line ${line.line} (${line.reason}): ${escapeMarkdown(line.text)}`).join('\n') +
        '\n\n</details>',
    );
  }
  return `${parts.join('\n\n')}\n`;
}

export const manifestLineSchema = z
  .strictObject({
    id: z.string(),
    source: z.string().describe('Input path.'),
    status: z.enum(ARTICLE_STATUSES),
    reason: z.enum(ARTICLE_REASONS).optional(),
    output: z
      .strictObject({ status: z.enum(['ok', 'partial']), reason: z.string().optional() })
      .optional()
      .describe('For a `skipped` article: the status and reason of the outputs it kept (`partial`, `model-unavailable`, …).'),
    outputs: z
      .strictObject({ json: z.string().optional(), md: z.string().optional(), html: z.string().optional() })
      .describe('Output files relative to the output directory; empty when none were written.'),
    language: languageGuessSchema.nullable().describe('Null when the article was not read.'),
    summary: z
      .array(z.string().nullable())
      .describe('English summary sentences in document order; null where a sentence has no translation.'),
  })
  .describe('One line of output/manifest.jsonl.');

export type ManifestLine = z.infer<typeof manifestLineSchema>;

export interface ManifestEntry {
  id: string;
  source: string;
  status: ArticleStatus;
  reason?: ArticleReason;
  /** For a `skipped` article: the status and reason of the outputs it kept. */
  output?: { status: 'ok' | 'partial'; reason?: ArticleReason };
  outputs: OutputFiles;
  /**
   * The article, or its output from an earlier run for a skipped one; absent when the article never
   * got through the pipeline (failed to read, for instance).
   */
  article?: Pick<SummarizedArticle, 'language'> & { summary: { pairs: { target: string | null }[] } };
}

/** One line of `manifest.jsonl`, newline included. */
export function manifestLine(entry: ManifestEntry): string {
  const line: ManifestLine = {
    id: entry.id,
    source: entry.source,
    status: entry.status,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.output !== undefined ? { output: entry.output } : {}),
    outputs: { ...entry.outputs },
    language: entry.article ? { lang: entry.article.language.lang, confidence: entry.article.language.confidence } : null,
    summary: entry.article ? entry.article.summary.pairs.map((pair) => pair.target) : [],
  };
  return `${JSON.stringify(line)}\n`;
}

/** An article's output files by format, relative to the output directory. */
export type OutputFiles = Partial<Record<OutputFormat, string>>;

/** Output file names of an article, relative to the output directory (`news/001.json`). */
export function outputFileNames(id: string, formats: readonly OutputFormat[]): OutputFiles {
  return Object.fromEntries(formats.map((format) => [format, `${id}.${format}`]));
}
