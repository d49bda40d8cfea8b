/**
 * Translation throughput: the Translator against its former transformers.js path, against what a user
 * writes first, against a bare decoder, and against the machine's matrix-multiply rate.
 *
 *   npm run bench:translate -- [--preset opus-mt-base|tiny|tc-big|tiny-m2m100|nllb-600m] [--model-dir DIR]
 *                              [--dtype q8,fp32] [--sentences N] [--lang ar,vi]
 *                              [--variants a,a4,ab,g,b,c] [--pools 1x2,2x1] [--lengths reference|1.1x]
 *                              [--chunk N] [--repeat R] [--trim-corpus FILE] [--smoke]
 *
 * For each dtype and language, on the same sentences (NTREX-128 from ../shared/data/mt/ntrex128, or
 * the sample articles in input/ when ../shared is absent), it measures:
 *   (a) the Translator (src/translation/translator.ts), greedy, with its decode loop in worker threads
 *       (`--pools`: workers × intra-op threads each), given `--chunk` sentences per call;
 *   (a4) the same with beam search, 4 beams;
 *   (at), (a4t) (a) and (a4) with `translation.trimOutputVocabulary`: the output layer cut to the pieces of
 *       an English text (`--trim-corpus`; by default the sentences of ../shared's 99 CNN/DailyMail
 *       articles, none of them a sentence translated here);
 *   (ab) (a) on the exported q8 graphs as they are (per-batch activation scales), as (g), (b), (c) run
 *       them; (a) and (a4) take the config's `q8Activations` (per-row by default);
 *   (g) the Translator's former path: transformers.js `generate` on the same batches (bench/generate-baseline.ts);
 *   (b) transformers.js `pipeline('translation', dir)` called once per sentence;
 *   (c) a greedy decoder written directly on onnxruntime-node sessions, batched like (a), keeping
 *       every row until the longest ends (bench/ort-greedy.ts).
 * Generated models have random weights and stop at random lengths, so every output's length is fixed:
 * by default to the token count of the sentence's English reference in NTREX-128 (same line of
 * newstest2019-src.eng.txt), so rows of a batch finish at different steps as real translations do;
 * `--lengths 1.1x` fixes it to round(1.1 × source tokens) as before. (g), (b), (c) use 2 intra-op
 * threads on their own thread. Each variant runs in a process of its own (its own peak RSS) and warms
 * up untimed; then they take turns, a chunk each, so a burst of load from elsewhere on this shared
 * machine falls on all of them alike; with `--repeat R` each chunk counts its fastest of R passes.
 * The same run measures onnxruntime's int8 and fp32 matrix-multiply rate on 2 threads
 * (bench/matmul-rate.ts) and prints each variant's useful multiply-accumulates per second as a share,
 * and the output layer's share of a decoder step's multiply-accumulates (from the preset's shapes).
 * An M2M-100 preset (nllb-600m) is one model for both languages; (c) is Marian-only. `--model-dir`
 * takes a model `npm run model:make` already wrote (nllb-600m is 5 GB and takes minutes to generate).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AutoTokenizer, env, LogLevel } from '@huggingface/transformers';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MODEL_DTYPES, type ModelDtype } from '../src/config/config.js';
import { splitSentences } from '../src/stages/segment.js';
import { trimmedOutputIds } from '../src/translation/output-vocabulary.js';
import { isUpToDate, makeModel } from '../tools/make-model.js';
import { PRESETS, type ModelDims, type PresetName } from '../tools/model/marian-config.js';
import { repoRoot } from '../tools/repo-root.js';
import { matmulRate } from './matmul-rate.js';
import { benchModelDir } from './bench-models.js';
import { sharedPath } from './shared-data.js';
import type { ChunkFigures, Variant, WorkerFigures, WorkerJob } from './translate-worker.js';

type Lang = 'ar' | 'vi';
type VariantName = 'a' | 'a4' | 'at' | 'a4t' | 'ab' | 'g' | 'b' | 'c';
type Lengths = 'reference' | '1.1x';

interface Options {
  preset: PresetName;
  modelDir?: string;
  dtype: ModelDtype[];
  sentences: number;
  lang: Lang[];
  variants: VariantName[];
  pools: { workers: number; threadsPerWorker: number }[];
  lengths: Lengths;
  chunk: number;
  repeat: number;
  trimCorpus?: string;
  smoke: boolean;
}

const THREADS = 2;
const WARM_UP_SENTENCES = 8;
const NTREX_FILES: Record<Lang, string> = { ar: 'newstest2019-ref.arb.txt', vi: 'newstest2019-ref.vie.txt' };
const NTREX_ENGLISH = 'newstest2019-src.eng.txt';

interface LabelledVariant {
  variant: Variant;
  label: string;
  /** The key ratios and targets refer to. */
  key: string;
}

