/**
 * The decode loop against transformers.js `generate`, on a generated model and NTREX-128:
 *
 *   npm run bench:greedy-identity -- [--sentences 200] [--lang ar,vi] [--beams 1] [--part 1/1]
 *                                    [--preset opus-mt-base|tiny|tc-big|tiny-tc-big|tiny-m2m100]
 *
 * 1. Greedy, one sentence at a time, fp32: our output must be token for token `generate`'s
 *    (M2M-100: the source-language token first, `forced_bos_token_id` eng_Latn, as NLLB is run).
 * 2. Batched (the Translator's 512-token batches, rows leaving as they finish) against one at a time:
 *    every sentence whose output differs is listed with the gap between the two best logits at the
 *    first step where they part, measured one at a time (float noise is a gap near 1e-5 or below).
 * With `--beams N` (N > 1) step 1 is skipped: transformers.js (4.3) `generate` has no beam search (its
 * beam sampler's first candidate is taken, which is greedy), so beam search is checked batched
 * against one at a time, and against a plain beam search in tests/translation/decoder.test.ts.
 * Output lengths are bounded by the English reference's token count (same NTREX line), as in bench:translate.
 * `--part k/n` takes every n-th of those sentences from the k-th: n runs cover them, each short
 * enough for a shared machine on the big presets.
 * The exit code is 1 when an output differs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AutoModelForSeq2SeqLM,
  AutoTokenizer,
  env,
  LogLevel,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as ort from 'onnxruntime-node';
import { decode, modelSearchSettings, type DecodeInput } from '../src/translation/decoder.js';
import { languageTokenId } from '../src/translation/families.js';
import { openSeq2SeqSessions, type Seq2SeqSessions } from '../src/translation/seq2seq-sessions.js';
import { packBatches } from '../src/translation/batcher.js';
import { isUpToDate, makeModel } from '../tools/make-model.js';
import { PRESETS, type PresetName } from '../tools/model/marian-config.js';
import { repoRoot } from '../tools/repo-root.js';
import { benchModelDir } from './bench-models.js';
import { sharedPath } from './shared-data.js';

type Lang = 'ar' | 'vi';
const LANGS: Lang[] = ['ar', 'vi'];
const PRESET_CHOICES: PresetName[] = ['opus-mt-base', 'tiny', 'tc-big', 'tiny-tc-big', 'tiny-m2m100'];
const THREADS = 2;
const BATCH_TOKENS = 512;
const SOURCE_FILES: Record<Lang, string> = { ar: 'newstest2019-ref.arb.txt', vi: 'newstest2019-ref.vie.txt' };

async function ensureModel(preset: PresetName, lang: Lang): Promise<string> {
  const sourceLang = PRESETS[preset].family === 'm2m_100' ? 'ar' : lang;
  const options = { preset, out: benchModelDir(preset, lang), seed: 0, sourceLang };
  if (!(await isUpToDate(options))) {
    console.log(`generating the ${preset} model in ${path.relative(repoRoot, options.out)} (once; it is kept)…`);
    await makeModel(options);
  }
  return options.out;
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

/** Evenly spaced NTREX lines of a language with an English reference: the encoder input and the length bound. */
async function ntrexInputs(
  tokenizer: PreTrainedTokenizer,
  sessions: Seq2SeqSessions,
  lang: Lang,
  options: Options,
): Promise<{ inputs: DecodeInput[]; lines: number[] }> {
  const read = async (file: string) =>
    (await readFile(sharedPath(path.join('data/mt/ntrex128', file)), 'utf8')).split('\n').map((line) => line.trim());
  const [sources, english] = await Promise.all([read(SOURCE_FILES[lang]), read('newstest2019-src.eng.txt')]);
  const lines = sources.flatMap((source, i) => (source !== '' && english[i] ? [i] : []));
  const n = Math.min(options.sentences, lines.length);
  const [part, parts] = options.part;
  const { info } = sessions;
  // NLLB's encoder input is `[source language] pieces </s>` (NllbTokenizer, src_lang); Marian's is `pieces </s>`.
  const encode = (text: string) =>
    info.codeScheme === null
      ? tokenizer.encode(text)
      : [languageTokenId(info.specialIds, info.codeScheme, lang), ...tokenizer.encode(text, { add_special_tokens: false }), info.eosId];
  const picked = Array.from({ length: n }, (_, k) => lines[Math.floor((k * lines.length) / n)]!);
  const chosen = picked.filter((_, k) => k % parts === part - 1);
  const inputs = chosen.map((line) => ({ ids: encode(sources[line]!), maxNewTokens: tokenizer.encode(english[line]!).length - 1 }));
  return { inputs, lines: chosen };
}

/** transformers.js `generate`, one sentence at a time: the generated ids without the decoder start token and `</s>`. */
async function generateEach(generator: PreTrainedModel, sessions: Seq2SeqSessions, inputs: DecodeInput[]): Promise<number[][]> {
  const { info } = sessions;
  const outputs: number[][] = [];
  for (const input of inputs) {
    const output = (await generator.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(input.ids, BigInt), [1, input.ids.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(input.ids.length).fill(1n), [1, input.ids.length]),
      // Marian forces `</s>` as the last of max_new_tokens (forced_eos_token_id); NLLB's config has no
      // forced eos, so generate stops at the limit without it where ours forces it: one token fewer.
      max_new_tokens: input.maxNewTokens + (info.forcedBosId === null ? 1 : 0),
      num_beams: 1,
      forced_bos_token_id: info.forcedBosId ?? undefined,
    })) as Tensor;
    const ids = (output.tolist() as bigint[][])[0]!.slice(1).map(Number);
    outputs.push(ids.at(-1) === info.eosId ? ids.slice(0, -1) : ids);
  }
  return outputs;
}

