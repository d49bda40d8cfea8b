/**
 * Translation throughput: the Translator against what a user writes first and against the runtime's bound.
 *
 *   npm run bench:translate -- [--preset opus-mt-base|tiny] [--dtype q8,fp32] [--sentences N] [--lang ar,vi]
 *                              [--chunk N] [--repeat R] [--smoke]
 *
 * For each dtype and language, on the same sentences (NTREX-128 from ../shared/data/mt/ntrex128, or
 * the sample articles in input/ when ../shared is absent) and 2 intra-op threads, it measures:
 *   (a) the Translator (src/translator.ts) with the default batch settings, given `--chunk` sentences
 *       per call (as the pipeline gives it the sentences of the articles in flight);
 *   (b) transformers.js `pipeline('translation', dir)` called once per sentence;
 *   (c) a greedy decoder written directly on onnxruntime-node sessions, batched like (a) (bench/ort-greedy.ts).
 * Generated models have random weights and stop at random lengths, so every output is fixed to
 * round(1.1 × source tokens) tokens, `</s>` included, in all three. Each variant runs in a process
 * of its own (its own peak RSS) and warms up untimed; then the three take turns, a chunk each, so a
 * burst of load from elsewhere on this shared machine falls on all of them alike; with `--repeat R`
 * each chunk counts its fastest of R passes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ModelDtype } from '../src/models/store.js';
import { splitSentences } from '../src/stages/segment.js';
import { isUpToDate, makeModel } from '../tools/make-model.js';
import type { PresetName } from '../tools/model/marian-config.js';
import { sharedPath } from './shared-data.js';
import { repoRoot } from '../tools/repo-root.js';
import type { ChunkFigures, Variant, WorkerFigures, WorkerJob } from './translate-worker.js';

type Lang = 'ar' | 'vi';

interface Options {
  preset: PresetName;
  dtype: ModelDtype[];
  sentences: number;
  lang: Lang[];
  chunk: number;
  repeat: number;
  smoke: boolean;
}

const THREADS = 2;
const WARM_UP_SENTENCES = 8;
const VARIANTS: { variant: Variant; label: string }[] = [
  { variant: 'translator', label: '(a) Translator' },
  { variant: 'naive-pipeline', label: '(b) pipeline, 1 by 1' },
  { variant: 'ort-greedy', label: '(c) onnxruntime greedy' },
];
const NTREX_FILES: Record<Lang, string> = { ar: 'newstest2019-ref.arb.txt', vi: 'newstest2019-ref.vie.txt' };

/** `bench/.models/Xenova/opus-mt-<lang>-en` for opus-mt-base; the tiny preset gets a folder of its own. */
function modelDir(preset: PresetName, lang: Lang): string {
  const base = path.join(repoRoot, 'bench', '.models', ...(preset === 'tiny' ? ['tiny'] : []));
  return path.join(base, 'Xenova', `opus-mt-${lang}-en`);
}

async function ensureModel(preset: PresetName, lang: Lang): Promise<string> {
  const options = { preset, out: modelDir(preset, lang), seed: 0, sourceLang: lang };
  if (!(await isUpToDate(options))) {
    console.log(`generating the ${preset} ${lang}→en model in ${path.relative(repoRoot, options.out)} (once; it is kept)…`);
    await makeModel(options);
  }
  return options.out;
}

/** `count` lines spread evenly over the list, so long and short documents both come in. */
function evenlySpaced<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

