/**
 * What per-row q8 activations (`translation.q8Activations: per-row`, src/translation/rowwise-quantization.ts)
 * buy and cost, against the exported graphs (`per-batch`), on one generated model:
 *
 *   npm run bench:q8-rowwise -- [--preset opus-mt-base|tiny] [--lang ar|vi] [--sentences N] [--check N] [--chunk N]
 *                              [--repeat R] [--beams N]
 *
 * - load: seconds to load each Translator (per-row includes reading and rewriting the two graphs);
 * - batch invariance: each of the first `--check` sentences translated alone, then all of them in
 *   one call (batched by the default token budget): how many translations change;
 * - closeness, one sentence at a time: the encoder output's relative error against fp32 (‖q8 − fp32‖ /
 *   ‖fp32‖, mean over the sentences) for both, and how many greedy translations are identical;
 * - speed: target tokens/s of the two Translators on the same sentences, `--chunk` per call, taking
 *   turns chunk by chunk (the order alternating) so load from elsewhere falls on both alike; with
 *   `--repeat R` each chunk counts its fastest of R passes.
 * Generated models have random weights, so every output is fixed to round(1.1 × source tokens)
 * tokens, `</s>` included, as in bench:translate; which token wins each step is still the model's.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { defaultConfig } from '../src/config/config.js';
import { splitSentences } from '../src/stages/segment.js';
import { rowwiseQuantized } from '../src/translation/rowwise-quantization.js';
import type { Q8Activations } from '../src/translation/seq2seq-sessions.js';
import { decodingOptions, type SentenceTranslation, Translator } from '../src/translation/translator.js';
import { isUpToDate, makeModel } from '../tools/make-model.js';
import type { PresetName } from '../tools/model/marian-config.js';
import { sharedPath } from './shared-data.js';
import { repoRoot } from '../tools/repo-root.js';

type Lang = 'ar' | 'vi';
const THREADS = 2;
const MODES: Q8Activations[] = ['per-batch', 'per-row'];
const NTREX_FILES: Record<Lang, string> = { ar: 'newstest2019-ref.arb.txt', vi: 'newstest2019-ref.vie.txt' };
const SEED_ARTICLES: Record<Lang, string> = { ar: 'input/000_d3c511104db8d652.txt', vi: 'input/004_218d8854b8495f3e.txt' };

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const program = new Command('bench:q8-rowwise')
  .addOption(new Option('--preset <name>', 'generated model size').choices(['opus-mt-base', 'tiny']).default('opus-mt-base'))
  .addOption(new Option('--lang <lang>', 'source language').choices(['ar', 'vi']).default('ar'))
  .option('--sentences <n>', 'sentences timed (NTREX-128, evenly spaced)', positiveInt, 64)
  .option('--check <n>', 'sentences checked alone against batched, and against fp32', positiveInt, 16)
  .option('--chunk <n>', 'sentences per Translator call when timing', positiveInt, 16)
  .option('--repeat <n>', 'passes per chunk; the fastest counts', positiveInt, 1)
  .option('--beams <n>', "beam size (default: the config's, i.e. the model's generation_config.json)", positiveInt)
  .parse();
const options = program.opts<{
  preset: PresetName;
  lang: Lang;
  sentences: number;
  check: number;
  chunk: number;
  repeat: number;
  beams?: number;
}>();

async function ensureModel(): Promise<string> {
  const base = path.join(repoRoot, 'bench', '.models', ...(options.preset === 'tiny' ? ['tiny'] : []));
  const make = { preset: options.preset, out: path.join(base, 'Xenova', `opus-mt-${options.lang}-en`), seed: 0, sourceLang: options.lang };
  if (!(await isUpToDate(make))) {
    console.log(`generating the ${options.preset} ${options.lang}→en model in ${path.relative(repoRoot, make.out)} (once; it is kept)…`);
    await makeModel(make);
  }
  return make.out;
}

async function loadSentences(count: number): Promise<{ sentences: string[]; source: string }> {
  const ntrex = sharedPath(path.join('data/mt/ntrex128', NTREX_FILES[options.lang]));
  const file = existsSync(ntrex) ? ntrex : path.join(repoRoot, SEED_ARTICLES[options.lang]);
  const text = await readFile(file, 'utf8');
  const all = file === ntrex ? text.split('\n').filter((line) => line.trim() !== '') : splitSentences(text, options.lang);
  const sentences = all.length <= count ? all : Array.from({ length: count }, (_, i) => all[Math.floor((i * all.length) / count)]!);
  return { sentences, source: path.relative(repoRoot, file) };
}

/** Encoder output of one sentence. */
async function encode(session: InferenceSession, ids: number[]): Promise<Float32Array> {
  const { last_hidden_state: hidden } = await session.run({
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  });
  return hidden!.data as Float32Array;
}

