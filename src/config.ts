import { z } from 'zod';

/**
 * The shape of `pipeline.yaml`. Every key has a default, so an empty file is a valid config; unknown
 * keys are rejected (`strictObject`) so a typo never silently falls back to a default.
 */

const modelSpec = z.strictObject({
  /** Hub id, resolved locally as `<modelsDir>/<id>/`. */
  id: z.string().min(1),
  /** Branch, tag or commit on the hub; `main` unless pinned. */
  revision: z.string().min(1).default('main'),
});

export const configSchema = z.strictObject({
  input: z
    .strictObject({
      /** fast-glob patterns, relative to the working directory. */
      patterns: z.array(z.string().min(1)).min(1).default(['input/**/*.{txt,md}']),
      /** Articles over this size are not read (status `failed`, reason `too-large`). */
      maxBytes: z.number().int().positive().default(20 * 1024 * 1024),
    })
    .prefault({}),
  output: z
    .strictObject({
      dir: z.string().min(1).default('output'),
      /** Per-article outputs to write. */
      formats: z.array(z.enum(['json', 'md'])).min(1).default(['json', 'md']),
    })
    .prefault({}),
  run: z
    .strictObject({
      /** Articles processed at once. */
      concurrency: z.number().int().min(1).max(64).default(2),
    })
    .prefault({}),
  clean: z
    .strictObject({
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  detect: z
    .strictObject({
      /** Below this confidence the answer is `und`. */
      minConfidence: z.number().min(0).max(1).default(0.5),
      /** Texts shorter than this (in characters, spaces excluded) are `und`. */
      minChars: z.number().int().min(0).default(8),
    })
    .prefault({}),
  translation: z
    .strictObject({
      /** Source language → model. Languages not listed pass through as `unsupported-language`. */
      models: z.record(z.string().regex(/^[a-z]{2,3}$/), modelSpec).default({
        ar: { id: 'Xenova/opus-mt-ar-en', revision: 'main' },
        vi: { id: 'Xenova/opus-mt-vi-en', revision: 'main' },
      }),
      modelsDir: z.string().min(1).default('models'),
      dtype: z.enum(['q8', 'fp32']).default('q8'),
      /** Download configured models that are missing before a run; false keeps runs fully offline. */
      download: z.boolean().default(true),
      /** Mirror with the hub's URL layout (`<mirror>/<id>/resolve/<revision>/<file>`). */
      mirror: z.url().default('https://huggingface.co'),
      /** Source tokens per batch; sentences are sorted by length so padding stays small. */
      batchTokens: z.number().int().min(16).default(2048),
      /** Inputs longer than this (in model tokens) are split at clause punctuation first. */
      maxInputTokens: z.number().int().min(8).max(512).default(512),
      /** Upper bound on generated tokens as a multiple of the source tokens (plus a small constant). */
      maxNewTokensRatio: z.number().min(1).max(8).default(2),
      numBeams: z.number().int().min(1).max(8).default(1),
      noRepeatNgramSize: z.number().int().min(0).default(0),
      repetitionPenalty: z.number().min(1).default(1),
    })
    .prefault({}),
  summary: z
    .strictObject({
      /** Sentences in the summary; with `ratio`, the larger of the two. */
      sentences: z.number().int().min(1).default(3),
      /** Fraction of the article's sentences, 0 to turn off. */
      ratio: z.number().min(0).max(1).default(0),
    })
    .prefault({}),
  cache: z
    .strictObject({
      /** Translation memory (SQLite); one row per model, revision, dtype and source sentence. */
      path: z.string().min(1).default('.newsbridge/cache.sqlite'),
      enabled: z.boolean().default(true),
    })
    .prefault({}),
});

export type PipelineConfig = z.infer<typeof configSchema>;
export type ModelSpec = z.infer<typeof modelSpec>;

export const defaultConfig: PipelineConfig = configSchema.parse({});
