import type { Command } from 'commander';
import { QueueUnreachableError, QueueUrlError, queueUrl, startQueue } from '../queue/connection.js';
import { queueStatus, renderQueueStatus } from '../queue/status.js';
import { writeLine } from './printable.js';

/** `newsbridge status`: what the queue and its workers are doing. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show the job queue: articles queued, running, done and failed (with reasons), per worker.')
    .option('--queue <postgres-url>', 'the queue (default: NEWSBRIDGE_QUEUE_URL)')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { queue?: string; json?: boolean }) => {
      process.exitCode = await withQueue('status', flags.queue, async (boss) => {
        const status = await queueStatus(boss);
        writeLine(process.stdout, flags.json ? JSON.stringify(status, null, 2) : renderQueueStatus(status));
      });
    });
}

/** Runs `action` on the queue given by `--queue` or NEWSBRIDGE_QUEUE_URL; the exit code (1 when there is no usable queue). */
export async function withQueue(
  command: string,
  flag: string | undefined,
  action: (boss: Awaited<ReturnType<typeof startQueue>>) => Promise<void>,
): Promise<number> {
  try {
    const url = queueUrl(flag, undefined);
    if (!url) throw new QueueUrlError('no queue; give --queue postgres://user@host:5432/db or set NEWSBRIDGE_QUEUE_URL');
    const boss = await startQueue(url, command, () => undefined);
    try {
      await action(boss);
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
    return 0;
  } catch (error) {
    if (!(error instanceof QueueUrlError) && !(error instanceof QueueUnreachableError)) throw error;
    writeLine(process.stderr, `newsbridge ${command}: ${error.message}`);
    return 1;
  }
}