/** `trimCorpus`: the English text (at) and (a4t) cut the output layer to. */
function variantsFor(options: Options, trimCorpus?: string): LabelledVariant[] {
  const list: LabelledVariant[] = [];
  for (const name of options.variants) {
    if (name === 'ab') {
      list.push({
        variant: { kind: 'translator', beams: 1, workers: 2, threadsPerWorker: 1, q8Activations: 'per-batch' },
        label: '(ab) greedy 2×1, per-batch q8',
        key: 'ab',
      });
    } else if (name === 'a' || name === 'a4' || name === 'at' || name === 'a4t') {
      const beams = name === 'a' || name === 'at' ? 1 : 4;
      const trim = name.endsWith('t') ? { trimOutputVocabulary: trimCorpus } : {};
      for (const { workers, threadsPerWorker } of options.pools) {
        const pool = `${workers}×${threadsPerWorker}`;
        list.push({
          variant: { kind: 'translator', beams, workers, threadsPerWorker, ...trim },
          label: `(${name}) Translator ${beams === 1 ? 'greedy' : 'beam 4'} ${pool}${name.endsWith('t') ? ' trimmed' : ''}`,
          key: `${name}@${workers}x${threadsPerWorker}`,
        });
      }
    } else {
      const kinds = { g: 'generate', b: 'naive-pipeline', c: 'ort-greedy' } as const;
      const labels = { g: '(g) generate path', b: '(b) pipeline, 1 by 1', c: '(c) onnxruntime greedy' };
      list.push({ variant: { kind: kinds[name] }, label: labels[name], key: name });
    }
  }
  return list;
}

const PRESET_CHOICES: PresetName[] = ['opus-mt-base', 'tiny', 'tc-big', 'tiny-m2m100', 'nllb-600m'];

/** A model `npm run model:make` wrote, checked to be of the preset measured (its shapes give the MAC shares). */
async function givenModel(dir: string, preset: PresetName): Promise<string> {
  const stampFile = path.join(dir, 'generator-stamp.json');
  const stamp = existsSync(stampFile) ? (JSON.parse(await readFile(stampFile, 'utf8')) as { preset?: string }) : {};
  if (stamp.preset !== preset)
    throw new Error(
      `${stampFile}: not a generated ${preset} model (preset ${stamp.preset ?? 'absent'}); give --preset ${stamp.preset ?? '…'} or another --model-dir`,
    );
  return dir;
}

async function ensureModel(preset: PresetName, lang: Lang): Promise<string> {
  const sourceLang = PRESETS[preset].family === 'm2m_100' ? 'ar' : lang;
  const options = { preset, out: benchModelDir(preset, lang), seed: 0, sourceLang };
  if (!(await isUpToDate(options))) {
    console.log(`generating the ${preset} ${lang}→en model in ${path.relative(repoRoot, options.out)} (once; it is kept)…`);
    await makeModel(options);
  }
  return options.out;
}

