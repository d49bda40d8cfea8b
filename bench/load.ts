/**
 * Load: throughput and memory of `newsbridge run` as the corpus grows.
 *
 *   npm run bench:load -- [--n 2000] [--sizes 200,2000,…] [--concurrency C] [--cold]
 *
 * Generates corpora of N/10 and N articles (default 200 and 2,000) by recombining the shared
 * Vietnamese articles (../shared/data/news/vi-dantri) and the sample Arabic ones (input/), runs the
 * pipeline on each with the generated tiny models, and prints articles/s and peak RSS. Time should
 * grow linearly with N and memory stay flat.
 *
 * The generated articles are made of the source articles' paragraphs, so by default a first, untimed
 * run over the source articles fills the translation memory and the timed runs get every sentence
 * from it: they measure the pipeline itself (reading, the stages, the cache, writing, the queue), not
 * the tiny models' decoding, which would otherwise take most of the time (about 2 s per article).
 * `--cold` turns the translation memory off, so every sentence goes through a model.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { writeCorpus } from '../tools/corpus.js';
import { runNewsbridge, writeRunConfig } from '../tools/newsbridge-process.js';
import { repoRoot } from '../tools/repo-root.js';
import { ensureTestModels } from '../tools/test-models.js';

interface Options {
  n: number;
  sizes?: number[];
  concurrency?: number;
  cold: boolean;
}

interface SizeFigures {
  n: number;
  wallMs: number;
  pipelineMs: number;
  peakRssBytes: number;
  sentences: number;
  modelCalls: number;
  sentencesToModel: number;
  articles: Record<string, number>;
}

const vietnameseDir = path.resolve(repoRoot, '../shared/data/news/vi-dantri');

interface RunReportFigures {
  durationMs: number;
  sentencesTranslated: number;
  modelCalls: number;
  sentencesToModel: number;
  articles: Record<string, number>;
}

const sourceDirs = [path.join(repoRoot, 'input'), vietnameseDir];

/** Runs the pipeline over `inputDir` into a new output folder; returns the process and its run report. */
async function timedRun(work: string, inputDir: string, cache: string | null, modelsDir: string, options: Options) {
  const out = mkdtempSync(path.join(work, 'output-'));
  const configFile = path.join(out, 'pipeline.yaml');
  writeRunConfig(configFile, { inputDir, out, cache: cache ?? path.join(out, 'unused.sqlite'), modelsDir, cacheEnabled: cache !== null });
  const args = ['run', '--config', configFile, '--offline', ...(options.concurrency ? ['--concurrency', String(options.concurrency)] : [])];
  const run = await runNewsbridge(args);
  if (run.code !== 0 && run.code !== 2) throw new Error(`run over ${inputDir} failed with exit ${run.code}:\n${run.stderr.slice(-3000)}`);
  const report = JSON.parse(readFileSync(path.join(out, 'run-report.json'), 'utf8')) as RunReportFigures;
  rmSync(out, { recursive: true, force: true });
  return { run, report };
}

async function runSize(n: number, work: string, cache: string | null, modelsDir: string, options: Options): Promise<SizeFigures> {
  const inputDir = path.join(work, `input-${n}`);
  const corpus = writeCorpus({ n, seed: 1, sourceDirs, outDir: inputDir, arabicShare: 0.2 });
  console.log(`N = ${n}: ${corpus.byLanguage.ar} ar + ${corpus.byLanguage.vi} vi articles, ${(corpus.bytes / 2 ** 20).toFixed(1)} MiB`);
  const { run, report } = await timedRun(work, inputDir, cache, modelsDir, options);
  rmSync(inputDir, { recursive: true, force: true });
  return {
    n,
    wallMs: run.wallMs,
    pipelineMs: report.durationMs,
    peakRssBytes: run.peakRssBytes,
    sentences: report.sentencesTranslated,
    modelCalls: report.modelCalls,
    sentencesToModel: report.sentencesToModel,
    articles: report.articles,
  };
}

