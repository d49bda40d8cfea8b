/**
 * The decode loop against transformers.js `generate`, on the opus-mt-base preset and NTREX-128:
 *
 *   npm run bench:greedy-identity -- [--sentences 200] [--lang ar] [--preset opus-mt-base|tiny]
 *
 * 1. One sentence at a time, fp32, greedy: our output must be token for token `generate`'s.
 * 2. Batched (the Translator's 512-token batches, rows leaving as they finish) against one at a time:
 *    every sentence whose output differs is listed with the gap between the two best logits at the
 *    first step where they part, measured one at a time (float noise is a gap near 1e-5 or below).
 * Output lengths are bounded by the English reference's token count (same NTREX line), as in bench:translate.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoModelForSeq2SeqLM, AutoTokenizer, env, LogLevel, Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as ort from 'onnxruntime-node';
import { decode, modelSearchSettings, type DecodeInput } from '../src/translation/decoder.js';
import { openSeq2SeqSessions, type Seq2SeqSessions } from '../src/translation/seq2seq-sessions.js';
import { packBatches } from '../src/translation/batcher.js';
import { isUpToDate, makeModel } from '../tools/make-model.js';
import type { PresetName } from '../tools/model/marian-config.js';
import { repoRoot } from '../tools/repo-root.js';
import { sharedPath } from './shared-data.js';

type Lang = 'ar' | 'vi';
const THREADS = 2;
const BATCH_TOKENS = 512;
const SOURCE_FILES: Record<Lang, string> = { ar: 'newstest2019-ref.arb.txt', vi: 'newstest2019-ref.vie.txt' };

async function ensureModel(preset: PresetName, lang: Lang): Promise<string> {
  const out = path.join(repoRoot, 'bench', '.models', ...(preset === 'tiny' ? ['tiny'] : []), 'Xenova', `opus-mt-${lang}-en`);
  const options = { preset, out, seed: 0, sourceLang: lang };
  if (!(await isUpToDate(options))) await makeModel(options);
  return out;
}

/** Gap between the two best next-token logits after `prefix`, computed without the cache (`<pad>` banned). */
async function topTwoGap(sessions: Seq2SeqSessions, ids: readonly number[], prefix: readonly number[]): Promise<number> {
  const { info } = sessions;
  const mask = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const { last_hidden_state: states } = await sessions.encoder.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: mask,
  });
  const tokens = [info.decoderStartId, ...prefix];
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, info.heads, 0, info.headDim]);
  const past: Record<string, ort.Tensor> = {};
  for (let layer = 0; layer < info.decoderLayers; layer++) {
    for (const part of ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value']) past[`past_key_values.${layer}.${part}`] = empty;
  }
  const result = await sessions.decoder.run({
    encoder_attention_mask: mask,
    input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]),
    encoder_hidden_states: states!,
    ...past,
    use_cache_branch: new ort.Tensor('bool', [false], [1]),
  });
  const logits = (result.logits!.data as Float32Array).subarray((tokens.length - 1) * info.vocabSize, tokens.length * info.vocabSize);
  let best = -Infinity;
  let second = -Infinity;
  logits.forEach((score, token) => {
    if (token === info.padId) return;
    if (score > best) [best, second] = [score, best];
    else if (score > second) second = score;
  });
  return best - second;
}

