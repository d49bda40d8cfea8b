import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import type { PipelineConfig } from '../config/config.js';
import { assignArticleIds } from '../input/article-ids.js';
import { listArticleFiles } from '../input/read.js';
import { realInputRoots } from '../input/read-file.js';
import { findRunRepeatedLines } from '../run/repeated-lines.js';
import { siteOf } from '../stages/clean.js';
import { removeStaleTempFiles } from '../output/atomic-write.js';
import { lockOutputDir } from '../run/output-lock.js';
import { finishRun, settingsHash, type RunOptions } from '../run/pipeline.js';
import type { ArticleOutcome, RunReport } from '../run/report.js';
import type { ModelUsage } from '../translation/backend.js';
import { hashModelFiles } from '../translation/memory.js';
import { sha256File } from '../models/store.js';
import { ARTICLE_QUEUE, startQueue } from './connection.js';
import { articleJobId, articleKey, endedJobs, outcomeOf, type ArticleJob } from './jobs.js';

export interface QueueRunOptions extends RunOptions {
  /** The PostgreSQL URL of the queue. */
  url: string;
  /** Enqueue and return, without waiting for the workers. */
  detach?: boolean;
}

export interface Enqueued {
  articles: number;
  /** Jobs added; the others were in the queue already (the same article, unchanged). */
  added: number;
  /** Older versions of changed articles taken out of the queue before a worker got to them. */
  replaced: number;
}

/** How often a waiting run asks the queue what has ended. */
const POLL_MS = 500;
const INSERT_CHUNK = 500;

/**
 * `newsbridge run --queue`: lists the articles and puts one job per article in the queue, keyed by
 * the article and its fingerprint (its bytes and the settings), so an unchanged article is never
 * queued twice and a changed one replaces its stale job. Then, unless detached, it waits for the
 * workers, reporting each article as it ends, and writes `manifest.jsonl` and `run-report.json`
 * exactly as `newsbridge run` does. It holds the output folder's lock meanwhile (one run per output
 * folder, as `newsbridge run`); a detached run holds it while it enqueues, so it never queues work
 * into a folder another run is writing.
 */
export async function runOnQueue(options: QueueRunOptions): Promise<{ enqueued: Enqueued; report: RunReport | null }> {
  const { config, url, events = {} } = options;
  const startedAt = new Date();
  const problems: string[] = [];
  const problem = (message: string) => {
    problems.push(message);
    options.log?.warn({ problem: message }, 'run problem');
    events.onProblem?.(message);
  };
  const lock = await lockOutputDir(config.output.dir);
  const boss = await startQueue(url, 'run', (message) => options.log?.warn({ error: message }, 'queue error')).catch(async (error: unknown) => {
    await lock?.release();
    throw error;
  });
  try {
    const run = path.resolve(config.output.dir);
    const jobConfig = configForWorkers(config);
    const files = assignArticleIds(await listArticleFiles(config.input.patterns)).map((file) => ({
      ...file,
      path: path.resolve(file.path),
      inputRoot: path.resolve(file.inputRoot),
    }));
    if (files.length === 0) problem(`no articles match input.patterns (${config.input.patterns.join(', ')}); check --input or input.patterns`);
    const settings = await settingsHash(jobConfig, { fingerprint: (dir, names) => hashModelFiles(dir, names, sha256File) });
    // The corpus pass of `run`, once here for every worker: each job carries its own site's lines.
    const inputRoots = config.input.followOutsideSymlinks ? null : await realInputRoots(files);
    const repeated = config.clean.enabled ? await findRunRepeatedLines(files, config.input.maxBytes, inputRoots, options.signal) : {};
    const forced = options.force ? startedAt.toISOString() : null;
    const jobs = await Promise.all(
      files.map(async (file) => {
        const site = siteOf({ source: { path: file.path } });
        const repeatedLines = repeated[site] ? { [site]: repeated[site] } : {};
        const made = `${await sha256File(file.path).catch(() => 'unreadable')}\n${settings}\n${JSON.stringify(repeatedLines)}`;
        return { id: articleJobId(run, file.id, made, forced), file, repeatedLines };
      }),
    );
    const enqueued = await enqueue(boss, run, jobConfig, jobs, Boolean(options.force));
    options.log?.info({ run, ...enqueued }, 'enqueued');
    if (options.detach) return { enqueued, report: null };

    events.onStart?.(files.length);
    const outcomes: ArticleOutcome[] = new Array(files.length);
    const manifest: string[] = new Array(files.length);
    const usage: ModelUsage = { modelCalls: 0, sentencesToModel: 0, cacheHits: 0 };
    const pending = new Map(jobs.map((job, index) => [job.id, index]));
    while (pending.size > 0 && !options.signal?.aborted) {
      try {
        for (const job of await endedJobs(boss.getDb(), [...pending.keys()])) {
          const index = pending.get(job.id)!;
          pending.delete(job.id);
          const ended = outcomeOf(job, files[index]!.id, files[index]!.path);
          outcomes[index] = ended.outcome;
          manifest[index] = ended.manifestLine;
          for (const key of Object.keys(usage) as (keyof ModelUsage)[]) usage[key] += job.output?.usage?.[key] ?? 0;
          for (const message of job.output?.problems ?? []) if (!problems.includes(message)) problem(message);
          options.log?.info({ article: ended.outcome }, 'article done');
          events.onArticle?.(ended.outcome);
        }
      } catch (error) {
        // The database restarting: the jobs go on; ask again.
        options.log?.warn({ error: (error as Error).message }, 'cannot read the queue; trying again');
      }
      if (pending.size > 0) await sleep(POLL_MS, undefined, { signal: options.signal }).catch(() => undefined);
    }
    if (pending.size === 0) {
      // Every job of the run has ended, so no worker is writing here: what a killed one left is stale.
      const stale = await removeStaleTempFiles(run);
      if (stale.length > 0) options.log?.info({ removed: stale }, 'removed temp files left by a worker that died');
    }
    if (lock?.lost) problem(`lost the lock on output folder ${run} during the run (${lock.lost.message}); another run may have written there too, so run again`);
    const report = await finishRun({ config, startedAt, files, outcomes, manifest, usage, problems, problem });
    return { enqueued, report };
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await lock?.release();
  }
}