async function loadSentences(lang: Lang, count: number): Promise<{ sentences: string[]; source: string }> {
  const ntrex = sharedPath(path.join('data/mt/ntrex128', NTREX_FILES[lang]));
  if (existsSync(ntrex)) {
    const lines = (await readFile(ntrex, 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line !== '');
    return { sentences: evenlySpaced(lines, count), source: path.relative(repoRoot, ntrex) };
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
  if (sentences.length === 0) throw new Error(`${inputDir} has no ${lang} article and ${ntrex} is absent: no ${lang} sentences to translate`);
  return { sentences: evenlySpaced(sentences, count), source: `${path.relative(repoRoot, inputDir)}/ (sample articles; ../shared is absent)` };
}

/** A variant's worker process, answering one JSON line per request (see bench/translate-worker.ts). */
class Worker {
  private readonly child: ChildProcess;
  private readonly replies: AsyncIterator<string>;

  constructor(private readonly job: WorkerJob) {
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
    if (reply.done) throw new Error(`the ${this.job.variant} worker (${this.job.dtype}, ${this.job.lang}) stopped; see its error above`);
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
  variant: Variant;
  lang: Lang;
  dtype: ModelDtype;
  sentences: number;
  targetTokens: number;
  /** Sum over the chunks of each chunk's fastest turn. */
  ms: number;
  loadMs: number;
  peakRssBytes: number;
}

/**
 * Measures the three variants on one language and dtype: their workers load and warm up, then time
 * the sentences chunk by chunk in turn (the order rotating), `repeat` times, keeping each chunk's
 * fastest time, so a burst of load from elsewhere falls on all of them alike.
 */
async function measure(job: Omit<WorkerJob, 'variant'>, chunk: number, repeat: number): Promise<VariantFigures[]> {
  const workers = VARIANTS.map(({ variant }) => new Worker({ ...job, variant }));
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
  return VARIANTS.map(({ variant }, v) => ({
    variant,
    lang: job.lang,
    dtype: job.dtype,
    sentences: fastest[v]!.reduce((sum, f) => sum + f.sentences, 0),
    targetTokens: fastest[v]!.reduce((sum, f) => sum + f.targetTokens, 0),
    ms: fastest[v]!.reduce((sum, f) => sum + f.ms, 0),
    loadMs: ends[v]!.loadMs,
    peakRssBytes: ends[v]!.peakRssBytes,
  }));
}

interface Totals {
  targetTokens: number;
  sentences: number;
  ms: number;
  peakRssBytes: number;
}

function total(figures: readonly VariantFigures[]): Totals {
  return {
    targetTokens: figures.reduce((sum, f) => sum + f.targetTokens, 0),
    sentences: figures.reduce((sum, f) => sum + f.sentences, 0),
    ms: figures.reduce((sum, f) => sum + f.ms, 0),
    peakRssBytes: Math.max(...figures.map((f) => f.peakRssBytes)),
  };
}

const tokensPerSecond = (t: Totals) => t.targetTokens / (t.ms / 1000);

function row(dtype: string, lang: string, label: string, t: Totals, translator: Totals): string {
  const ratio = tokensPerSecond(translator) / tokensPerSecond(t);
  return [
    dtype.padEnd(5),
    lang.padEnd(5),
    label.padEnd(24),
    tokensPerSecond(t).toFixed(1).padStart(10),
    (t.sentences / (t.ms / 1000)).toFixed(2).padStart(8),
    (t.ms / 1000).toFixed(1).padStart(7),
    (t.peakRssBytes / 2 ** 20).toFixed(0).padStart(9),
    ratio.toFixed(2).padStart(7),
  ].join(' ');
}

async function main(options: Options): Promise<void> {
  const preset = options.smoke ? 'tiny' : options.preset;
  const count = options.smoke ? 8 : options.sentences;
  const dirs = new Map<Lang, string>();
  for (const lang of options.lang) dirs.set(lang, await ensureModel(preset, lang));
  const inputs = new Map<Lang, string[]>();
  for (const lang of options.lang) {
    const { sentences, source } = await loadSentences(lang, count);
    inputs.set(lang, sentences);
    console.log(`${lang}: ${sentences.length} sentences from ${source}`);
  }

  const loadAtStart = loadavg();
  const figures: VariantFigures[] = [];
  for (const dtype of options.dtype) {
    for (const lang of options.lang) {
      const sentences = inputs.get(lang)!;
      const results = await measure(
        { lang, dtype, modelDir: dirs.get(lang)!, threads: THREADS, sentences, warmUp: sentences.slice(0, WARM_UP_SENTENCES) },
        options.chunk,
        options.repeat,
      );
      results.forEach((result, i) => {
        console.log(`  ${dtype} ${lang} ${VARIANTS[i]!.label}: ${(result.ms / 1000).toFixed(1)} s (model load ${(result.loadMs / 1000).toFixed(1)} s)`);
      });
      figures.push(...results);
    }
  }
  const loadAtEnd = loadavg();

  console.log(
    `\nbench:translate ${process.argv.slice(2).join(' ')} — ${preset} models, ${count} sentences per language in turns of ${options.chunk}, ${options.repeat} pass(es), ` +
      `output fixed to round(1.1 × source tokens) incl. </s>, ${THREADS} intra-op threads; ` +
      `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`,
  );
  console.log(`load average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(', ')} at end`);
  console.log('dtype lang  variant                      tok/s   sent/s  time s  RSS MiB  (a)/x');
  const pick = (dtype: ModelDtype, langs: readonly string[], variant: Variant) =>
    total(figures.filter((f) => f.dtype === dtype && langs.includes(f.lang) && f.variant === variant));
  const summary: string[] = [];
  for (const dtype of options.dtype) {
    const groups: [string, readonly string[]][] = [...options.lang.map((lang): [string, string[]] => [lang, [lang]])];
    if (options.lang.length > 1) groups.push(['all', options.lang]);
    for (const [name, langs] of groups) {
      const translator = pick(dtype, langs, 'translator');
      for (const { variant, label } of VARIANTS) console.log(row(dtype, name, label, pick(dtype, langs, variant), translator));
    }
    const all = (variant: Variant) => tokensPerSecond(pick(dtype, options.lang, variant));
    const overNaive = all('translator') / all('naive-pipeline');
    const overBound = all('translator') / all('ort-greedy');
    summary.push(
      `${dtype}: (a)/(b) = ${overNaive.toFixed(2)} (target ≥ 2: ${overNaive >= 2 ? 'met' : 'missed'}), ` +
        `(a)/(c) = ${overBound.toFixed(2)} (target ≥ 0.8: ${overBound >= 0.8 ? 'met' : 'missed'})`,
    );
  }
  console.log(`\n${summary.join('\n')}`);
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

const program = new Command('bench:translate')
  .description('Target tokens/s, sentences/s and peak RSS of the Translator, a naive pipeline loop and a bare onnxruntime decoder.')
  .addOption(new Option('--preset <preset>', 'generated model size').choices(['opus-mt-base', 'tiny']).default('opus-mt-base'))
  .option('--dtype <list>', 'weights to measure: q8, fp32 or both', listOf<ModelDtype>(['q8', 'fp32']), ['q8', 'fp32'] as ModelDtype[])
  .option('--sentences <n>', 'sentences per language', positiveInteger, 64)
  .option('--lang <list>', 'source languages: ar, vi or both', listOf<Lang>(['ar', 'vi']), ['ar', 'vi'] as Lang[])
  .option('--chunk <n>', 'sentences per turn of each variant (and per Translator call)', positiveInteger, 32)
  .option('--repeat <n>', 'passes over the sentences; each chunk counts its fastest pass', positiveInteger, 1)
  .option('--smoke', 'quick check for CI: tiny models, 8 sentences per language', false)
  .parse();

await main(program.opts<Options>());