async function main(options: { sentences: number; lang: Lang; preset: PresetName }): Promise<void> {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const dir = await ensureModel(options.preset, options.lang);
  const read = async (file: string) =>
    (await readFile(sharedPath(path.join('data/mt/ntrex128', file)), 'utf8')).split('\n').map((line) => line.trim());
  const [sources, english] = await Promise.all([read(SOURCE_FILES[options.lang]), read('newstest2019-src.eng.txt')]);
  const lines = sources.flatMap((source, i) => (source !== '' && english[i] ? [i] : []));
  const picked = Array.from(
    { length: Math.min(options.sentences, lines.length) },
    (_, k) => lines[Math.floor((k * lines.length) / Math.min(options.sentences, lines.length))]!,
  );
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const inputs: DecodeInput[] = picked.map((line) => ({
    ids: tokenizer.encode(sources[line]!),
    maxNewTokens: tokenizer.encode(english[line]!).length - 1,
  }));
  const sessions = await openSeq2SeqSessions(dir, { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: THREADS });
  const settings = { ...modelSearchSettings(sessions.info), numBeams: 1 };
  const generator = (await AutoModelForSeq2SeqLM.from_pretrained(dir, {
    local_files_only: true,
    dtype: 'fp32',
    session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 },
  })) as PreTrainedModel;

  let started = performance.now();
  const alone: number[][] = [];
  for (const input of inputs) alone.push((await decode(sessions, [input], settings))[0]!);
  const aloneMs = performance.now() - started;

  started = performance.now();
  let identical = 0;
  const differing: number[] = [];
  for (const [i, input] of inputs.entries()) {
    const output = (await generator.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(input.ids, BigInt), [1, input.ids.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(input.ids.length).fill(1n), [1, input.ids.length]),
      max_new_tokens: input.maxNewTokens + 1,
      num_beams: 1,
    })) as Tensor;
    const theirs = (output.tolist() as bigint[][])[0]!.slice(1, -1).map(Number);
    if (JSON.stringify(theirs) === JSON.stringify(alone[i])) identical++;
    else differing.push(i);
  }
  const generateMs = performance.now() - started;

  started = performance.now();
  const batched: number[][] = new Array<number[]>(inputs.length);
  const indexed = inputs.map((input, index) => ({ ...input, index }));
  for (const batch of packBatches(indexed, BATCH_TOKENS)) {
    const outputs = await decode(sessions, batch, settings);
    for (const [row, input] of batch.entries()) batched[input.index] = outputs[row]!;
  }
  const batchedMs = performance.now() - started;
  const parted: { sentence: number; step: number; gap: number }[] = [];
  for (const [i, input] of inputs.entries()) {
    const a = alone[i]!;
    const b = batched[i]!;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    let step = 0;
    while (a[step] === b[step]) step++;
    parted.push({ sentence: i, step, gap: await topTwoGap(sessions, input.ids, a.slice(0, step)) });
  }

  const tokens = alone.reduce((sum, output) => sum + output.length, 0);
  console.log(
    `bench:greedy-identity ${process.argv.slice(2).join(' ')} — ${options.preset}, fp32, ${options.lang}, ${inputs.length} NTREX sentences, ${tokens} generated tokens, ${THREADS} threads`,
  );
  console.log(
    `one at a time vs transformers.js generate: ${identical}/${inputs.length} identical token for token${differing.length ? `; differing: ${differing.join(', ')}` : ''}`,
  );
  console.log(`  time: ours ${(aloneMs / 1000).toFixed(1)} s, generate ${(generateMs / 1000).toFixed(1)} s (batch of one each)`);
  console.log(
    `batched (${BATCH_TOKENS}-token batches) vs one at a time: ${inputs.length - parted.length}/${inputs.length} identical; ${(batchedMs / 1000).toFixed(1)} s`,
  );
  for (const { sentence, step, gap } of parted)
    console.log(`  sentence ${sentence} parts at step ${step}: top-two logit gap ${gap.toExponential(2)}`);
  await Promise.all([sessions.release(), generator.dispose()]);
  if (identical !== inputs.length) process.exitCode = 1;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

const program = new Command('bench:greedy-identity')
  .description('Greedy decoding against transformers.js generate (one at a time) and batched against one at a time.')
  .option('--sentences <n>', 'NTREX sentences', positiveInteger, 200)
  .addOption(new Option('--lang <lang>', 'source language').choices(['ar', 'vi']).default('ar'))
  .addOption(new Option('--preset <preset>', 'generated model size').choices(['opus-mt-base', 'tiny']).default('opus-mt-base'))
  .parse();

await main(program.opts());
