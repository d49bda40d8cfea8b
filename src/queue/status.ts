import type PgBoss from 'pg-boss';
import { ARTICLE_QUEUE } from './connection.js';
import type { ArticleJobResult, JobState } from './jobs.js';

/**
 * What the cluster is doing: the jobs by state, the failed ones with their reasons, and each worker
 * with the jobs it holds and has done. Workers record themselves in `newsbridge.workers` when they
 * take or finish a job.
 */

/** Records that worker `name` holds the jobs `running`, or (null) has stopped. */
export async function recordWorker(boss: PgBoss, name: string, running: string[] | null): Promise<void> {
  await boss.getDb().executeSql(
    `INSERT INTO newsbridge.workers (name, running, stopped_at) VALUES ($1, COALESCE($2::uuid[], '{}'), CASE WHEN $2::uuid[] IS NULL THEN now() END)
     ON CONFLICT (name) DO UPDATE SET running = excluded.running, stopped_at = excluded.stopped_at, seen_at = now()`,
    [name, running],
  );
}

export interface WorkerStatus {
  name: string;
  startedAt: string;
  seenAt: string;
  stoppedAt: string | null;
  /** Articles it holds now (`run` output dir and article id). */
  running: string[];
  done: number;
  failed: number;
}

export interface FailedJob {
  id: string;
  article: string;
  run: string;
  reason: string;
  message: string;
  worker: string | null;
}

export interface QueueStatus {
  jobs: Record<'queued' | 'running' | 'done' | 'failed' | 'cancelled', number>;
  /** Done jobs by the article's status (`ok`, `partial`, `skipped`, or `failed` for inputs no retry can fix). */
  done: Record<string, number>;
  failed: FailedJob[];
  workers: WorkerStatus[];
}

export async function queueStatus(boss: PgBoss): Promise<QueueStatus> {
  const db = boss.getDb();
  const counts = await db.executeSql(
    `SELECT state, output->'outcome'->>'status' AS status, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY 1, 2`,
    [ARTICLE_QUEUE],
  );
  const jobs = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  const done: Record<string, number> = {};
  const bucket: Record<JobState, keyof typeof jobs> = {
    created: 'queued',
    retry: 'queued',
    active: 'running',
    completed: 'done',
    failed: 'failed',
    cancelled: 'cancelled',
  };
  for (const row of counts.rows as { state: JobState; status: string | null; n: number }[]) {
    jobs[bucket[row.state]] += row.n;
    if (row.state === 'completed' && row.status) done[row.status] = (done[row.status] ?? 0) + row.n;
  }
  const failedRows = await db.executeSql(
    `SELECT id, data->'file'->>'id' AS article, data->>'run' AS run, output FROM pgboss.job
     WHERE name = $1 AND state = 'failed' ORDER BY completed_on DESC`,
    [ARTICLE_QUEUE],
  );
  const failed = (failedRows.rows as { id: string; article: string; run: string; output: (Partial<ArticleJobResult> & { message?: string; value?: { message?: string } }) | null }[]).map(
    (row): FailedJob => ({
      id: row.id,
      article: row.article,
      run: row.run,
      reason: row.output?.outcome?.reason ?? 'worker-lost',
      message: row.output?.message ?? row.output?.value?.message ?? 'no worker finished it',
      worker: row.output?.worker ?? null,
    }),
  );
  const workerRows = await db.executeSql(
    `SELECT w.name, w.started_at, w.seen_at, w.stopped_at,
       ARRAY(SELECT j.data->>'run' || ' ' || (j.data->'file'->>'id') FROM pgboss.job j
             WHERE j.name = $1 AND j.id = ANY(w.running) AND j.state = 'active') AS running,
       (SELECT count(*)::int FROM pgboss.job j WHERE j.name = $1 AND j.state = 'completed' AND j.output->>'worker' = w.name) AS done,
       (SELECT count(*)::int FROM pgboss.job j WHERE j.name = $1 AND j.state = 'failed' AND j.output->>'worker' = w.name) AS failed
     FROM newsbridge.workers w ORDER BY w.started_at`,
    [ARTICLE_QUEUE],
  );
  const workers = (workerRows.rows as { name: string; started_at: Date; seen_at: Date; stopped_at: Date | null; running: string[]; done: number; failed: number }[]).map(
    (row): WorkerStatus => ({
      name: row.name,
      startedAt: row.started_at.toISOString(),
      seenAt: row.seen_at.toISOString(),
      stoppedAt: row.stopped_at?.toISOString() ?? null,
      running: row.running,
      done: row.done,
      failed: row.failed,
    }),
  );
  return { jobs, done, failed, workers };
}

/** Puts every job that failed for good back in the queue, with one more try each; returns how many. */
export async function retryFailed(boss: PgBoss): Promise<number> {
  const { rows } = await boss.getDb().executeSql(`SELECT id FROM pgboss.job WHERE name = $1 AND state = 'failed'`, [ARTICLE_QUEUE]);
  const ids = (rows as { id: string }[]).map((row) => row.id);
  if (ids.length > 0) await boss.retry(ARTICLE_QUEUE, ids);
  return ids.length;
}

/** `newsbridge status` as text. */
export function renderQueueStatus(status: QueueStatus): string {
  const { jobs } = status;
  const lines = [
    `jobs: ${jobs.queued} queued, ${jobs.running} running, ${jobs.done} done, ${jobs.failed} failed${jobs.cancelled ? `, ${jobs.cancelled} cancelled` : ''}`,
  ];
  const done = Object.entries(status.done).map(([name, n]) => `${n} ${name}`);
  if (done.length > 0) lines.push(`done: ${done.join(', ')}`);
  if (status.failed.length > 0) {
    lines.push('failed (`newsbridge queue retry-failed` queues them again):');
    for (const job of status.failed) lines.push(`  ${job.article} (${job.run}): ${job.reason}: ${job.message}${job.worker ? ` [${job.worker}]` : ''}`);
  }
  lines.push(status.workers.length > 0 ? 'workers:' : 'workers: none has connected yet');
  for (const worker of status.workers) {
    const state = worker.stoppedAt ? `stopped ${worker.stoppedAt}` : `last seen ${worker.seenAt}`;
    const running = worker.running.length > 0 ? `; running ${worker.running.join(', ')}` : '';
    lines.push(`  ${worker.name}: ${worker.done} done, ${worker.failed} failed, ${state}${running}`);
  }
  return lines.join('\n');
}