/** The sentences of ../shared's CNN/DailyMail articles, one a line, in a file of their own (an English text to trim to). */
async function englishCorpus(): Promise<string> {
  const source = sharedPath('data/summarization/cnndm-dev.jsonl');
  const articles = (await readFile(source, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const sentences = articles.flatMap((line) => (JSON.parse(line) as { sentences: string[] }).sentences);
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'newsbridge-trim-')), 'cnndm-english.txt');
  await writeFile(file, `${sentences.join('\n')}\n`);
  return file;
}

/** `count` items spread evenly over the list, so long and short documents both come in. */
function evenlySpaced<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/** Sentences to translate, each with its English reference when there is one (same NTREX line). */
async function loadSentences(lang: Lang, count: number): Promise<{ pairs: { source: string; english?: string }[]; from: string }> {
  const ntrex = sharedPath(path.join('data/mt/ntrex128', NTREX_FILES[lang]));
  if (existsSync(ntrex)) {
    const read = async (file: string) => (await readFile(file, 'utf8')).split('\n').map((line) => line.trim());
    const [sources, english] = await Promise.all([read(ntrex), read(sharedPath(path.join('data/mt/ntrex128', NTREX_ENGLISH)))]);
    const pairs = sources.flatMap((source, i) => (source !== '' && english[i] ? [{ source, english: english[i] }] : []));
    return { pairs: evenlySpaced(pairs, count), from: path.relative(repoRoot, ntrex) };
  }
  // Without ../shared: the sample articles of that language, split as the pipeline splits them.
  const inputDir = path.join(repoRoot, 'input');
  const sentences: string[] = [];
  for (const file of (await readdir(inputDir)).filter((name) => name.endsWith('.txt')).sort()) {
    const text = await readFile(path.join(inputDir, file), 'utf8');
    const letters = text.match(/\p{L}/gu) ?? [];
    const arabic = letters.filter((c) => /\p{Script=Arabic}/u.test(c)).length > letters.length / 2;
    if (arabic !== (lang === 'ar')) continue;
    for (const line of text.split('\n')) sentences.push(...splitSentences(line, lang).filter((s) => s.split(/\s+/u).length >= 3));
  }
  if (sentences.length === 0)
    throw new Error(`${inputDir} has no ${lang} article and ${ntrex} is absent: no ${lang} sentences to translate`);
  return {
    pairs: evenlySpaced(sentences, count).map((source) => ({ source })),
    from: `${path.relative(repoRoot, inputDir)}/ (sample articles; ../shared is absent)`,
  };
}

/** A variant's worker process, answering one JSON line per request (see bench/translate-worker.ts). */
class Worker {
  private readonly child: ChildProcess;
  private readonly replies: AsyncIterator<string>;

  constructor(
    private readonly job: WorkerJob,
    private readonly label: string,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'translate-worker.ts')], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.replies = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
    this.child.stdin!.write(`${JSON.stringify(job)}\n`);
  }

  async request<T>(message: object | null): Promise<T> {
    if (message) this.child.stdin!.write(`${JSON.stringify(message)}\n`);
    const reply = await this.replies.next();
    if (reply.done) throw new Error(`the ${this.label} worker (${this.job.dtype}, ${this.job.lang}) stopped; see its error above`);
    return JSON.parse(reply.value) as T;
  }

  /** The variant's figures; the worker exits. */
  async finish(): Promise<WorkerFigures> {
    const figures = await this.request<WorkerFigures>({ end: true });
    this.child.stdin!.end();
    return figures;
  }
}

/** One variant's figures on one language and dtype. */
interface VariantFigures {
  key: string;
  lang: Lang;
  dtype: ModelDtype;
  sentences: number;
  targetTokens: number;
  sourceTokens: number;
  /** Sum over the chunks of each chunk's fastest turn. */
  ms: number;
  loadMs: number;
  peakRssBytes: number;
  endRssBytes: number;
}