/** Translates every source article once, so the generated articles' sentences are all in the cache. */
async function warmCache(work: string, cache: string, modelsDir: string, options: Options): Promise<void> {
  const inputDir = path.join(work, 'sources');
  mkdirSync(inputDir);
  for (const dir of sourceDirs) {
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.txt'))) {
      copyFileSync(path.join(dir, file), path.join(inputDir, file));
    }
  }
  const { run, report } = await timedRun(work, inputDir, cache, modelsDir, options);
  console.log(
    `warm-up: ${report.articles.total} source articles, ${report.sentencesTranslated} sentences translated in ${(run.wallMs / 1000).toFixed(1)} s (${(report.articles.total! / (report.durationMs / 1000)).toFixed(2)} articles/s with the models)`,
  );
}

async function main(options: Options): Promise<number> {
  if (!existsSync(vietnameseDir)) throw new Error(`${vietnameseDir} not found: bench:load needs ../shared beside the repository`);
  const modelsDir = await ensureTestModels();
  const work = mkdtempSync(path.join(tmpdir(), 'newsbridge-load-'));
  const cache = options.cold ? null : path.join(work, 'cache.sqlite');
  if (cache) await warmCache(work, cache, modelsDir, options);
  const sizes = options.sizes ?? [Math.max(1, Math.round(options.n / 10)), options.n];
  const figures: SizeFigures[] = [];
  for (const n of sizes) figures.push(await runSize(n, work, cache, modelsDir, options));
  rmSync(work, { recursive: true, force: true });

  console.log(
    `\nbench:load (tiny generated models, translation memory ${cache ? 'warm' : 'off'}, concurrency ${options.concurrency ?? 'from config'})`,
  );
  console.log('      N   wall s  pipeline s  articles/s  ms/article  sentences  to model (batches)  peak RSS MiB  statuses');
  for (const size of figures) {
    const perSecond = size.n / (size.pipelineMs / 1000);
    const toModel = `${size.sentencesToModel} (${size.modelCalls})`;
    console.log(
      `${String(size.n).padStart(7)} ${(size.wallMs / 1000).toFixed(1).padStart(8)} ${(size.pipelineMs / 1000).toFixed(1).padStart(11)} ${perSecond.toFixed(1).padStart(11)} ${(size.pipelineMs / size.n).toFixed(1).padStart(11)} ${String(size.sentences).padStart(10)} ${toModel.padStart(19)} ${(size.peakRssBytes / 2 ** 20).toFixed(0).padStart(13)}  ${JSON.stringify(size.articles)}`,
    );
  }
  const small = figures[0]!;
  for (const large of figures.slice(1)) {
    // The fixed cost (loading the language ID and translation models) is paid once per run, so the
    // time per extra article is the figure that shows whether time grows linearly.
    const marginal = (large.pipelineMs - small.pipelineMs) / (large.n - small.n);
    console.log(
      `\nN ${small.n} → ${large.n} (${(large.n / small.n).toFixed(0)}×): pipeline time ${(large.pipelineMs / small.pipelineMs).toFixed(2)}×, ${marginal.toFixed(1)} ms per extra article; peak RSS ${(large.peakRssBytes / small.peakRssBytes).toFixed(2)}× (${((large.peakRssBytes - small.peakRssBytes) / 2 ** 20).toFixed(0)} MiB more).`,
    );
  }
  return 0;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

const program = new Command('bench:load')
  .description('Articles/s and peak RSS of the pipeline at N/10 and N generated articles.')
  .option('--n <articles>', 'the larger corpus size', positiveInteger, 2000)
  .option('--sizes <list>', 'corpus sizes to run, comma-separated (default: N/10 and N)', (list: string) =>
    list.split(',').map(positiveInteger),
  )
  .option('--concurrency <n>', 'articles processed at once (default: from the config)', positiveInteger)
  .option('--cold', 'no translation memory: every sentence goes through a model', false)
  .parse();

process.exitCode = await main(program.opts<Options>());
