/**
 * Incremental runs: how much work a nightly rerun saves.
 *
 *   npm run bench:rerun -- [--limit N] [--corpus DIR]
 *
 * Runs the pipeline with the generated tiny models over ../shared/data/news/vi-dantri (a copy, in a
 * temp folder): once cold, once more over the unchanged corpus (goal: no model calls, under 5% of
 * the first run's time), then again after editing one article (goal: that article alone is
 * processed, and only its new sentences reach the model). Prints the figures and whether each goal
 * was met; exits 1 if one of the goals about work done (not the timing) was not.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { runNewsbridge, writeRunConfig, type NewsbridgeRun } from '../tools/newsbridge-process.js';
import { repoRoot } from '../tools/repo-root.js';
import { ensureTestModels } from '../tools/test-models.js';

interface Options {
  limit?: number;
  corpus: string;
}

interface RunFigures {
  label: string;
  run: NewsbridgeRun;
  report: {
    durationMs: number;
    articles: Record<string, number>;
    /** Batches the models ran. */
    modelCalls: number;
    /** Sentences (or pieces of over-long ones) in those batches. */
    sentencesToModel: number;
    cacheHits: number;
  };
}

const EDIT_SENTENCES = [
  'Theo số liệu mới nhất được công bố sáng nay, con số này còn có thể tăng thêm trong những tháng tới.',
  'Các chuyên gia kinh tế cho rằng cần thêm thời gian để đánh giá đầy đủ tác động của chính sách mới.',
  'Người dân địa phương bày tỏ hy vọng rằng tình hình sẽ sớm được cải thiện trong năm sau.',
];

function sourceSentences(outputJson: string): Set<string> {
  const article = JSON.parse(readFileSync(outputJson, 'utf8')) as { paragraphs: { sentences: { source: string }[] }[] };
  return new Set(article.paragraphs.flatMap((paragraph) => paragraph.sentences.map((sentence) => sentence.source)));
}

function outputJsonOf(out: string, inputFile: string): string {
  const manifest = readFileSync(path.join(out, 'manifest.jsonl'), 'utf8').trim().split('\n');
  const line = manifest
    .map((text) => JSON.parse(text) as { source: string; outputs: { json?: string } })
    .find((entry) => path.resolve(entry.source) === inputFile);
  if (!line?.outputs.json) throw new Error(`manifest.jsonl in ${out} has no JSON output for ${inputFile}`);
  return path.join(out, line.outputs.json);
}

async function measuredRun(label: string, configFile: string, out: string): Promise<RunFigures> {
  const run = await runNewsbridge(['run', '--config', configFile, '--offline']);
  if (run.code !== 0 && run.code !== 2) throw new Error(`${label} run failed with exit ${run.code}:\n${run.stderr.slice(-3000)}`);
  const report = JSON.parse(readFileSync(path.join(out, 'run-report.json'), 'utf8')) as RunFigures['report'];
  return { label, run, report };
}

async function main(options: Options): Promise<number> {
  const work = mkdtempSync(path.join(tmpdir(), 'newsbridge-rerun-'));
  const inputDir = path.join(work, 'input');
  const out = path.join(work, 'output');
  mkdirSync(inputDir);
  const files = readdirSync(options.corpus)
    .filter((file) => file.endsWith('.txt'))
    .sort()
    .slice(0, options.limit);
  for (const file of files) copyFileSync(path.join(options.corpus, file), path.join(inputDir, file));
  const configFile = path.join(work, 'pipeline.yaml');
  writeRunConfig(configFile, { inputDir, out, cache: path.join(work, 'cache.sqlite'), modelsDir: await ensureTestModels() });
  console.log(`bench:rerun: ${files.length} articles from ${options.corpus}, tiny generated models, work folder ${work}`);

  const first = await measuredRun('first (cold)', configFile, out);
  const second = await measuredRun('second (unchanged)', configFile, out);

  const edited = path.join(inputDir, files[0]!);
  const before = sourceSentences(outputJsonOf(out, edited));
  const lines = readFileSync(edited, 'utf8').trimEnd().split('\n');
  // One sentence added to the end of the second paragraph, and a new two-sentence paragraph at the end.
  lines[1] = `${lines[1]} ${EDIT_SENTENCES[0]}`;
  lines.push(`${EDIT_SENTENCES[1]} ${EDIT_SENTENCES[2]}`);
  writeFileSync(edited, `${lines.join('\n')}\n`);
  const third = await measuredRun('third (one article edited)', configFile, out);
  const after = sourceSentences(outputJsonOf(out, edited));
  const newSentences = [...after].filter((sentence) => !before.has(sentence)).length;

  console.log('\nrun                          exit   wall s  pipeline s  processed  skipped  modelCalls  toModel  cacheHits  peak RSS MiB');
  for (const { label, run, report } of [first, second, third]) {
    const processed = report.articles.total! - report.articles.skipped!;
    console.log(
      `${label.padEnd(28)} ${String(run.code).padStart(4)} ${(run.wallMs / 1000).toFixed(2).padStart(8)} ${(report.durationMs / 1000).toFixed(2).padStart(11)} ${String(processed).padStart(10)} ${String(report.articles.skipped).padStart(8)} ${String(report.modelCalls).padStart(11)} ${String(report.sentencesToModel).padStart(8)} ${String(report.cacheHits).padStart(10)} ${(run.peakRssBytes / 2 ** 20).toFixed(0).padStart(13)}`,
    );
  }
  const wallShare = second.run.wallMs / first.run.wallMs;
  const pipelineShare = second.report.durationMs / first.report.durationMs;
  const goals = [
    { goal: 'second run makes no model calls', ok: second.report.modelCalls === 0, value: `${second.report.modelCalls} model calls` },
    {
      goal: 'second run takes < 5% of the first run’s time',
      ok: wallShare < 0.05,
      timing: true,
      value: `${(wallShare * 100).toFixed(1)}% of the wall time (process start included), ${(pipelineShare * 100).toFixed(1)}% of the pipeline time`,
    },
    {
      goal: 'after the edit, only the edited article is processed',
      ok: third.report.articles.total! - third.report.articles.skipped! === 1,
      value: `${third.report.articles.total! - third.report.articles.skipped!} processed, ${third.report.articles.skipped} skipped`,
    },
    {
      goal: 'after the edit, only its new sentences reach the model',
      ok: third.report.sentencesToModel === newSentences,
      value: `${third.report.sentencesToModel} sentences sent to the model, ${newSentences} new in the article, ${third.report.cacheHits} from the cache`,
    },
  ];
  console.log('');
  for (const { goal, ok, value, timing } of goals) {
    // A missed timing is reported as such, not as a failure: on a small corpus process start-up dominates.
    console.log(`${ok ? 'PASS' : timing ? 'MISS' : 'FAIL'}  ${goal}: ${value}${timing ? ' (a timing: not in the exit code)' : ''}`);
  }
  rmSync(work, { recursive: true, force: true });
  // Timings depend on the machine and on the corpus size (process start-up dominates a small one),
  // so only the goals about work done decide the exit code.
  return goals.every((goal) => goal.ok || goal.timing) ? 0 : 1;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

const program = new Command('bench:rerun')
  .description('First run, unchanged rerun and one-edit rerun of the pipeline; prints time, model calls and cache hits.')
  .option('--limit <n>', 'use only the first N articles of the corpus', positiveInteger)
  .option('--corpus <dir>', 'folder of .txt articles', path.resolve(repoRoot, '../shared/data/news/vi-dantri'))
  .parse();

process.exitCode = await main(program.opts<Options>());