function relativeError(value: Float32Array, reference: Float32Array): number {
  let error = 0;
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    error += (value[i]! - reference[i]!) ** 2;
    norm += reference[i]! ** 2;
  }
  return Math.sqrt(error / norm);
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
/** Output tokens, `</s>` included, for a source of this many tokens: as in bench:translate (importing it would start its worker). */
const fixedOutputTokens = (sourceTokens: number) => Math.round(1.1 * sourceTokens);
const same = (a: SentenceTranslation, b: SentenceTranslation) => a.target === b.target && a.targetTokens === b.targetTokens;

const modelDir = await ensureModel();
const { sentences, source } = await loadSentences(options.sentences);
console.log(
  `q8 per-row vs per-batch activations: ${options.preset} ${options.lang}→en, ${sentences.length} sentences from ${source}, ` +
    `${THREADS} threads, chunk ${options.chunk}, repeat ${options.repeat}, beams ${options.beams ?? "the model's"}`,
);
console.log(
  `machine: ${cpus().length} vCPU, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

const translators = {} as Record<Q8Activations, Translator>;
for (const mode of MODES) {
  const started = performance.now();
  translators[mode] = await Translator.load({
    modelDir,
    model: { lang: options.lang, id: `opus-mt-${options.lang}-en`, revision: 'main', dtype: 'q8' },
    ...decodingOptions(defaultConfig.translation),
    dtype: 'q8',
    q8Activations: mode,
    ...(options.beams === undefined ? {} : { numBeams: options.beams }),
    threadsPerWorker: THREADS,
    // The hook counts tokens before `</s>`; fixedOutputTokens counts `</s>` too.
    fixedTargetTokens: (ids) => fixedOutputTokens(ids.length) - 1,
  });
  console.log(`load ${mode}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// Batch invariance and closeness, on the first --check sentences.
const checked = sentences.slice(0, options.check);
const alone = {} as Record<Q8Activations, SentenceTranslation[]>;
for (const mode of MODES) {
  alone[mode] = [];
  for (const sentence of checked) alone[mode].push((await translators[mode].translate([sentence]))[0]!);
  const batched = await translators[mode].translate(checked);
  const changed = batched.filter((result, i) => !same(result, alone[mode][i]!)).length;
  console.log(`batch invariance ${mode}: ${changed} of ${checked.length} translations change when batched with the others`);
}
const identical = alone['per-row'].filter((result, i) => same(result, alone['per-batch'][i]!)).length;
console.log(`one at a time: ${identical} of ${checked.length} greedy translations identical between per-row and per-batch`);

const sessionOptions = { intraOpNumThreads: THREADS };
const encoderFile = (suffix: string) => path.join(modelDir, 'onnx', `encoder_model${suffix}.onnx`);
const quantized = await readFile(encoderFile('_quantized'));
const encoders = {
  fp32: await InferenceSession.create(encoderFile(''), sessionOptions),
  'per-batch': await InferenceSession.create(quantized, sessionOptions),
  'per-row': await InferenceSession.create(rowwiseQuantized(quantized), sessionOptions),
};
const errors: Record<Q8Activations, number[]> = { 'per-batch': [], 'per-row': [] };
for (const sentence of checked) {
  const ids = translators['per-row'].tokenize(sentence);
  const reference = await encode(encoders.fp32, ids);
  for (const mode of MODES) errors[mode].push(relativeError(await encode(encoders[mode], ids), reference));
}
for (const mode of MODES)
  console.log(`encoder relative error vs fp32, one sentence at a time, ${mode}: ${(100 * mean(errors[mode])).toFixed(3)}%`);
await Promise.all(Object.values(encoders).map((session) => session.release()));

// Speed: the same chunks, taking turns.
const seconds: Record<Q8Activations, number> = { 'per-batch': 0, 'per-row': 0 };
let tokens = 0;
for (const mode of MODES) await translators[mode].translate(sentences.slice(0, 4));
for (let start = 0, turn = 0; start < sentences.length; start += options.chunk, turn++) {
  const chunk = sentences.slice(start, start + options.chunk);
  const order = turn % 2 === 0 ? MODES : [...MODES].reverse();
  for (const mode of order) {
    let best = Number.POSITIVE_INFINITY;
    for (let pass = 0; pass < options.repeat; pass++) {
      const started = performance.now();
      const results = await translators[mode].translate(chunk);
      best = Math.min(best, (performance.now() - started) / 1000);
      if (mode === 'per-row' && pass === 0) tokens += results.reduce((sum, r) => sum + r.targetTokens + 1, 0);
    }
    seconds[mode] += best;
  }
}
for (const mode of MODES) console.log(`speed ${mode}: ${(tokens / seconds[mode]).toFixed(1)} target tok/s (${seconds[mode].toFixed(1)} s)`);
console.log(`per-row / per-batch time: ${(seconds['per-row'] / seconds['per-batch']).toFixed(3)}`);
console.log(
  `load average at the end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
await Promise.all(MODES.map((mode) => translators[mode].dispose()));
