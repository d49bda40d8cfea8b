import type PgBoss from 'pg-boss';
import { ARTICLE_QUEUE } from './connection.js';
import type { ArticleJobResult, JobState } from './jobs.js';

/**
 * What the cluster is doing: the jobs by state, the failed ones with their reasons, and each worker
 * with the jobs it holds and has done. Workers record themselves in `newsbridge.workers` when they
 * take or finish a job, and three times per lock timeout meanwhile.
 */

export interface WorkerRecord {
  /** The jobs it holds, or null when it has stopped. */
  running: string[] | null;
  /** The lock timeout of the jobs it takes: not seen for that long, it is taken for gone, as its jobs are. */
  lockTimeoutSeconds: number;
  /** Why it refuses jobs (its models differ from the run's), or null. */
  problem: string | null;
}

/** Records worker `name` as it is now. */
export async function recordWorker(boss: PgBoss, name: string, worker: WorkerRecord): Promise<void> {
  await boss.getDb().executeSql(
    `INSERT INTO newsbridge.workers (name, running, stopped_at, lock_timeout_seconds, problem)
     VALUES ($1, COALESCE($2::uuid[], '{}'), CASE WHEN $2::uuid[] IS NULL THEN now() END, $3, $4)
     ON CONFLICT (name) DO UPDATE SET running = excluded.running, stopped_at = excluded.stopped_at, seen_at = now(),
       lock_timeout_seconds = excluded.lock_timeout_seconds, problem = excluded.problem`,
    [name, worker.running, worker.lockTimeoutSeconds, worker.problem],
  );
}

/** A worker that has not stopped and was seen within its lock timeout (one not seen that long was killed or lost). */
const ALIVE = `w.stopped_at IS NULL AND w.seen_at > now() - make_interval(secs => w.lock_timeout_seconds)`;

/** How many workers are alive (`ALIVE`). */
export async function aliveWorkers(boss: PgBoss): Promise<number> {
  const { rows } = await boss.getDb().executeSql(`SELECT count(*)::int AS n FROM newsbridge.workers w WHERE ${ALIVE}`, []);
  return (rows[0] as { n: number }).n;
}

export interface WorkerStatus {
  name: string;
  /** `gone`: not stopped, but not seen for its lock timeout (killed, or its machine lost); its jobs go to others. */
  state: 'alive' | 'gone' | 'stopped';
  startedAt: string;
  seenAt: string;
  stoppedAt: string | null;
  lockTimeoutSeconds: number;
  /** Why it refuses jobs, or null. */
  problem: string | null;
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
  const failed = (
    failedRows.rows as {
      id: string;
      article: string;
      run: string;
      output: (Partial<ArticleJobResult> & { message?: string; value?: { message?: string } }) | null;
    }[]
  ).map(
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
    `SELECT w.name, w.started_at, w.seen_at, w.stopped_at, w.lock_timeout_seconds, w.problem, ${ALIVE} AS alive,
       ARRAY(SELECT j.data->>'run' || ' ' || (j.data->'file'->>'id') FROM pgboss.job j
             WHERE j.name = $1 AND j.id = ANY(w.running) AND j.state = 'active') AS running,
       (SELECT count(*)::int FROM pgboss.job j WHERE j.name = $1 AND j.state = 'completed' AND j.output->>'worker' = w.name) AS done,
       (SELECT count(*)::int FROM pgboss.job j WHERE j.name = $1 AND j.state = 'failed' AND j.output->>'worker' = w.name) AS failed
     FROM newsbridge.workers w ORDER BY w.started_at`,
    [ARTICLE_QUEUE],
  );
  type WorkerRow = {
    name: string;
    started_at: Date;
    seen_at: Date;
    stopped_at: Date | null;
    lock_timeout_seconds: number;
    problem: string | null;
    alive: boolean;
    running: string[];
    done: number;
    failed: number;
  };
  const workers = (workerRows.rows as WorkerRow[]).map(
    (row): WorkerStatus => ({
      name: row.name,
      state: row.stopped_at ? 'stopped' : row.alive ? 'alive' : 'gone',
      startedAt: row.started_at.toISOString(),
      seenAt: row.seen_at.toISOString(),
      stoppedAt: row.stopped_at?.toISOString() ?? null,
      lockTimeoutSeconds: row.lock_timeout_seconds,
      problem: row.problem,
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
    for (const job of status.failed)
      lines.push(`  ${job.article} (${job.run}): ${job.reason}: ${job.message}${job.worker ? ` [${job.worker}]` : ''}`);
  }
  lines.push(status.workers.length > 0 ? 'workers:' : 'workers: none has connected yet');
  for (const worker of status.workers) {
    const state = {
      stopped: `stopped ${worker.stoppedAt}`,
      alive: `alive, last seen ${worker.seenAt}`,
      gone: `gone: not seen since ${worker.seenAt}, more than its lock timeout (${worker.lockTimeoutSeconds} s); killed or its machine lost`,
    }[worker.state];
    // A gone worker's jobs are handed to others; what it held is not running.
    const running = worker.state === 'alive' && worker.running.length > 0 ? `; running ${worker.running.join(', ')}` : '';
    const problem = worker.problem && worker.state === 'alive' ? `\n    refuses jobs: ${worker.problem}` : '';
    lines.push(`  ${worker.name}: ${worker.done} done, ${worker.failed} failed, ${state}${running}${problem}`);
  }
  return lines.join('\n');
}