/**
 * Measures the variants on one language and dtype: their workers load and warm up, then time the
 * sentences chunk by chunk in turn (the order rotating), `repeat` times, keeping each chunk's
 * fastest time, so a burst of load from elsewhere falls on all of them alike.
 */
async function measure(
  variants: LabelledVariant[],
  job: Omit<WorkerJob, 'variant'>,
  chunk: number,
  repeat: number,
): Promise<VariantFigures[]> {
  const workers = variants.map(({ variant, label }) => new Worker({ ...job, variant }, label));
  await Promise.all(workers.map((worker) => worker.request(null)));
  const fastest: ChunkFigures[][] = workers.map(() => []);
  for (let pass = 0, round = 0; pass < repeat; pass++) {
    for (let first = 0, index = 0; first < job.sentences.length; first += chunk, index++, round++) {
      const end = Math.min(first + chunk, job.sentences.length);
      for (let k = 0; k < workers.length; k++) {
        const v = (round + k) % workers.length;
        const figures = await workers[v]!.request<ChunkFigures>({ run: [first, end] });
        const best = fastest[v]![index];
        if (!best || figures.ms < best.ms) fastest[v]![index] = figures;
      }
    }
  }
  const ends = await Promise.all(workers.map((worker) => worker.finish()));
  return variants.map(({ key }, v) => ({
    key,
    lang: job.lang,
    dtype: job.dtype,
    sentences: fastest[v]!.reduce((sum, f) => sum + f.sentences, 0),
    targetTokens: fastest[v]!.reduce((sum, f) => sum + f.targetTokens, 0),
    sourceTokens: fastest[v]!.reduce((sum, f) => sum + f.sourceTokens, 0),
    ms: fastest[v]!.reduce((sum, f) => sum + f.ms, 0),
    loadMs: ends[v]!.loadMs,
    peakRssBytes: ends[v]!.peakRssBytes,
    endRssBytes: ends[v]!.endRssBytes,
  }));
}

interface Totals {
  targetTokens: number;
  sourceTokens: number;
  sentences: number;
  ms: number;
  peakRssBytes: number;
}

function total(figures: readonly VariantFigures[]): Totals {
  return {
    targetTokens: figures.reduce((sum, f) => sum + f.targetTokens, 0),
    sourceTokens: figures.reduce((sum, f) => sum + f.sourceTokens, 0),
    sentences: figures.reduce((sum, f) => sum + f.sentences, 0),
    ms: figures.reduce((sum, f) => sum + f.ms, 0),
    peakRssBytes: Math.max(...figures.map((f) => f.peakRssBytes)),
  };
}

const tokensPerSecond = (t: Totals) => t.targetTokens / (t.ms / 1000);

/** One decoder step's weight MACs: its layers' (self-attention 4 d², cross-attention 2 d², FFN 2 d·ffn) and the output layer's. */
function decoderStepMacs(dims: ModelDims): { layers: number; output: number } {
  const d = dims.dModel;
  return { layers: dims.decoderLayers * (6 * d * d + 2 * d * dims.ffnDim), output: d * dims.vocabSize };
}

/**
 * Multiply-accumulates of the weight matrices one output token needs (decoder: self-attention 4 d²,
 * cross-attention query and output 2 d², FFN 2 d·ffn per layer, then the d × vocabulary output layer)
 * and one source token needs (encoder: 4 d² + 2 d·ffn per layer, plus the cross-attention keys and
 * values of every decoder layer, 2 d²). Attention over positions is left out (small at these lengths).
 */
function usefulMacs(dims: ModelDims, t: Totals): number {
  const d = dims.dModel;
  const step = decoderStepMacs(dims);
  const perTarget = step.layers + step.output;
  const perSource = dims.encoderLayers * (4 * d * d + 2 * d * dims.ffnDim) + dims.decoderLayers * 2 * d * d;
  return perTarget * t.targetTokens + perSource * t.sourceTokens;
}

