import { createHash } from 'node:crypto';
import type PgBoss from 'pg-boss';
import type { ArticleReason } from '../article.js';
import type { PipelineConfig } from '../config/config.js';
import type { IdentifiedFile } from '../input/article-ids.js';
import type { RepeatedLines } from '../stages/clean.js';
import { configuredModels } from '../models/layout.js';
import { manifestLine } from '../output/manifest.js';
import type { ArticleOutcome } from '../run/report.js';
import type { ModelUsage } from '../translation/backend.js';
import { weightsFingerprint } from '../translation/translator.js';
import { ARTICLE_QUEUE } from './connection.js';

/**
 * What travels through the queue: one job per article of a run, and what the worker that processed it
 * reports back. A run is its output directory; the job carries the run's whole config (paths made
 * absolute), so every worker processes the article exactly as `newsbridge run` would.
 */

export interface ArticleJob {
  /** The run's output directory, absolute. */
  run: string;
  file: IdentifiedFile;
  /** The lines the article's site repeats across the run (`run`'s corpus pass, made once when enqueuing). */
  repeatedLines: RepeatedLines;
  config: PipelineConfig;
  /**
   * The weights of each configured model on the enqueuing machine (`weightsFingerprint`, `absent`
   * when not installed there): a worker whose models differ refuses the job.
   */
  weights: ModelWeights;
  /** Process even when the outputs are up to date (`run --force`). */
  force: boolean;
}

/** Per configured language, the fingerprint of the model's weights, or `absent`. */
export type ModelWeights = Record<string, string>;

/** The weights of every model `config` names, on this machine. */
export async function modelWeights(config: PipelineConfig, fingerprint = weightsFingerprint): Promise<ModelWeights> {
  const { translation } = config;
  const weights: ModelWeights = {};
  for (const model of configuredModels(translation.models, translation.modelsDir)) {
    weights[model.lang] = await fingerprint(model.dir, translation.dtype).catch(() => 'absent');
  }
  return weights;
}

/**
 * Why this machine must not process a job enqueued with `expected` (its models are not the same
 * weights: a stale copy, another revision), or null when they match.
 */
export function weightsMismatch(config: PipelineConfig, expected: ModelWeights, here: ModelWeights): string | null {
  const differing = configuredModels(config.translation.models, config.translation.modelsDir).filter(
    (model) => (expected[model.lang] ?? 'absent') !== (here[model.lang] ?? 'absent'),
  );
  if (differing.length === 0) return null;
  const name = (weights: string | undefined) =>
    weights === undefined || weights === 'absent' ? 'not installed' : `weights ${weights.slice(0, 12)}`;
  const models = differing.map(
    (model) => `${model.lang} model ${model.dir}: ${name(here[model.lang])} here, ${name(expected[model.lang])} where the run was enqueued`,
  );
  return `the models on this worker are not the ones the run was enqueued with (${models.join('; ')}), so its outputs would differ; give this machine the same model files as the enqueuing one (at the same path), or stop this worker`;
}

/** What a worker stores as the job's output when it is done with the article (completed or failed). */
export interface ArticleJobResult {
  outcome: ArticleOutcome;
  manifestLine: string;
  /** The worker (`host:pid`) that processed it. */
  worker: string;
  /** Model work the worker did since its previous result; summed over a run for its report. */
  usage: ModelUsage;
  /** Problems the worker met loading the run's models, said in every result so the run report has them. */
  problems: string[];
}

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/**
 * The job id of one version of an article in one run: enqueuing an unchanged article again finds its
 * job and adds nothing. `force` runs get their own ids, so they redo what is already done.
 */
export function articleJobId(run: string, articleId: string, fingerprint: string, forced: string | null): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([run, articleId, fingerprint, forced]))
    .digest('hex');
  // Shaped as a UUID (version 8, "custom"), the type pg-boss keys its jobs by.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Jobs of the same article in the same run share this key, so a newer version can replace an older one. */
export function articleKey(run: string, articleId: string): string {
  return JSON.stringify([run, articleId]);
}

export interface EndedJob {
  id: string;
  state: JobState;
  /** What the worker stored; a job that expired has pg-boss's own output, or none. */
  output: Partial<ArticleJobResult> | null;
}

// pg-boss keeps ended jobs in `pgboss.job` for a while, then moves them to `pgboss.archive`. Reading
// them here, in one query, is what keeps waiting on a large run cheap; pg-boss's own `getJobById`
// takes a query per job.
const ENDED_JOBS = `
  SELECT id, state, output FROM pgboss.job
  WHERE name = $1 AND id = ANY($2::uuid[]) AND state >= 'completed'
  UNION ALL
  SELECT id, state, output FROM pgboss.archive
  WHERE name = $1 AND id = ANY($2::uuid[])`;

/** Those of `ids` whose jobs have ended (completed, failed for good, cancelled). */
export async function endedJobs(db: PgBoss.Db, ids: readonly string[]): Promise<EndedJob[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.executeSql(ENDED_JOBS, [ARTICLE_QUEUE, ids]);
  return rows as EndedJob[];
}

/** The outcome of an ended job: the worker's, or, for a job no worker could finish, why not. */
export function outcomeOf(job: EndedJob, articleId: string, source: string): { outcome: ArticleOutcome; manifestLine: string } {
  if (job.output?.outcome && job.output.manifestLine) return { outcome: job.output.outcome, manifestLine: job.output.manifestLine };
  const [reason, message]: [ArticleReason, string] =
    job.state === 'cancelled'
      ? [
          'cancelled',
          `${source}: its job was cancelled in the queue (a newer version of the article replaced it, or an operator cancelled it); run again to process it`,
        ]
      : [
          'worker-lost',
          `${source}: every worker that took it stopped before finishing it (killed, out of memory, or past the queue's lock timeout); see the workers' logs, then \`newsbridge queue retry-failed\``,
        ];
  return {
    outcome: { id: articleId, status: 'failed', reason, message, timings: {}, sentencesTranslated: 0 },
    manifestLine: manifestLine({ id: articleId, source, status: 'failed', reason, outputs: {} }),
  };
}
