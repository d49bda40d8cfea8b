import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import type { PipelineConfig } from '../config/config.js';
import { assignArticleIds } from '../input/article-ids.js';
import { listArticleFiles } from '../input/list-files.js';
import { realInputRoots } from '../input/read-file.js';
import { findRunRepeatedLines } from '../run/repeated-lines.js';
import { siteOf } from '../stages/clean.js';
import { removeStaleTempFiles } from '../output/atomic-write.js';
import { lockOutputDir } from '../run/output-lock.js';
import { finishRun } from '../run/finish.js';
import type { RunEvents, RunOptions } from '../run/pipeline.js';
import { installModels, settingsHash } from '../run/services.js';
import type { ArticleOutcome, RunReport } from '../run/report.js';
import type { ModelUsage } from '../translation/backend.js';
import { hashModelFiles } from '../translation/memory.js';
import { sha256File } from '../models/files.js';
import { modelFilesIn } from '../models/layout.js';
import { manifestLine } from '../output/manifest.js';
import { manifestLineSchema } from '../output/schema.js';
import { ARTICLE_QUEUE, startQueue } from './connection.js';
import { articleJobId, articleKey, endedJobs, modelWeights, outcomeOf, type ArticleJob, type EndedJob, type ModelWeights } from './jobs.js';
import { aliveWorkers } from './status.js';

export interface QueueRunEvents extends RunEvents {
  /** How many workers are alive (see `aliveWorkers`), when the waiting run first knows it and whenever it changes. */
  onWorkers?(alive: number): void;
  /** No worker has been alive for `seconds` while articles wait: said once, then again every ten times as long. */
  onNoWorkers?(seconds: number, waiting: number): void;
}

export interface QueueRunOptions extends RunOptions {
  /** The PostgreSQL URL of the queue. */
  url: string;
  /** Enqueue and return, without waiting for the workers. */
  detach?: boolean;
  events?: QueueRunEvents;
  /** Seconds with no worker alive before the waiting run warns; default `queue.noWorkerWarningSeconds`. */
  noWorkerWarningSeconds?: number;
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
  const boss = await startQueue(url, 'run', (message) => options.log?.warn({ error: message }, 'queue error')).catch(
    async (error: unknown) => {
      await lock?.release();
      throw error;
    },
  );
  try {
    // The enqueuing machine's models are the run's: installed here as an embedded run would, so their
    // weights can be fingerprinted, and every worker must have the same.
    await installModels(config, options, problem);
    const run = path.resolve(config.output.dir);
    const jobConfig = configForWorkers(config);
    const listing = await listArticleFiles(config.input.patterns, { outputDir: config.output.dir });
    const files = assignArticleIds(listing.files).map((file) => ({
      ...file,
      path: path.resolve(file.path),
      inputRoot: path.resolve(file.inputRoot),
    }));
    if (files.length === 0)
      problem(`no articles match input.patterns (${config.input.patterns.join(', ')}); check --input or input.patterns`);
    const { jobs, weights } = await articleJobs(run, jobConfig, files, options, startedAt);
    const { endedBefore, ...enqueued } = await enqueue(boss, run, jobConfig, weights, jobs, Boolean(options.force));
    options.log?.info({ run, ...enqueued }, 'enqueued');
    if (options.detach) return { enqueued, report: null };

    const { outcomes, manifest, usage } = await waitForWorkers(boss, run, jobs, endedBefore, options, { problems, problem });
    if (lock?.lost)
      problem(
        `lost the lock on output folder ${run} during the run (${lock.lost.message}); another run may have written there too, so run again`,
      );
    const report = await finishRun({
      config,
      startedAt,
      files,
      notListed: listing.notListed,
      outcomes,
      manifest,
      usage,
      problems,
      problem,
    });
    return { enqueued, report };
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await lock?.release();
  }
}

/** One article's job before it is queued: its id says what the outputs are made from. */
interface PlannedJob {
  id: string;
  file: ArticleJob['file'];
  repeatedLines: ArticleJob['repeatedLines'];
}