interface Options {
  sentences: number;
  lang: Lang[];
  preset: PresetName;
  beams: number;
  /** [k, n]: the k-th of n interleaved parts of the sentences. */
  part: [number, number];
}

/** Runs the checks for one language; returns how many outputs differ. */
async function checkLanguage(options: Options, lang: Lang): Promise<number> {
  const dir = await ensureModel(options.preset, lang);
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const sessions = await openSeq2SeqSessions(dir, { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: THREADS });
  const { inputs, lines } = await ntrexInputs(tokenizer, sessions, lang, options);
  const settings = { ...modelSearchSettings(sessions.info), numBeams: options.beams };

  let started = performance.now();
  const alone: number[][] = [];
  for (const input of inputs) alone.push((await decode(sessions, [input], settings))[0]!);
  const aloneMs = performance.now() - started;
  const tokens = alone.reduce((sum, output) => sum + output.length, 0);
  console.log(
    `bench:greedy-identity — ${options.preset}, fp32, ${options.beams} beam(s), ${lang}, ${inputs.length} NTREX sentences (part ${options.part.join('/')}), ${tokens} generated tokens, ${THREADS} threads`,
  );

  let differing = 0;
  if (options.beams === 1) {
    const generator = (await AutoModelForSeq2SeqLM.from_pretrained(dir, {
      local_files_only: true,
      dtype: 'fp32',
      session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 },
    })) as PreTrainedModel;
    started = performance.now();
    const theirs = await generateEach(generator, sessions, inputs);
    const generateMs = performance.now() - started;
    await generator.dispose();
    const different = inputs.flatMap((_, i) => (JSON.stringify(theirs[i]) === JSON.stringify(alone[i]) ? [] : [lines[i]!]));
    differing += different.length;
    console.log(
      `one at a time vs transformers.js generate: ${inputs.length - different.length}/${inputs.length} identical token for token${different.length ? `; differing NTREX lines: ${different.join(', ')}` : ''}`,
    );
    console.log(`  time: ours ${(aloneMs / 1000).toFixed(1)} s, generate ${(generateMs / 1000).toFixed(1)} s (batch of one each)`);
  } else console.log(`one at a time: ${(aloneMs / 1000).toFixed(1)} s (transformers.js generate has no beam search to compare with)`);

  started = performance.now();
  const batched: number[][] = new Array<number[]>(inputs.length);
  const indexed = inputs.map((input, index) => ({ ...input, index }));
  for (const batch of packBatches(indexed, BATCH_TOKENS)) {
    const outputs = await decode(sessions, batch, settings);
    for (const [row, input] of batch.entries()) batched[input.index] = outputs[row]!;
  }
  const batchedMs = performance.now() - started;
  const parted: { sentence: number; step: number; gap: number | null }[] = [];
  for (const [i, input] of inputs.entries()) {
    const a = alone[i]!;
    const b = batched[i]!;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    let step = 0;
    while (a[step] === b[step]) step++;
    // The top-two gap explains a greedy parting; beams part on sums of log-probabilities, so none is given.
    parted.push({ sentence: lines[i]!, step, gap: options.beams === 1 ? await topTwoGap(sessions, input.ids, a.slice(0, step)) : null });
  }
  console.log(
    `batched (${BATCH_TOKENS}-token batches) vs one at a time: ${inputs.length - parted.length}/${inputs.length} identical; ${(batchedMs / 1000).toFixed(1)} s`,
  );
  for (const { sentence, step, gap } of parted)
    console.log(`  NTREX line ${sentence} parts at step ${step}${gap === null ? '' : `: top-two logit gap ${gap.toExponential(2)}`}`);
  await sessions.release();
  // Greedy: a batched parting at a float-noise gap is reported, not failed (the generate check is the gate).
  return differing + (options.beams > 1 ? parted.length : 0);
}

async function main(options: Options): Promise<void> {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  console.log(`bench:greedy-identity ${process.argv.slice(2).join(' ')}`);
  let differing = 0;
  for (const lang of options.lang) differing += await checkLanguage(options, lang);
  if (differing > 0) process.exitCode = 1;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

function languages(value: string): Lang[] {
  const langs = value.split(',');
  const unknown = langs.filter((lang) => !LANGS.includes(lang as Lang));
  if (unknown.length > 0) throw new InvalidArgumentError(`${unknown.join(', ')}: the NTREX languages here are ${LANGS.join(', ')}`);
  return langs as Lang[];
}

function part(value: string): [number, number] {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const [k, n] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || k < 1 || k > n) throw new InvalidArgumentError('expected k/n with 1 ≤ k ≤ n, e.g. 2/4');
  return [k, n];
}

const program = new Command('bench:greedy-identity')
  .description('Our decode loop against transformers.js generate (greedy, one at a time) and batched against one at a time.')
  .option('--sentences <n>', 'NTREX sentences per language', positiveInteger, 200)
  .option('--lang <langs>', 'source languages, comma-separated (ar, vi)', languages, ['ar'] as Lang[])
  .addOption(new Option('--preset <preset>', 'generated model').choices(PRESET_CHOICES).default('opus-mt-base'))
  .option('--beams <n>', 'beam width (1: greedy, checked against generate)', positiveInteger, 1)
  .option('--part <k/n>', 'every n-th of the sentences, from the k-th', part, [1, 1] as [number, number])
  .parse();

await main(program.opts<Options>());
