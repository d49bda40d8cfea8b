/**
 * One bench:translate variant in a process of its own, so each variant's peak RSS is its own.
 * Started and driven by bench/translate.ts (the protocol is at `main`).
 */
import { createInterface } from 'node:readline';
import { AutoTokenizer, env, LogLevel, pipeline, type TranslationPipeline } from '@huggingface/transformers';
import { defaultConfig } from '../src/config/config.js';
import type { ModelDtype } from '../src/models/store.js';
import { decodingOptions, packBatches, Translator } from '../src/translation/translator.js';
import { OrtGreedyDecoder } from './ort-greedy.js';

export type Variant = 'translator' | 'naive-pipeline' | 'ort-greedy';

export interface WorkerJob {
  variant: Variant;
  lang: 'ar' | 'vi';
  dtype: ModelDtype;
  modelDir: string;
  threads: number;
  sentences: string[];
  /** Sentences translated once before timing (not counted). */
  warmUp: string[];
}

/** The answer to one `run`: the time for those sentences and the work done. */
export interface ChunkFigures {
  ms: number;
  sentences: number;
  /** Decoder steps: every generated token, the final `</s>` included. */
  targetTokens: number;
}

/** The answer to `end`. */
export interface WorkerFigures {
  loadMs: number;
  /** process.resourceUsage().maxRSS at the end, in bytes. */
  peakRssBytes: number;
}

/** Every output is this many tokens, `</s>` included, whatever the (random) weights would say. */
export function fixedOutputTokens(sourceTokens: number): number {
  return Math.round(1.1 * sourceTokens);
}

/** Translates a list of sentences; resolves to the decoder steps it took per sentence. */
type Runner = (sentences: string[]) => Promise<number[]>;

async function loadRunner(job: WorkerJob): Promise<{ run: Runner; tokenize: (text: string) => number[] }> {
  const translation = defaultConfig.translation;
  switch (job.variant) {
    case 'translator': {
      const translator = await Translator.load({
        modelDir: job.modelDir,
        model: { lang: job.lang, id: `opus-mt-${job.lang}-en`, revision: 'main', dtype: job.dtype },
        ...decodingOptions(translation),
        dtype: job.dtype,
        numBeams: 1,
        threadsPerWorker: job.threads,
        // The hook counts tokens before `</s>`; the bench counts `</s>` too.
        fixedTargetTokens: (sourceTokens) => fixedOutputTokens(sourceTokens) - 1,
      });
      return {
        tokenize: (sentence) => translator.tokenize(sentence),
        run: async (sentences) => (await translator.translate(sentences)).map((result) => result.targetTokens + 1),
      };
    }
    case 'naive-pipeline': {
      const translate = (await pipeline('translation', job.modelDir, {
        dtype: job.dtype,
        device: 'cpu',
        local_files_only: true,
        session_options: { intraOpNumThreads: job.threads, interOpNumThreads: 1 },
      })) as TranslationPipeline;
      const tokenize = (sentence: string) => translate.tokenizer.encode(sentence);
      return {
        tokenize,
        run: async (sentences) => {
          const steps: number[] = [];
          for (const sentence of sentences) {
            const length = fixedOutputTokens(tokenize(sentence).length);
            await translate(sentence, { min_new_tokens: length, max_new_tokens: length });
            steps.push(length);
          }
          return steps;
        },
      };
    }
    case 'ort-greedy': {
      // The transformers.js tokenizer, so the model gets the same ids as in the other variants.
      const [decoder, tokenizer] = await Promise.all([
        OrtGreedyDecoder.load(job.modelDir, job.dtype, job.threads),
        AutoTokenizer.from_pretrained(job.modelDir, { local_files_only: true }),
      ]);
      const tokenize = (sentence: string) => tokenizer.encode(sentence);
      return {
        tokenize,
        run: async (sentences) => {
          const inputs = sentences.map((sentence, index) => ({ ids: tokenize(sentence), index }));
          const steps: number[] = new Array<number>(sentences.length).fill(0);
          for (const batch of packBatches(inputs, translation.batchTokens)) {
            const lengths = batch.map((input) => fixedOutputTokens(input.ids.length));
            const outputs = await decoder.generate(
              batch.map((input) => input.ids),
              lengths,
            );
            batch.forEach((input, row) => {
              if (outputs[row]!.length !== lengths[row]! - 1) throw new Error('ort-greedy: an output has the wrong length');
              steps[input.index] = lengths[row]!;
            });
          }
          return steps;
        },
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
  const runner = await loadRunner(job);
  const loadMs = performance.now() - loadStarted;
  await runner.run(job.warmUp);
  send({ ready: true });

  const expected = job.sentences.map((sentence) => fixedOutputTokens(runner.tokenize(sentence).length));
  for (let message = await next(); !message.end; message = await next()) {
    const [first, end] = message.run as [number, number];
    const started = performance.now();
    const steps = await runner.run(job.sentences.slice(first, end));
    const ms = performance.now() - started;
    if (steps.some((count, i) => count !== expected[first + i])) {
      throw new Error(`${job.variant}: the outputs do not have the fixed lengths the bench asks for`);
    }
    const figures: ChunkFigures = { ms, sentences: steps.length, targetTokens: steps.reduce((sum, count) => sum + count, 0) };
    send(figures);
  }
  const figures: WorkerFigures = { loadMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  send(figures);
  input.close();
}

await main();