/**
 * A job per article, with the fingerprint of the models' weights every worker must have. The id
 * hashes the article's bytes, the settings and its site's repeated lines, so an unchanged article
 * gets the same job.
 */
async function articleJobs(
  run: string,
  config: PipelineConfig,
  files: ArticleJob['file'][],
  options: QueueRunOptions,
  startedAt: Date,
): Promise<{ jobs: PlannedJob[]; weights: ModelWeights }> {
  // Each model file is hashed once for both.
  const digests = new Map<string, Promise<string>>();
  const digest = (file: string) => digests.get(file) ?? digests.set(file, sha256File(file)).get(file)!;
  const settings = await settingsHash(config, { fingerprint: (dir, names) => hashModelFiles(dir, names, digest) });
  const weights = await modelWeights(config, async (dir, dtype) => hashModelFiles(dir, await modelFilesIn(dir, dtype), digest));
  // The corpus pass of `run`, once here for every worker: each job carries its own site's lines.
  const inputRoots = config.input.followOutsideSymlinks ? null : await realInputRoots(files);
  const repeated = config.clean.enabled
    ? await findRunRepeatedLines(files, config.input.maxBytes, inputRoots, options.signal, { html: config.input.html })
    : {};
  const forced = options.force ? startedAt.toISOString() : null;
  const jobs = await Promise.all(
    files.map(async (file) => {
      const site = siteOf({ source: { path: file.path } });
      const repeatedLines = repeated[site] ? { [site]: repeated[site] } : {};
      const made = `${await sha256File(file.path).catch(() => 'unreadable')}\n${settings}\n${JSON.stringify(repeatedLines)}`;
      return { id: articleJobId(run, file.id, made, forced), file, repeatedLines };
    }),
  );
  return { jobs, weights };
}

/** What the workers gave for a run's articles, in input order (a gap where one never ended). */
interface WorkerResults {
  outcomes: ArticleOutcome[];
  manifest: string[];
  usage: ModelUsage;
}

/** The run's problems, and how a new one is said. */
interface RunProblems {
  problems: string[];
  problem: (message: string) => void;
}

/**
 * Waits until the workers have ended every job (or the signal to stop), reporting each article as it
 * ends and warning while no worker is alive. Once all have ended, removes what a dead worker left.
 */
