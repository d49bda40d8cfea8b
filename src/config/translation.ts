import { z } from 'zod';
import { DNT_KINDS } from '../terminology/dnt.js';

/** Model weights: quantized `q8` (fast, small) or `fp32`. */
export const MODEL_DTYPES = ['q8', 'fp32'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];
/**
 * A hub repo id as the hub accepts it: `owner/name` (or a bare legacy `name`), each part letters,
 * digits, `-`, `_` and `.`, not starting or ending with `-` or `.`, with no `..` or `--`. The id becomes
 * a path under the models folder, so nothing else may get through.
 */
const HUB_ID_PART = '[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?';
export const HUB_MODEL_ID = new RegExp(`^(?!.*(?:\\.\\.|--))${HUB_ID_PART}(?:/${HUB_ID_PART})?$`);

const modelSpec = z.strictObject({
  id: z
    .string()
    .regex(HUB_MODEL_ID)
    .describe('Hub model id `owner/name` (letters, digits, `-`, `_`, `.`; no `..` or `--`), resolved locally as `<modelsDir>/<id>/`.'),
  revision: z.string().min(1).default('main').describe('Branch, tag or commit on the hub; `main` unless pinned.'),
});

/** `translation:` in pipeline.yaml: the models and how they decode (docs/models.md, docs/terminology.md). */
export const translationSchema = z
  .strictObject({
    models: z
      .record(
        z
          .string()
          .regex(/^[a-z]{2,3}$/)
          .describe('ISO 639 language code (2–3 lowercase letters).'),
        modelSpec,
      )
      .default({
        ar: { id: 'Xenova/opus-mt-ar-en', revision: 'main' },
        vi: { id: 'Xenova/opus-mt-vi-en', revision: 'main' },
      })
      .describe('Source language → model. Languages not listed pass through as `unsupported-language`.'),
    modelsDir: z.string().min(1).default('models').describe('Directory holding the downloaded models.'),
    dtype: z.enum(MODEL_DTYPES).default('q8').describe('Model weights to use: quantized `q8` (fast, small) or `fp32`.'),
    q8Activations: z
      .enum(['per-row', 'per-batch'])
      .default('per-row')
      .describe(
        'How q8 models quantize activations: `per-row` gives each token its own scale, so a sentence translates the same whatever it is batched with; `per-batch` runs the exported graphs as they are (faster, but batch mates change the output).',
      ),
    download: z
      .boolean()
      .default(true)
      .describe('Download configured models that are missing before a run; false keeps runs fully offline.'),
    mirror: z
      .url()
      .default('https://huggingface.co')
      .describe('Model hub or mirror with the hub URL layout (`<mirror>/<id>/resolve/<revision>/<file>`).'),
    downloadStallSeconds: z
      .number()
      .int()
      .min(1)
      .default(60)
      .describe('A model download that receives no data for this many seconds is dropped and retried (resuming).'),
    downloadFileSeconds: z
      .number()
      .int()
      .min(1)
      .default(1800)
      .describe('A model file not downloaded within this many seconds (retries included) fails; the next pull resumes it.'),
    maxArticleChars: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe(
        'Characters of one article sent to the models, in reading order; past them sentences stay untranslated (status `partial`, reason `over-budget`).',
      ),
    batchTokens: z
      .number()
      .int()
      .min(16)
      .default(512)
      .describe('Source tokens per batch; sentences are sorted by length so padding stays small.'),
    maxInputTokens: z
      .number()
      .int()
      .min(8)
      .max(512)
      .default(512)
      .describe('Inputs longer than this many model tokens are split at clause punctuation first.'),
    maxNewTokensRatio: z
      .number()
      .min(1)
      .max(8)
      .default(2)
      .describe('Upper bound on generated tokens as a multiple of the source tokens (plus a small constant).'),
    numBeams: z
      .number()
      .int()
      .min(1)
      .max(8)
      .optional()
      .describe(
        "Beam width; 1 is greedy search (fastest). Default: the model's generation_config.json num_beams (4 for opus-mt-ar-en, 6 for opus-mt-vi-en).",
      ),
    lengthPenalty: z
      .number()
      .optional()
      .describe("Beam search: a finished hypothesis scores log-probability / length^lengthPenalty. Default: the model's, else 1."),
    earlyStopping: z
      .union([z.boolean(), z.literal('never')])
      .optional()
      .describe(
        "Beam search: true stops a sentence once numBeams hypotheses are finished; false (Hugging Face's default) when none of the live beams can still beat them; 'never' only at the length limit. Default: the model's, else false.",
      ),
    noRepeatNgramSize: z.number().int().min(0).default(0).describe('Forbid repeating n-grams of this size in the output; 0 turns it off.'),
    repetitionPenalty: z.number().min(1).default(1).describe('Penalty on repeated tokens; 1 turns it off.'),
    workers: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(2)
      .describe('Worker threads per translation model, each with its own onnxruntime sessions; decoding never runs on the main thread.'),
    threadsPerWorker: z.number().int().min(1).max(64).default(1).describe('onnxruntime intra-op threads of each worker.'),
    lengthRatio: z
      .strictObject({
        min: z.number().min(0).default(0.3).describe('Below this output/input token ratio a sentence is flagged.'),
        max: z.number().min(1).default(3).describe('Above this output/input token ratio a sentence is flagged.'),
      })
      .prefault({})
      .describe('Bounds of the `length-ratio` flag: output tokens over input tokens, special tokens excluded.'),
    glossary: z
      .record(
        z
          .string()
          .regex(/^[a-z]{2,3}$/)
          .describe('ISO 639 code of the source language the glossary is for.'),
        z.string().min(1),
      )
      .default({})
      .describe(
        "Source language → glossary file (TSV or CSV: source term, English term, optional `ignore-case`; `#` comments), e.g. `ar: glossary/ar.tsv`; the English of that language's sentences carries the glossary's terms. Loaded once when the run starts: a bad file stops the run (file:line, exit 1). See docs/terminology.md.",
      ),
    doNotTranslate: z
      .array(z.enum(DNT_KINDS))
      .default([...DNT_KINDS])
      .describe(
        'Do-not-translate spans copied exactly into the English: `markup` (what a web page marks translate="no" or class="notranslate"), `placeholders` ({{…}}, %s, {0}), `addresses` (URLs, e-mail), `latin` (Latin-script tokens in Arabic), `numbers` (and XNUMX). [] turns them off.',
      ),
    trimOutputVocabulary: z
      .string()
      .min(1)
      .optional()
      .describe(
        "An English text file (UTF-8, one or more sentences a line). Set: each model's output layer is cut when it loads to the pieces this text tokenizes into (plus special and language tokens, ASCII characters and the glossaries' English), so a model with a large multilingual vocabulary (NLLB-200: 256,206 pieces) computes far fewer logits a step. Translations can change (beam scores are normalised over the kept pieces only); unchecked on real weights, so unset by default. Unset: the whole output layer. See docs/models.md.",
      ),
  })
  .prefault({})
  .describe('Machine translation into English.');

export type ModelSpec = z.infer<typeof modelSpec>;