function row(dtype: string, lang: string, label: string, t: Totals, reference: Totals, share: number): string {
  return [
    dtype.padEnd(5),
    lang.padEnd(5),
    label.padEnd(30),
    tokensPerSecond(t).toFixed(1).padStart(9),
    (t.sentences / (t.ms / 1000)).toFixed(2).padStart(7),
    (t.ms / 1000).toFixed(1).padStart(7),
    (t.peakRssBytes / 2 ** 20).toFixed(0).padStart(8),
    (tokensPerSecond(reference) / tokensPerSecond(t)).toFixed(2).padStart(6),
    `${(100 * share).toFixed(1)}%`.padStart(8),
  ].join(' ');
}

/** Per sentence, the decoder steps every variant takes (`</s>` included). */
async function outputSteps(dir: string, pairs: { source: string; english?: string }[], lengths: Lengths): Promise<number[]> {
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  return pairs.map(({ source, english }) =>
    lengths === 'reference' && english !== undefined ? tokenizer.encode(english).length : Math.round(1.1 * tokenizer.encode(source).length),
  );
}

async function main(options: Options): Promise<void> {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const preset = options.smoke ? 'tiny' : options.preset;
  const count = options.smoke ? 8 : options.sentences;
  const trimCorpus = options.variants.some((name) => name.endsWith('t')) ? (options.trimCorpus ?? (await englishCorpus())) : undefined;
  const variants = variantsFor(options, trimCorpus);
  if (options.modelDir && PRESETS[preset].family === 'marian' && options.lang.length > 1)
    throw new Error(`--model-dir: a ${preset} model translates one language; give one --lang`);
  const dirs = new Map<Lang, string>();
  for (const lang of options.lang)
    dirs.set(lang, options.modelDir ? await givenModel(path.resolve(options.modelDir), preset) : await ensureModel(preset, lang));
  const inputs = new Map<Lang, { sentences: string[]; steps: number[] }>();
  for (const lang of options.lang) {
    const { pairs, from } = await loadSentences(lang, count);
    const steps = await outputSteps(dirs.get(lang)!, pairs, options.lengths);
    inputs.set(lang, { sentences: pairs.map((pair) => pair.source), steps });
    const lengthNote =
      options.lengths === 'reference' && pairs[0]?.english ? 'English reference token counts' : 'round(1.1 × source tokens)';
    console.log(
      `${lang}: ${pairs.length} sentences from ${from}; output lengths: ${lengthNote}, mean ${(steps.reduce((a, b) => a + b, 0) / steps.length).toFixed(1)}`,
    );
  }

  // What (at) and (a4t) keep of the output layer: their multiply-accumulates are counted on that width.
  let keptPieces: number | undefined;
  if (trimCorpus) {
    const dir = dirs.get(options.lang[0]!)!;
    keptPieces = (await trimmedOutputIds(dir, await AutoTokenizer.from_pretrained(dir, { local_files_only: true }), trimCorpus)).length;
    console.log(`(at), (a4t): the output layer keeps ${keptPieces} of ${PRESETS[preset].vocabSize} pieces (the English of ${trimCorpus})`);
  }

  const loadAtStart = loadavg();
  const rates = { int8: [await matmulRate('int8', THREADS)], fp32: [await matmulRate('fp32', THREADS)] };
  const figures: VariantFigures[] = [];
  for (const dtype of options.dtype) {
    for (const lang of options.lang) {
      const { sentences, steps } = inputs.get(lang)!;
      const job = { lang, dtype, modelDir: dirs.get(lang)!, threads: THREADS, sentences, steps, warmUp: WARM_UP_SENTENCES };
      const results = await measure(variants, job, options.chunk, options.repeat);
      results.forEach((result, i) => {
        console.log(
          `  ${dtype} ${lang} ${variants[i]!.label}: ${(result.ms / 1000).toFixed(1)} s (model load ${(result.loadMs / 1000).toFixed(1)} s; RSS peak ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB, after the run ${(result.endRssBytes / 2 ** 20).toFixed(0)} MiB)`,
        );
      });
      figures.push(...results);
    }
  }
  rates.int8.push(await matmulRate('int8', THREADS));
  rates.fp32.push(await matmulRate('fp32', THREADS));
  const loadAtEnd = loadavg();
  const peak = { q8: Math.max(...rates.int8), fp32: Math.max(...rates.fp32) };

  console.log(
    `\nbench:translate ${process.argv.slice(2).join(' ')} — ${preset} models, ${count} sentences per language in turns of ${options.chunk}, ${options.repeat} pass(es), ` +
      `output lengths ${options.lengths === 'reference' ? 'of the English references' : 'round(1.1 × source tokens)'} incl. </s>; ` +
      `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`,
  );
  console.log(
    `load average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')} at end`,
  );
  console.log(
    `onnxruntime matrix-multiply rate, ${THREADS} threads (best of the runs before and after): int8 ${(peak.q8 / 1e9).toFixed(1)} GMAC/s, fp32 ${(peak.fp32 / 1e9).toFixed(1)} GMAC/s`,
  );
  const reference = variants[0]!;
  console.log(`dtype lang  variant                            tok/s  sent/s  time s  RSS MiB  ${reference.key}/x  MAC share`);
  const pick = (dtype: ModelDtype, langs: readonly string[], key: string) =>
    total(figures.filter((f) => f.dtype === dtype && langs.includes(f.lang) && f.key === key));
  const dims = PRESETS[preset];
  const summary: string[] = [];
  for (const dtype of options.dtype) {
    const groups: [string, readonly string[]][] = [...options.lang.map((lang): [string, string[]] => [lang, [lang]])];
    if (options.lang.length > 1) groups.push(['all', options.lang]);
    for (const [name, langs] of groups) {
      const first = pick(dtype, langs, reference.key);
      for (const { key, label, variant } of variants) {
        const t = pick(dtype, langs, key);
        const width = variant.kind === 'translator' && variant.trimOutputVocabulary ? { ...dims, vocabSize: keptPieces! } : dims;
        console.log(row(dtype, name, label, t, first, usefulMacs(width, t) / (t.ms / 1000) / peak[dtype]));
      }
    }
    summary.push(...targets(dtype, variants, (key) => pick(dtype, options.lang, key)));
  }
  console.log(`\n${summary.join('\n')}`);
  const step = decoderStepMacs(dims);
  console.log(
    `output layer (d_model ${dims.dModel} × vocabulary ${dims.vocabSize}): ${(step.output / 1e6).toPrecision(3)} of a decoder step's ${((step.output + step.layers) / 1e6).toPrecision(3)} M weight MACs, ${((100 * step.output) / (step.output + step.layers)).toFixed(1)}%`,
  );
}

