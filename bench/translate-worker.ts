/**
 * One bench:translate variant in a process of its own, so each variant's peak RSS is its own.
 * Started and driven by bench/translate.ts (the protocol is at `main`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AutoTokenizer, env, LogLevel, pipeline, type TranslationPipeline } from '@huggingface/transformers';
import { defaultConfig, type ModelDtype } from '../src/config/config.js';
import { codeSchemeOf, languageTokenId, specialTokenIds } from '../src/translation/families.js';
import type { Q8Activations } from '../src/translation/seq2seq-sessions.js';
import { packBatches } from '../src/translation/batcher.js';
import { decodingOptions, Translator } from '../src/translation/translator.js';
import { GenerateBaseline } from './generate-baseline.js';
import { OrtGreedyDecoder } from './ort-greedy.js';

/**
 * (a) the Translator (greedy, or beam search with `beams` > 1) on `workers` × `threadsPerWorker`;
 * (g) the Translator's former transformers.js `generate` path; (b) the naive pipeline loop; (c) the
 * bare onnxruntime greedy decoder.
 */
export type Variant =
  | {
      kind: 'translator';
      beams: number;
      workers: number;
      threadsPerWorker: number;
      q8Activations?: Q8Activations;
      /** An English text the output layer is cut to (`translation.trimOutputVocabulary`). */
      trimOutputVocabulary?: string;
    }
  | { kind: 'generate' }
  | { kind: 'naive-pipeline' }
  | { kind: 'ort-greedy' };

export interface WorkerJob {
  variant: Variant;
  lang: 'ar' | 'vi';
  dtype: ModelDtype;
  modelDir: string;
  /** Intra-op threads of the variants that run on the calling thread ((g), (b), (c)). */
  threads: number;
  sentences: string[];
  /** Per sentence: decoder steps to take, the final `</s>` included. */
  steps: number[];
  /** Sentences translated once before timing (not counted), by index. */
  warmUp: number;
}

/** The answer to one `run`: the time for those sentences and the work done. */
export interface ChunkFigures {
  ms: number;
  sentences: number;
  /** Decoder steps: every generated token, the final `</s>` included. */
  targetTokens: number;
  /** Model input tokens, `</s>` included. */
  sourceTokens: number;
}

/** The answer to `end`. */
export interface WorkerFigures {
  loadMs: number;
  /** process.resourceUsage().maxRSS at the end, in bytes. */
  peakRssBytes: number;
  /** RSS after the last chunk, in bytes: the loaded model without load-time copies (peak RSS includes those). */
  endRssBytes: number;
}

/**
 * The model's input ids for a sentence, as the Translator builds them (Translator.tokenize): on an
 * M2M-100 model the source-language token first and `</s>` last, else the tokenizer's own ids; and the
 * forced target-language token (`eng_Latn`) on M2M-100, for (g) and (b), which are given it as Hugging
 * Face's translation pipeline is.
 */
export async function modelInputs(
  modelDir: string,
  lang: WorkerJob['lang'],
): Promise<{ tokenize: (text: string) => number[]; forcedBosId: number | null; sourceCode: string | null }> {
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
  const config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8')) as { model_type: string; eos_token_id: number };
  const specialIds = specialTokenIds(JSON.parse(await readFile(path.join(modelDir, 'tokenizer.json'), 'utf8')));
  const scheme = codeSchemeOf(specialIds);
  if (config.model_type !== 'm2m_100' || !scheme)
    return { tokenize: (text) => tokenizer.encode(text), forcedBosId: null, sourceCode: null };
  const sourceId = languageTokenId(specialIds, scheme, lang);
  const sourceCode = Object.keys(specialIds).find((token) => specialIds[token] === sourceId)!;
  return {
    tokenize: (text) => [sourceId, ...tokenizer.encode(text, { add_special_tokens: false }), config.eos_token_id],
    forcedBosId: languageTokenId(specialIds, scheme, 'en'),
    sourceCode,
  };
}

/** Translates sentences (by index into the job's list); resolves to the decoder steps each took. */
type Runner = (indices: number[]) => Promise<number[]>;

/** Releases what the variant holds; a Translator's worker threads would keep the process alive. */
let releaseVariant: () => Promise<void> = async () => {};

