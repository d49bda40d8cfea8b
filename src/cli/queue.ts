import type { Command } from 'commander';
import { retryFailed } from '../queue/status.js';
import { withQueue } from './status.js';

/** `newsbridge queue …`: operations on the job queue. */
export function registerQueueCommand(program: Command): void {
  const queue = program.command('queue').description('Operate on the job queue of `newsbridge run --queue`.');
  queue
    .command('retry-failed')
    .description('Queue again every article whose job failed for good (after its retries), with one more attempt each.')
    .option('--queue <postgres-url>', 'the queue (default: NEWSBRIDGE_QUEUE_URL)')
    .action(async (flags: { queue?: string }) => {
      process.exitCode = await withQueue('queue retry-failed', flags.queue, async (boss) => {
        const retried = await retryFailed(boss);
        process.stdout.write(`${retried} failed jobs queued again\n`);
      });
    });
}
