/**
 * What a decoder step costs against the rows it carries: the question behind `bench:serve
 * --compare-unshared` (does a shared batch of many requests' sentences cost less per sentence than
 * each sentence decoded on its own?). On the model `bench:serve` serves (the generated
 * opus-mt-base-sized vi→en in bench/.models; run `npm run bench:serve -- --smoke` or bench:serve once
 * to generate it), one worker's worth of threads:
 *
 *   npx tsx bench/decode-rows.ts -- [--sentences 1,2,4,8,16,32] [--new-tokens 40] [--threads 1]
 *                                   [--dtype q8|fp32] [--q8-activations per-row|per-batch]
 *
 * Each size decodes that many copies of one NTREX-128 sentence (33 source tokens) with the model's
 * beam search (4 beams: 4 rows a sentence), every output fixed to `--new-tokens`, so the rows stay
 * the same all the way; prints the seconds per sentence and, per step, the decoder's onnxruntime run,
 * the cache gathers (`BatchState.keepRows`), the log-softmax and top-k runs, and the rest (our
 * JavaScript). Sessions are timed by wrapping their `run`; nothing else is changed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, env, LogLevel } from '@huggingface/transformers';
import { Command, Option } from 'commander';
import type * as ort from 'onnxruntime-node';
import type { ModelDtype } from '../src/config/config.js';
import { BatchState } from '../src/translation/batch-state.js';
import { decode, modelSearchSettings } from '../src/translation/decoder.js';
import { openSeq2SeqSessions, type Q8Activations } from '../src/translation/seq2seq-sessions.js';
import { repoRoot } from '../tools/repo-root.js';
import { sharedPath } from './shared-data.js';

interface Options {
  sentences: number[];
  newTokens: number;
  threads: number;
  dtype: ModelDtype;
  q8Activations: Q8Activations;
}

const timings = { decoder: 0, steps: 0, rowSteps: 0, gathers: 0, logSoftmax: 0 };

function timeRuns(session: ort.InferenceSession): void {
  const run = session.run.bind(session);
  session.run = (async (feeds: ort.InferenceSession.FeedsType, ...rest: unknown[]) => {
    const started = performance.now();
    const result = await (run as (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType>)(feeds, ...rest);
    timings.decoder += performance.now() - started;
    timings.steps++;
    timings.rowSteps += (feeds.input_ids as ort.Tensor).dims[0]!;
    return result;
  }) as typeof session.run;
}

function timeGathers(): void {
  const keepRows = BatchState.prototype.keepRows;
  BatchState.prototype.keepRows = function (this: BatchState, ...args: Parameters<typeof keepRows>) {
    const started = performance.now();
    keepRows.apply(this, args);
    timings.gathers += performance.now() - started;
  };
}

async function main(options: Options): Promise<void> {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const dir = path.join(repoRoot, 'bench', '.models', 'Xenova', 'opus-mt-vi-en');
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const line = readFileSync(sharedPath('data/mt/ntrex128/newstest2019-ref.vie.txt'), 'utf8').split('\n')[3]!;
  const ids = tokenizer.encode(line).slice(-33);
  const sessions = await openSeq2SeqSessions(dir, {
    dtype: options.dtype,
    q8Activations: options.q8Activations,
    intraOpThreads: options.threads,
  });
  const settings = modelSearchSettings(sessions.info);
  const input = { ids, maxNewTokens: options.newTokens, minNewTokens: options.newTokens };
  await decode(sessions, [{ ids, maxNewTokens: 4, minNewTokens: 4 }], settings); // warm-up, untimed
  timeRuns(sessions.decoder);
  timeGathers();
  const { logSoftmax } = sessions;
  const top = logSoftmax.top.bind(logSoftmax);
  logSoftmax.top = async (...args: Parameters<typeof top>) => {
    const started = performance.now();
    const result = await top(...args);
    timings.logSoftmax += performance.now() - started;
    return result;
  };
  console.log(
    `bench:decode-rows — ${options.dtype} ${options.dtype === 'q8' ? options.q8Activations : ''}, ${ids.length} source tokens, ${options.newTokens} new tokens, beams ${settings.numBeams}, ${options.threads} thread(s)`,
  );
  console.log('sentences | rows | s/sentence | decoder ms/step | µs per row-step | gathers ms/step | log-softmax ms/step | rest ms/step');
  for (const count of options.sentences) {
    Object.assign(timings, { decoder: 0, steps: 0, rowSteps: 0, gathers: 0, logSoftmax: 0 });
    const started = performance.now();
    await decode(
      sessions,
      Array.from({ length: count }, () => input),
      settings,
    );
    const total = performance.now() - started;
    const perStep = (ms: number) => (ms / timings.steps).toFixed(1);
    console.log(
      [
        count,
        count * settings.numBeams,
        (total / count / 1000).toFixed(3),
        perStep(timings.decoder),
        ((1000 * timings.decoder) / timings.rowSteps).toFixed(0),
        perStep(timings.gathers),
        perStep(timings.logSoftmax),
        perStep(total - timings.decoder - timings.gathers - timings.logSoftmax),
      ].join(' | '),
    );
  }
  await sessions.release();
}

const positiveIntegers = (value: string) => value.split(',').map(Number);
const program = new Command('bench:decode-rows')
  .description('Decoder step cost against the rows of a batch.')
  .option('--sentences <list>', 'batch sizes, in sentences', positiveIntegers, [1, 2, 4, 8, 16, 32])
  .option('--new-tokens <n>', 'generated tokens of every output', Number, 40)
  .option('--threads <n>', 'intra-op threads', Number, 1)
  .addOption(new Option('--dtype <dtype>', 'weights').choices(['q8', 'fp32']).default('q8'))
  .addOption(new Option('--q8-activations <mode>', 'q8 activation scales').choices(['per-row', 'per-batch']).default('per-row'))
  .parse();

await main(program.opts<Options>());
