import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { configSchema, defaultConfig, type ModelDtype, type PipelineConfig } from '../config/config.js';
import { realInputRoots } from '../input/read-file.js';
import { processFile, type FileResult } from '../run/process-file.js';
import { installModels, loadServices, type RunServices } from '../run/services.js';
import type { ModelUsage } from '../translation/backend.js';
import { PostgresTranslationMemory } from '../translation/postgres-memory.js';
import { modelFilesIn } from '../models/layout.js';
import { manifestLine } from '../output/manifest.js';
import { ARTICLE_QUEUE, openPool, processName, startQueue } from './connection.js';
import { modelWeights, weightsMismatch, type ArticleJob, type ArticleJobResult, type ModelWeights } from './jobs.js';
import { recordWorker } from './status.js';

export interface WorkerOptions {
  url: string;
  /** Articles processed at once. */
  concurrency: number;
  log: Logger;
  /** When aborted, no further job is taken; the jobs in hand are finished and reported, then `runWorker` returns. */
  signal: AbortSignal;
}

/** A worker renews the lock of each job it holds, and its own record, this many times per lock timeout. */
const HEARTBEATS_PER_TIMEOUT = 3;
/** How often a worker with a free slot asks for jobs. */
const POLL_MS = 1000;
/** Failures another attempt could fix (a machine's disk, network or database); the others are the input's own. */
const RETRIED_REASONS = new Set(['unreadable', 'stage-error', 'output-error', 'input-changed']);

/** A run's services in this worker, and the model work already reported in a job result. */
interface LoadedRun extends RunServices {
  problems: string[];
  reported: ModelUsage;
}

/** What one attempt at a job gave: its result (none when it threw), and why to fail it for a retry. */
interface Attempt {
  result?: ArticleJobResult;
  retry?: string;
}

/**
 * `newsbridge worker`: takes article jobs from the queue, runs each through the same code as
 * `newsbridge run` (`processFile`) and stores its outcome in the queue. An attempt that failed in a
 * way another could fix is failed, so pg-boss retries it (with backoff) until its retries are spent;
 * it then stays `failed`. A job taken after an earlier attempt (a dead worker's, a failed one) is
 * done with `force`, so its outcome is the article's own, not "up to date" because of files the
 * earlier attempt wrote.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const { url, log } = options;
  const boss = await startQueue(url, 'worker', (message) => log.warn({ error: message }, 'queue error'));
  const memory = await PostgresTranslationMemory.open(openPool(url, 'memory', options.concurrency + 2), processName);
  const worker = new QueueWorker(options, boss, memory);
  await worker.recordHeld();
  log.info({ worker: processName, concurrency: options.concurrency }, 'worker started');
  try {
    await worker.takeJobsUntilStopped();
  } finally {
    await worker.stop();
  }
}

/** A worker at work: its queue, the shared translation memory, each run's services and the jobs in hand. */
class QueueWorker {
  private readonly options: WorkerOptions;
  private readonly log: Logger;
  private readonly boss: PgBoss;
  private readonly memory: PostgresTranslationMemory;
  private readonly runs = new Map<string, Promise<LoadedRun>>();
  private readonly inHand = new Map<string, Promise<void>>();
  private readonly weightsHere = new Map<string, Promise<ModelWeights>>();
  // The lock timeout of the latest job taken: how long this worker may go unseen before it counts as gone.
  private lockTimeoutSeconds = defaultConfig.queue.lockTimeoutSeconds;
  // Why it refused its latest job, for `newsbridge status`; cleared by a job it takes.
  private refusal: string | null = null;
  private recordedAt = 0;

  constructor(options: WorkerOptions, boss: PgBoss, memory: PostgresTranslationMemory) {
    this.options = options;
    this.log = options.log;
    this.boss = boss;
    this.memory = memory;
  }

  /** Takes jobs while there are free slots, until the signal to stop; then finishes the jobs in hand. */
  async takeJobsUntilStopped(): Promise<void> {
    const { concurrency, signal } = this.options;
    const { inHand } = this;
    while (!signal.aborted) {
      const jobs = await this.fetchJobs(concurrency - inHand.size);
      for (const job of jobs) this.take(job);
      // Seen three times per lock timeout, busy or idle, so `status` and a waiting run know it is alive.
      if (jobs.length > 0 || performance.now() - this.recordedAt > (this.lockTimeoutSeconds * 1000) / HEARTBEATS_PER_TIMEOUT)
        await this.recordHeld();
      if (jobs.length === 0 || inHand.size >= concurrency) {
        // Until a slot frees up (when full, counting the jobs just taken), the next poll, or the signal to stop.
        const full = inHand.size >= concurrency;
        await Promise.race([sleep(POLL_MS, undefined, { signal }).catch(() => undefined), ...(full ? inHand.values() : [])]);
      }
    }
    if (inHand.size > 0) this.log.info({ jobs: inHand.size }, 'stopping: finishing the jobs in hand');
    await Promise.all(inHand.values());
  }

