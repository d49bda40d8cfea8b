import { z } from 'zod';
import { ARTICLE_REASONS, ARTICLE_STATUSES, BOILERPLATE_REASONS, DROPPED_BLOCK_REASONS, SENTENCE_FLAGS } from '../article.js';
import { DNT_KINDS } from '../terminology/dnt.js';

/** The zod schemas of the outputs: `<id>.json` and one line of `manifest.jsonl` (what the README's tables document). */

const languageGuessSchema = z.strictObject({
  lang: z
    .string()
    .describe(
      "ISO 639-1 code, or `und` when undetermined; an article's is `mul` when its paragraphs are in several languages, none of them most of it (each paragraph then has its own).",
    ),
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
    .describe(
      "sha256 over the names and sha256s of the model's files that were loaded (ONNX graphs, config, tokenizer): which weights made the translations.",
    ),
  license: z
    .string()
    .optional()
    .describe(
      "The model's licence as `models pull` recorded it (the hub's model card, else the family's), such as `cc-by-nc-4.0` (non-commercial); absent when the model folder has no manifest.",
    ),
  outputPieces: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'With `translation.trimOutputVocabulary`: how many vocabulary pieces the output layer kept (the translations were written with those only); absent when it kept them all.',
    ),
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
        extraction: z
          .string()
          .describe('How the article was taken out of the page: `readability` (Readability on linkedom, then the structure rules).'),
        removed: z
          .array(z.strictObject({ text: z.string(), reason: z.enum(DROPPED_BLOCK_REASONS) }))
          .describe(
            'Blocks the extraction rules took out of the article container: `caption`, `navigation`, `widget`, `link-list`, `byline`, `timestamp`, `title-repeat`, `header`, `empty-section`.',
          ),
      })
      .optional()
      .describe('For an HTML input: what the page said about itself (null where it says nothing) and how its article was found.'),
    fetched: z
      .strictObject({
        url: z.string().describe("The article's canonical URL (tracking parameters and fragment removed)."),
        feed: z.string().describe('The feed or sitemap of input.feeds that listed it.'),
        feedDate: z.string().nullable().describe("The item's date in the feed (ISO 8601 when it parsed as a date)."),
      })
      .optional()
      .describe('For a page `newsbridge fetch` saved (it has a `.fetch.json` beside it): where it came from.'),
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
            terms: z
              .array(
                z.strictObject({
                  kind: z.enum(['term', ...DNT_KINDS]).describe('`term`: a glossary entry; else the do-not-translate kind.'),
                  source: z.string().describe('As the source sentence writes it.'),
                  target: z.string().describe('The English the output must carry.'),
                  present: z.boolean().describe('Whether the English carries it (a term given n times: as often).'),
                }),
              )
              .optional()
              .describe("The sentence's glossary terms and do-not-translate spans (docs/terminology.md); absent when it has none."),
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
      .describe(
        'sha256 of the input bytes, the settings that shape the output and the models used; a later run skips the article while it is unchanged.',
      ),
  })
  .describe('newsbridge article output (output/<id>.json).');

export type ArticleOutput = z.infer<typeof articleOutputSchema>;

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