/**
 * The config the workers run with: every path absolute (the shared filesystem is mounted at the same
 * place on every machine), and no queue section (its URL may hold a password, and jobs are readable
 * by anyone who can read the queue).
 */
function configForWorkers(config: PipelineConfig): PipelineConfig {
  const { url: _url, ...queue } = config.queue;
  return {
    ...config,
    queue,
    output: { ...config.output, dir: path.resolve(config.output.dir) },
    translation: { ...config.translation, modelsDir: path.resolve(config.translation.modelsDir) },
    cache: { ...config.cache, path: path.resolve(config.cache.path) },
  };
}

async function enqueue(
  boss: PgBoss,
  run: string,
  config: PipelineConfig,
  jobs: { id: string; file: ArticleJob['file']; repeatedLines: ArticleJob['repeatedLines'] }[],
  force: boolean,
): Promise<Enqueued> {
  const db = boss.getDb();
  const ids = jobs.map((job) => job.id);
  const keys = jobs.map((job) => articleKey(run, job.file.id));
  const stale = await db.executeSql(
    `SELECT id FROM pgboss.job WHERE name = $1 AND singleton_key = ANY($2::text[]) AND state < 'completed' AND NOT (id = ANY($3::uuid[]))`,
    [ARTICLE_QUEUE, keys, ids],
  );
  const replaced = (stale.rows as { id: string }[]).map((row) => row.id);
  if (replaced.length > 0) await boss.cancel(ARTICLE_QUEUE, replaced);
  // Ids pg-boss has moved to its archive are unknown to its insert; leave those out here.
  const existing = await db.executeSql(
    `SELECT id FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[])
     UNION SELECT id FROM pgboss.archive WHERE name = $1 AND id = ANY($2::uuid[])`,
    [ARTICLE_QUEUE, ids],
  );
  const known = new Set((existing.rows as { id: string }[]).map((row) => row.id));
  const added = jobs.filter((job) => !known.has(job.id));
  for (let start = 0; start < added.length; start += INSERT_CHUNK) {
    await boss.insert(
      added.slice(start, start + INSERT_CHUNK).map((job) => ({
        id: job.id,
        name: ARTICLE_QUEUE,
        data: { run, file: job.file, repeatedLines: job.repeatedLines, config, force } satisfies ArticleJob,
        singletonKey: articleKey(run, job.file.id),
        expireInSeconds: config.queue.lockTimeoutSeconds,
        retryLimit: config.queue.retries,
        retryDelay: config.queue.retryDelaySeconds,
        retryBackoff: true,
      })),
    );
  }
  return { articles: jobs.length, added: added.length, replaced: replaced.length };
}