  /** Up to `free` jobs; none when no slot is free or the queue cannot be reached (the next poll tries again). */
  private async fetchJobs(free: number): Promise<PgBoss.JobWithMetadata<ArticleJob>[]> {
    if (free <= 0) return [];
    try {
      return await this.boss.fetch<ArticleJob>(ARTICLE_QUEUE, { batchSize: free, includeMetadata: true });
    } catch (error) {
      this.log.warn({ error: (error as Error).message }, 'cannot fetch jobs; trying again');
      return [];
    }
  }

  private take(job: PgBoss.JobWithMetadata<ArticleJob>): void {
    this.lockTimeoutSeconds = Number(job.expireInSeconds);
    const done = this.work(job).finally(() => {
      this.inHand.delete(job.id);
      void this.recordHeld();
    });
    this.inHand.set(job.id, done);
  }

  /** Records the jobs this worker holds, for `newsbridge status` and a waiting run. */
  recordHeld(): Promise<void> {
    this.recordedAt = performance.now();
    const record = { running: [...this.inHand.keys()], lockTimeoutSeconds: this.lockTimeoutSeconds, problem: this.refusal };
    return recordWorker(this.boss, processName, record).catch((error: Error) =>
      this.log.warn({ error: error.message }, 'cannot record this worker'),
    );
  }

  /** Says this worker is gone and lets go of the queue, each run's models and the shared memory. */
  async stop(): Promise<void> {
    await recordWorker(this.boss, processName, { running: null, lockTimeoutSeconds: this.lockTimeoutSeconds, problem: null }).catch(
      () => undefined,
    );
    await this.boss.stop({ graceful: false, wait: true });
    for (const run of this.runs.values()) await (await run).pool.dispose();
    await this.memory.close();
    this.log.info({ worker: processName }, 'worker stopped');
  }

  /** Does one job with its lock renewed meanwhile, and stores its result: completed, or failed for a retry. */
  private async work(job: PgBoss.JobWithMetadata<ArticleJob>): Promise<void> {
    const { log, boss } = this;
    const { file } = job.data;
    // Through the schema again: jsonb keeps no key order, and the output fingerprint hashes the
    // settings as JSON, in the schema's order.
    const config = configSchema.parse(job.data.config);
    log.info({ job: job.id, article: file.id, attempt: job.retryCount + 1 }, 'article started');
    const heartbeat = setInterval(
      () =>
        void keepJob(boss, job.id).catch((error: Error) => log.warn({ job: job.id, error: error.message }, 'cannot renew the job lock')),
      (Number(job.expireInSeconds) * 1000) / HEARTBEATS_PER_TIMEOUT,
    );
    let attempt: Attempt;
    try {
      attempt = await this.attempt(job, config);
    } catch (error) {
      attempt = { retry: `${file.path}: ${(error as Error).message}` };
    } finally {
      clearInterval(heartbeat);
    }
    const { result, retry } = attempt;
    log.info({ job: job.id, article: file.id, status: result?.outcome.status, reason: result?.outcome.reason, retry }, 'article done');
    const output = { ...result, worker: processName, ...(retry ? { message: retry } : {}) };
    await untilStored(log, () => (retry ? boss.fail(ARTICLE_QUEUE, job.id, output) : boss.complete(ARTICLE_QUEUE, job.id, output)));
  }

  /** The job's article done with its run's services, or the job refused when this machine's models are not the run's. */
  private async attempt(job: PgBoss.JobWithMetadata<ArticleJob>, config: PipelineConfig): Promise<Attempt> {
    const { file } = job.data;
    // A job enqueued by a newsbridge from before the fingerprint carries none to compare.
    const mismatch = job.data.weights ? weightsMismatch(config, job.data.weights, await this.localWeights(config)) : null;
    if (mismatch) {
      if (this.refusal !== mismatch) this.log.warn({ job: job.id, problem: mismatch }, "refusing jobs: the models here are not the run's");
      this.refusal = mismatch;
      // Failed, so another worker gets it at its retry; with no matching worker it ends failed.
      const result = refusedJob(file, mismatch);
      return { result, retry: result.outcome.message };
    }
    this.refusal = null;
    const run = await this.loadRun(config);
    const done = await this.processArticle(job, config, run);
    const result = {
      outcome: done.outcome,
      manifestLine: done.manifestLine,
      worker: processName,
      usage: usageSince(run),
      problems: run.problems,
    };
    const retried = done.outcome.status === 'failed' && RETRIED_REASONS.has(done.outcome.reason ?? '');
    return { result, ...(retried ? { retry: done.outcome.message ?? done.outcome.reason } : {}) };
  }

