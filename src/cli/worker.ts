import type { Command } from 'commander';
import pino from 'pino';
import { QueueUnreachableError, QueueUrlError, queueUrl } from '../queue/connection.js';
import { runWorker } from '../queue/worker.js';
import { printable, writeLine } from './printable.js';

interface WorkerFlags {
  queue?: string;
  concurrency: string;
  quiet?: boolean;
  verbose?: boolean;
}

/** `newsbridge worker`: processes the articles `newsbridge run --queue` enqueues, until SIGTERM or SIGINT. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Process articles from the job queue (enqueued by `newsbridge run --queue`) until stopped; run one per machine.')
    .option('--queue <postgres-url>', 'the queue (default: NEWSBRIDGE_QUEUE_URL)')
    .option('--concurrency <n>', 'articles processed at once', '1')
    .option('--quiet', 'log only warnings (default: JSON lines on stderr as each article starts and ends)')
    .option('--verbose', 'log each model batch too')
    .addHelpText(
      'after',
      '\nSIGTERM or SIGINT: take no new job, finish and report the jobs in hand, exit 0; a second signal exits at once\n(those jobs go to another worker after the lock timeout). Exit code 1: no usable queue URL, or the database cannot be reached.',
    )
    .action(async (flags: WorkerFlags) => {
      process.exitCode = await work(flags);
    });
}

async function work(flags: WorkerFlags): Promise<number> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    writeLine(process.stderr, `newsbridge worker: --concurrency is ${flags.concurrency}; accepted: a whole number from 1 to 64`);
    return 1;
  }
  let url: string | undefined;
  try {
    url = queueUrl(flags.queue, undefined);
  } catch (error) {
    if (!(error instanceof QueueUrlError)) throw error;
    writeLine(process.stderr, `newsbridge worker: ${error.message}`);
    return 1;
  }
  if (!url) {
    writeLine(process.stderr, 'newsbridge worker: no queue; give --queue postgres://user@host:5432/db or set NEWSBRIDGE_QUEUE_URL');
    return 1;
  }
  const log = pino(
    {
      name: 'newsbridge-worker',
      level: flags.quiet ? 'warn' : flags.verbose ? 'debug' : 'info',
      hooks: { streamWrite: (line) => printable(line) },
    },
    pino.destination(2),
  );
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signal === 'SIGTERM' ? 143 : 130);
    log.warn({ signal }, 'stopping: no new jobs; the jobs in hand are finished first');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runWorker({ url, concurrency, log, signal: stop.signal });
  } catch (error) {
    if (!(error instanceof QueueUnreachableError)) throw error;
    writeLine(process.stderr, `newsbridge worker: ${error.message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
