/**
 * Where the decode loop's time goes, on the opus-mt-base preset and NTREX-128 sentences:
 *
 *   npm run bench:decode-profile -- [--dtype q8|fp32] [--q8-activations per-row|per-batch] [--beams 1] [--sentences 64] [--lang ar] [--threads 2]
 *
 * Decodes the Translator's 512-token batches in this process (no worker), output lengths fixed to the
 * English references as in bench:translate, and splits the wall time into the encoder's runs, the
 * decoder's runs (onnxruntime, by row count), beam search's log-softmax runs and the rest (our JavaScript: processors, argmax or
 * beam bookkeeping, dropping rows).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoTokenizer, env, LogLevel } from '@huggingface/transformers';
import { Command, InvalidArgumentError, Option } from 'commander';
import type * as ort from 'onnxruntime-node';
import type { ModelDtype } from '../src/config/config.js';
import { decode, modelSearchSettings, type DecodeInput } from '../src/translation/decoder.js';
import { openSeq2SeqSessions, type Q8Activations } from '../src/translation/seq2seq-sessions.js';
import { packBatches } from '../src/translation/batcher.js';
import { repoRoot } from '../tools/repo-root.js';
import { sharedPath } from './shared-data.js';

type Lang = 'ar' | 'vi';
const SOURCE_FILES: Record<Lang, string> = { ar: 'newstest2019-ref.arb.txt', vi: 'newstest2019-ref.vie.txt' };

/** Wraps a session's `run` to add up its time (the session itself is untouched). */
function timed(session: ort.InferenceSession, onRun: (ms: number, rows: number) => void): void {
  const run = session.run.bind(session);
  session.run = (async (feeds: ort.InferenceSession.FeedsType, ...rest: unknown[]) => {
    const started = performance.now();
    const result = await (run as (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType>)(feeds, ...rest);
    onRun(performance.now() - started, (feeds.input_ids as ort.Tensor).dims[0]!);
    return result;
  }) as typeof session.run;
}

async function main(options: {
  dtype: ModelDtype;
  q8Activations: Q8Activations;
  beams: number;
  sentences: number;
  lang: Lang;
  threads: number;
}): Promise<void> {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const dir = path.join(repoRoot, 'bench', '.models', 'Xenova', `opus-mt-${options.lang}-en`);
  const read = async (file: string) =>
    (await readFile(sharedPath(path.join('data/mt/ntrex128', file)), 'utf8')).split('\n').map((line) => line.trim());
  const [sources, english] = await Promise.all([read(SOURCE_FILES[options.lang]), read('newstest2019-src.eng.txt')]);
  const lines = sources.flatMap((source, i) => (source !== '' && english[i] ? [i] : []));
  const count = Math.min(options.sentences, lines.length);
  const picked = Array.from({ length: count }, (_, k) => lines[Math.floor((k * lines.length) / count)]!);
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const inputs: DecodeInput[] = picked.map((line) => {
    const length = tokenizer.encode(english[line]!).length - 1;
    return { ids: tokenizer.encode(sources[line]!), maxNewTokens: length, minNewTokens: length };
  });
  const sessions = await openSeq2SeqSessions(dir, {
    dtype: options.dtype,
    q8Activations: options.q8Activations,
    intraOpThreads: options.threads,
  });
  const settings = { ...modelSearchSettings(sessions.info), numBeams: options.beams };
  // Warm up untimed.
  await decode(sessions, inputs.slice(0, 4), settings);

  let encoderMs = 0;
  let decoderMs = 0;
  let logSoftmaxMs = 0;
  let steps = 0;
  let rowSteps = 0;
  timed(sessions.encoder, (ms) => (encoderMs += ms));
  timed(sessions.decoder, (ms, rows) => {
    decoderMs += ms;
    steps++;
    rowSteps += rows;
  });
  // Both passes count as log-softmax time: the plain one and the one followed by TopK.
  const timedPass =
    <A extends unknown[], R>(pass: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      const result = await pass(...args);
      logSoftmaxMs += performance.now() - started;
      return result;
    };
  sessions.logSoftmax.run = timedPass(sessions.logSoftmax.run.bind(sessions.logSoftmax));
  sessions.logSoftmax.top = timedPass(sessions.logSoftmax.top.bind(sessions.logSoftmax));
  const started = performance.now();
  for (const batch of packBatches(inputs, 512)) await decode(sessions, batch, settings);
  const totalMs = performance.now() - started;
  const tokens = inputs.reduce((sum, input) => sum + input.maxNewTokens + 1, 0);
  const share = (ms: number) => `${(ms / 1000).toFixed(2)} s (${((100 * ms) / totalMs).toFixed(0)}%)`;
  console.log(
    `bench:decode-profile ${process.argv.slice(2).join(' ')} — ${options.dtype}, ${options.lang}, beams ${options.beams}, ${count} sentences, ${tokens} output tokens, ${options.threads} threads`,
  );
  console.log(`total ${(totalMs / 1000).toFixed(2)} s, ${(tokens / (totalMs / 1000)).toFixed(1)} tok/s`);
  console.log(`  encoder runs      ${share(encoderMs)}`);
  console.log(
    `  decoder runs      ${share(decoderMs)}: ${steps} steps, ${(rowSteps / steps).toFixed(1)} rows per step, ${(decoderMs / steps).toFixed(1)} ms per step`,
  );
  if (options.beams > 1)
    console.log(`  log-softmax runs  ${share(logSoftmaxMs)} (onnxruntime, with TopK when it is the last pass; beam search only)`);
  console.log(
    `  our JavaScript    ${share(totalMs - encoderMs - decoderMs - logSoftmaxMs)} (processors, argmax/beam scoring, dropping rows, feeds)`,
  );
  await sessions.release();
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

const program = new Command('bench:decode-profile')
  .description("Splits the decode loop's time into encoder, decoder and JavaScript.")
  .addOption(new Option('--dtype <dtype>', 'weights').choices(['q8', 'fp32']).default('q8'))
  .addOption(new Option('--q8-activations <mode>', 'q8 activation scales').choices(['per-row', 'per-batch']).default('per-row'))
  .option('--beams <n>', 'beam width (1 = greedy)', positiveInteger, 1)
  .option('--sentences <n>', 'NTREX sentences', positiveInteger, 64)
  .addOption(new Option('--lang <lang>', 'source language').choices(['ar', 'vi']).default('ar'))
  .option('--threads <n>', 'intra-op threads', positiveInteger, 2)
  .parse();

await main(program.opts());