async function loadRunner(job: WorkerJob, inputs: Awaited<ReturnType<typeof modelInputs>>): Promise<Runner> {
  const { tokenize, forcedBosId, sourceCode } = inputs;
  const translation = defaultConfig.translation;
  const { variant } = job;
  const stepsOf = new Map(job.sentences.map((sentence, i) => [tokenize(sentence).join(','), job.steps[i]!]));
  switch (variant.kind) {
    case 'translator': {
      const translator = await Translator.load({
        modelDir: job.modelDir,
        model: { lang: job.lang, id: `opus-mt-${job.lang}-en`, revision: 'main', dtype: job.dtype },
        ...decodingOptions(translation),
        dtype: job.dtype,
        numBeams: variant.beams,
        q8Activations: variant.q8Activations ?? translation.q8Activations,
        workers: variant.workers,
        threadsPerWorker: variant.threadsPerWorker,
        trimOutputVocabulary: variant.trimOutputVocabulary,
        // The hook counts tokens before `</s>`; the bench counts `</s>` too.
        fixedTargetTokens: (ids) => stepsOf.get(ids.join(','))! - 1,
      });
      releaseVariant = () => translator.dispose();
      return async (indices) =>
        (await translator.translate(indices.map((i) => job.sentences[i]!))).map((result) => result.targetTokens + 1);
    }
    case 'naive-pipeline': {
      // NLLB's tokenizer takes the languages by code, as a user of the pipeline gives them.
      const languages = sourceCode ? { src_lang: sourceCode, tgt_lang: 'eng_Latn' } : {};
      const translate = (await pipeline('translation', job.modelDir, {
        dtype: job.dtype,
        device: 'cpu',
        local_files_only: true,
        session_options: { intraOpNumThreads: job.threads, interOpNumThreads: 1 },
      })) as TranslationPipeline;
      return async (indices) => {
        const steps: number[] = [];
        for (const i of indices) {
          const length = job.steps[i]!;
          await translate(job.sentences[i]!, { min_new_tokens: length, max_new_tokens: length, ...languages } as Parameters<
            typeof translate
          >[1]);
          steps.push(length);
        }
        return steps;
      };
    }
    case 'generate':
    case 'ort-greedy': {
      if (variant.kind === 'ort-greedy' && forcedBosId !== null)
        throw new Error('variant (c), the bare decoder, is written for Marian only');
      const decoder =
        variant.kind === 'generate'
          ? await GenerateBaseline.load(job.modelDir, job.dtype, job.threads, forcedBosId)
          : await OrtGreedyDecoder.load(job.modelDir, job.dtype, job.threads);
      return async (indices) => {
        const inputs = indices.map((index) => ({ ids: tokenize(job.sentences[index]!), index }));
        const steps = new Map<number, number>();
        for (const batch of packBatches(inputs, translation.batchTokens)) {
          const lengths = batch.map((input) => job.steps[input.index]!);
          // (g) takes tokens before `</s>`, (c) decoder steps.
          const outputs =
            decoder instanceof GenerateBaseline
              ? await decoder.generate(
                  batch.map((input) => input.ids),
                  lengths.map((length) => length - 1),
                )
              : await decoder.generate(
                  batch.map((input) => input.ids),
                  lengths,
                );
          for (const [row, input] of batch.entries()) steps.set(input.index, outputs[row]!.length + 1);
        }
        return indices.map((index) => steps.get(index)!);
      };
    }
  }
}

/**
 * Protocol, one JSON object per line: the job comes in on stdin; the worker loads the model, warms
 * up and answers `{"ready": true}`; then each `{"run": [first, end]}` times those sentences and answers
 * a `ChunkFigures`; `{"end": true}` answers the `WorkerFigures` and exits. The parent steps the
 * variants' workers in turn, so the machine's load falls on them alike.
 */
async function main(): Promise<void> {
  const input = createInterface({ input: process.stdin });
  const lines = input[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? '{"end": true}') as Record<string, unknown>;
  const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

  const job = (await next()) as unknown as WorkerJob;
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const loadStarted = performance.now();
  const inputs = await modelInputs(job.modelDir, job.lang);
  const { tokenize } = inputs;
  const run = await loadRunner(job, inputs);
  const loadMs = performance.now() - loadStarted;
  await run(Array.from({ length: Math.min(job.warmUp, job.sentences.length) }, (_, i) => i));
  send({ ready: true });

  for (let message = await next(); !message.end; message = await next()) {
    const [first, end] = message.run as [number, number];
    const indices = Array.from({ length: end - first }, (_, i) => first + i);
    const started = performance.now();
    const steps = await run(indices);
    const ms = performance.now() - started;
    if (steps.some((count, i) => count !== job.steps[first + i])) {
      throw new Error(`${job.variant.kind}: the outputs do not have the fixed lengths the bench asks for`);
    }
    const figures: ChunkFigures = {
      ms,
      sentences: steps.length,
      targetTokens: steps.reduce((sum, count) => sum + count, 0),
      sourceTokens: indices.reduce((sum, i) => sum + tokenize(job.sentences[i]!).length, 0),
    };
    send(figures);
  }
  const figures: WorkerFigures = { loadMs, peakRssBytes: process.resourceUsage().maxRSS * 1024, endRssBytes: process.memoryUsage.rss() };
  send(figures);
  input.close();
  await releaseVariant();
}

await main();