async function waitForWorkers(
  boss: PgBoss,
  run: string,
  jobs: PlannedJob[],
  endedBefore: ReadonlySet<string>,
  options: QueueRunOptions,
  said: RunProblems,
): Promise<WorkerResults> {
  const events = options.events ?? {};
  events.onStart?.(jobs.length);
  const results: WorkerResults = {
    outcomes: new Array(jobs.length),
    manifest: new Array(jobs.length),
    usage: { modelCalls: 0, sentencesToModel: 0, cacheHits: 0 },
  };
  const pending = new Map(jobs.map((job, index) => [job.id, index]));
  const noWorkers = noWorkerWarning(options.noWorkerWarningSeconds ?? options.config.queue.noWorkerWarningSeconds, (seconds) => {
    options.log?.warn({ seconds, waiting: pending.size }, 'no worker alive');
    events.onNoWorkers?.(seconds, pending.size);
  });
  let alive: number | undefined;
  while (pending.size > 0 && !options.signal?.aborted) {
    try {
      for (const job of await endedJobs(boss.getDb(), [...pending.keys()])) {
        const index = pending.get(job.id)!;
        pending.delete(job.id);
        recordEnded(results, index, job, jobs[index]!.file, endedBefore.has(job.id), options, said);
      }
      if (pending.size > 0) {
        const count = await aliveWorkers(boss);
        if (count !== alive) events.onWorkers?.(count);
        alive = count;
        noWorkers.observe(count);
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
  return results;
}

/** Puts an ended job's outcome in its article's place and reports it; its model work and problems count only if it ran for this run. */
function recordEnded(
  results: WorkerResults,
  index: number,
  job: EndedJob,
  file: ArticleJob['file'],
  endedBefore: boolean,
  options: QueueRunOptions,
  said: RunProblems,
): void {
  const ended = outcomeOf(job, file.id, file.path);
  // Done before this run: nothing ran for it now, as an embedded rerun skips an up-to-date article.
  const now = endedBefore ? skippedAsDone(ended) : ended;
  results.outcomes[index] = now.outcome;
  results.manifest[index] = now.manifestLine;
  if (!endedBefore) {
    for (const key of Object.keys(results.usage) as (keyof ModelUsage)[]) results.usage[key] += job.output?.usage?.[key] ?? 0;
    for (const message of job.output?.problems ?? []) if (!said.problems.includes(message)) said.problem(message);
  }
  options.log?.info({ article: now.outcome }, 'article done');
  options.events?.onArticle?.(now.outcome);
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

/**
 * An article whose job had ended before this run, reported as an embedded rerun reports an
 * up-to-date article: `skipped`, with the status of the outputs it kept. Failed ones stay failed
 * (their outputs are still missing), and what a worker skipped stays skipped.
 */
function skippedAsDone(ended: { outcome: ArticleOutcome; manifestLine: string }): { outcome: ArticleOutcome; manifestLine: string } {
  const { outcome } = ended;
  if (outcome.status !== 'ok' && outcome.status !== 'partial') return ended;
  const output = { status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}) };
  const line = manifestLineSchema.parse(JSON.parse(ended.manifestLine));
  const article = line.language ? { language: line.language, summary: { pairs: line.summary.map((target) => ({ target })) } } : undefined;
  return {
    outcome: { id: outcome.id, status: 'skipped', reason: 'up-to-date', output, timings: {}, sentencesTranslated: 0 },
    manifestLine: manifestLine({
      id: line.id,
      source: line.source,
      status: 'skipped',
      reason: 'up-to-date',
      output,
      outputs: line.outputs,
      article,
    }),
  };
}

/**
 * Calls `warn` once no worker has been alive for `seconds` (as the waiting run polls), then again
 * each time ten times as long has passed with still none; a worker coming back starts it over.
 */
function noWorkerWarning(seconds: number, warn: (seconds: number) => void): { observe(alive: number): void } {
  let since: number | null = null;
  let next = seconds;
  return {
    observe(alive) {
      if (alive > 0) {
        since = null;
        next = seconds;
        return;
      }
      since ??= performance.now();
      const waited = (performance.now() - since) / 1000;
      if (waited < next) return;
      warn(Math.floor(waited));
      next = waited + seconds * 10;
    },
  };
}

async function enqueue(
  boss: PgBoss,
  run: string,
  config: PipelineConfig,
  weights: ModelWeights,
  jobs: PlannedJob[],
  force: boolean,
): Promise<Enqueued & { endedBefore: Set<string> }> {
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
    `SELECT id, state >= 'completed' AS ended FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[])
     UNION SELECT id, true FROM pgboss.archive WHERE name = $1 AND id = ANY($2::uuid[])`,
    [ARTICLE_QUEUE, ids],
  );
  const rows = existing.rows as { id: string; ended: boolean }[];
  const known = new Set(rows.map((row) => row.id));
  const endedBefore = new Set(rows.filter((row) => row.ended).map((row) => row.id));
  const added = jobs.filter((job) => !known.has(job.id));
  for (let start = 0; start < added.length; start += INSERT_CHUNK) {
    await boss.insert(
      added.slice(start, start + INSERT_CHUNK).map((job) => ({
        id: job.id,
        name: ARTICLE_QUEUE,
        data: { run, file: job.file, repeatedLines: job.repeatedLines, config, weights, force } satisfies ArticleJob,
        singletonKey: articleKey(run, job.file.id),
        expireInSeconds: config.queue.lockTimeoutSeconds,
        retryLimit: config.queue.retries,
        retryDelay: config.queue.retryDelaySeconds,
        retryBackoff: true,
      })),
    );
  }
  return { articles: jobs.length, added: added.length, replaced: replaced.length, endedBefore };
}