  /** `processFile` on the job's article, done again (no retry spent) while the shared memory was lost meanwhile. */
  private async processArticle(job: PgBoss.JobWithMetadata<ArticleJob>, config: PipelineConfig, run: LoadedRun): Promise<FileResult> {
    const { file } = job.data;
    // Symlinks out of the article's input folder are refused as in `run`, unless the config allows them.
    const inputRoots = config.input.followOutsideSymlinks ? null : await realInputRoots([file]);
    let force = job.data.force || job.retryCount > 0;
    for (;;) {
      const failuresBefore = this.memory.failures;
      const processed = await processFile(file, config, { ...run, inputRoots }, job.data.repeatedLines ?? {}, { force, log: this.log });
      // The worker's services get no stop signal, so an article is never left half done here.
      if (processed === null) throw new Error('the article was stopped before it was done');
      if (this.memory.failures === failuresBefore) return processed;
      // The database went away while the article was translated (a restart): not the article's
      // fault, so no retry of its own is spent; it is done again once the database is back.
      this.log.warn(
        { job: job.id, article: file.id },
        'the shared translation memory could not be reached; the article is done again when it can',
      );
      await untilStored(this.log, () => this.memory.ping());
      force = true;
    }
  }

  /**
   * The weights of the models a run's config names, on this machine: hashed once per process (the
   * shared memory keeps each file's digest), as a worker loads each run's models once.
   */
  private localWeights(config: PipelineConfig): Promise<ModelWeights> {
    const key = JSON.stringify([config.translation.modelsDir, config.translation.dtype, config.translation.models]);
    let weights = this.weightsHere.get(key);
    if (!weights) {
      weights = modelWeights(config, async (dir, dtype: ModelDtype) => this.memory.fingerprint(dir, await modelFilesIn(dir, dtype)));
      this.weightsHere.set(key, weights);
    }
    return weights;
  }

  /** A run's services, loaded at its first job and kept for the others. */
  private loadRun(config: PipelineConfig): Promise<LoadedRun> {
    const key = JSON.stringify(config);
    let loaded = this.runs.get(key);
    if (!loaded) {
      loaded = this.loadServices(config);
      this.runs.set(key, loaded);
    }
    return loaded;
  }

  private async loadServices(config: PipelineConfig): Promise<LoadedRun> {
    const { log, memory } = this;
    const problems: string[] = [];
    const problem = (message: string) => {
      problems.push(message);
      log.warn({ problem: message }, 'run problem');
    };
    const notDownloaded = await installModels(config, {}, problem);
    const services = await loadServices(config, {
      // Each job says where its article may be read from (`processArticle`).
      inputRoots: null,
      // No stop signal: a worker stops between jobs (SIGTERM finishes the jobs in hand), never inside one.
      problem: (lang, message) => (lang === null || !notDownloaded.has(lang)) && problem(message),
      openMemory: () => (config.cache.enabled ? memory : null),
      log,
    });
    return { ...services, problems, reported: { modelCalls: 0, sentencesToModel: 0, cacheHits: 0 } };
  }
}

/** The result of a job this worker refuses because its models are not the run's: no outputs written. */
function refusedJob(file: ArticleJob['file'], mismatch: string): ArticleJobResult {
  const message = `${file.path}: refused by worker ${processName}: ${mismatch}`;
  return {
    outcome: { id: file.id, status: 'failed', reason: 'model-mismatch', message, timings: {}, sentencesTranslated: 0 },
    manifestLine: manifestLine({ id: file.id, source: file.path, status: 'failed', reason: 'model-mismatch', outputs: {} }),
    worker: processName,
    usage: { modelCalls: 0, sentencesToModel: 0, cacheHits: 0 },
    problems: [],
  };
}

/** The run's model work since its previous job result, so the results of a run add up to its total. */
function usageSince(run: LoadedRun): ModelUsage {
  const now = { ...run.backend.usage };
  const since = {
    modelCalls: now.modelCalls - run.reported.modelCalls,
    sentencesToModel: now.sentencesToModel - run.reported.sentencesToModel,
    cacheHits: now.cacheHits - run.reported.cacheHits,
  };
  run.reported = now;
  return since;
}

/** Runs `store` (storing a job's result, reaching the database) until the database takes it: a result is never dropped. */
async function untilStored(log: Logger, store: () => Promise<unknown>): Promise<void> {
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    try {
      await store();
      return;
    } catch (error) {
      log.warn({ error: (error as Error).message, retryInMs: wait }, 'cannot store the result in the queue; trying again');
      await sleep(wait);
    }
  }
}

/**
 * Restarts the lock timeout of a job this worker holds. pg-boss 10 (the last for Node 20) times a job
 * out a fixed time after it started and has no heartbeat of its own, so the worker moves the start;
 * a job is then taken over a lock timeout after its worker stopped renewing it (died), however long
 * the article takes.
 */
async function keepJob(boss: PgBoss, id: string): Promise<void> {
  await boss
    .getDb()
    .executeSql(`UPDATE pgboss.job SET started_on = now() WHERE name = $1 AND id = $2 AND state = 'active'`, [ARTICLE_QUEUE, id]);
}