/** The targets, for each pool shape measured: ratios of one run. */
function targets(dtype: ModelDtype, variants: LabelledVariant[], pick: (key: string) => Totals): string[] {
  const has = (key: string) => variants.some((v) => v.key === key);
  const lines: string[] = [];
  const check = (label: string, value: number, goal: string, met: boolean) =>
    `${dtype}: ${label} = ${value.toFixed(2)} (target ${goal}: ${met ? 'met' : 'missed'})`;
  for (const { key } of variants.filter((v) => v.key.startsWith('a@'))) {
    const greedy = tokensPerSecond(pick(key));
    if (has('g')) {
      const ratio = greedy / tokensPerSecond(pick('g'));
      lines.push(
        dtype === 'q8' ? check(`${key}/g`, ratio, '≥ 2, at least 1.5', ratio >= 2) : check(`${key}/g`, ratio, '≥ 1.5', ratio >= 1.5),
      );
    }
    if (has('b') && dtype === 'q8') {
      const ratio = greedy / tokensPerSecond(pick('b'));
      lines.push(check(`${key}/b`, ratio, '≥ 3', ratio >= 3));
    }
    if (has('c')) lines.push(`${dtype}: ${key}/c = ${(greedy / tokensPerSecond(pick('c'))).toFixed(2)}`);
    const beam = key.replace('a@', 'a4@');
    if (has(beam)) {
      const cost = pick(beam).ms / pick(key).ms;
      lines.push(check(`time ${beam}/${key}`, cost, '≤ 2.5', cost <= 2.5));
    }
  }
  for (const { key } of variants.filter((v) => v.key.startsWith('at@') || v.key.startsWith('a4t@'))) {
    const whole = key.replace('t@', '@');
    if (has(whole))
      lines.push(
        `${dtype}: trimmed output layer, tok/s ${key}/${whole} = ${(tokensPerSecond(pick(key)) / tokensPerSecond(pick(whole))).toFixed(2)}`,
      );
  }
  if (has('ab') && has('g'))
    lines.push(`${dtype}: ab/g = ${(tokensPerSecond(pick('ab')) / tokensPerSecond(pick('g'))).toFixed(2)} (same q8 graphs as (g))`);
  return lines;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

function listOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(',').map((item) => item.trim());
    const bad = items.filter((item) => !allowed.includes(item as T));
    if (bad.length > 0 || items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${allowed.join(', ')}`);
    return [...new Set(items)] as T[];
  };
}

function poolShapes(value: string): Options['pools'] {
  return value.split(',').map((item) => {
    const match = /^(\d+)x(\d+)$/u.exec(item.trim());
    if (!match || Number(match[1]) < 1 || Number(match[2]) < 1)
      throw new InvalidArgumentError('expected WORKERSxTHREADS items, e.g. 1x2,2x1');
    return { workers: Number(match[1]), threadsPerWorker: Number(match[2]) };
  });
}

const program = new Command('bench:translate')
  .description('Target tokens/s, sentences/s, peak RSS and matrix-multiply share of the Translator and the decoders it is held against.')
  .addOption(new Option('--preset <preset>', 'generated model size').choices(PRESET_CHOICES).default('opus-mt-base'))
  .option('--model-dir <dir>', 'a model npm run model:make wrote with that --preset (else generated into bench/.models)')
  .option('--dtype <list>', 'weights to measure: q8, fp32 or both', listOf<ModelDtype>(MODEL_DTYPES), [...MODEL_DTYPES])
  .option('--sentences <n>', 'sentences per language', positiveInteger, 64)
  .option('--lang <list>', 'source languages: ar, vi or both', listOf<Lang>(['ar', 'vi']), ['ar', 'vi'] as Lang[])
  .option(
    '--variants <list>',
    'a (greedy), a4 (beam 4), at/a4t (a/a4 with the output layer trimmed), ab (greedy on the exported per-batch q8 graphs), g (generate path), b (naive loop), c (bare decoder)',
    listOf<VariantName>(['a', 'a4', 'at', 'a4t', 'ab', 'g', 'b', 'c']),
    ['a', 'a4', 'ab', 'g', 'b', 'c'] as VariantName[],
  )
  .option('--pools <list>', 'Translator workers × intra-op threads each, e.g. 1x2,2x1', poolShapes, [{ workers: 2, threadsPerWorker: 1 }])
  .addOption(
    new Option('--lengths <mode>', 'output lengths: the English references, or 1.1 × source')
      .choices(['reference', '1.1x'])
      .default('reference'),
  )
  .option('--chunk <n>', 'sentences per turn of each variant (and per Translator call)', positiveInteger, 32)
  .option('--repeat <n>', 'passes over the sentences; each chunk counts its fastest pass', positiveInteger, 1)
  .option('--trim-corpus <file>', 'English text for (at) and (a4t) (default: the CNN/DailyMail articles of ../shared)')
  .option('--smoke', 'quick check for CI: tiny models, 8 sentences per language', false)
  .parse();

await main(program.opts<Options>());
