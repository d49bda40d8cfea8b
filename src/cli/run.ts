import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import pino from 'pino';
import { applyOverrides, DEFAULT_CONFIG_FILE, loadConfig, type PipelineConfig } from '../config/config.js';
import { QueueUnreachableError, QueueUrlError, queueUrl, redactUrl } from '../queue/connection.js';
import { runOnQueue, type QueueRunEvents, type QueueRunOptions } from '../queue/run-on-queue.js';
import { OutputDirError } from '../run/output-lock.js';
import { runPipeline } from '../run/pipeline.js';
import { renderRunSummary, type RunReport } from '../run/report.js';
import { GlossaryError } from '../terminology/glossary.js';
import { fetchStep } from './fetch.js';
import { progressReporter } from './shared.js';
import { EXIT_PIPE_CLOSED, onOutputFailure } from './output-failure.js';
import { printable, writeLine } from './printable.js';
import { ConfigError } from '../errors.js';

interface RunFlags {
  config?: string;
  input?: string[];
  output?: string;
  concurrency?: string;
  modelsDir?: string;
  force?: boolean;
  offline?: boolean;
  cache: boolean;
  jsonl?: string;
  verbose?: boolean;
  queue?: string;
  detach?: boolean;
  fetch?: boolean;
}

/** Exit codes of `newsbridge run`, as documented in docs/running.md. */
export const EXIT = { ok: 0, usage: 1, articles: 2, interrupted: 130, pipeClosed: EXIT_PIPE_CLOSED, terminated: 143 } as const;

/** `newsbridge run`: the whole pipeline over the input folder. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Turn the input articles into bilingual outputs: read, clean, detect, segment, translate, summarize, write.')
    .option('--config <file>', `pipeline config (default: ${DEFAULT_CONFIG_FILE} when present, else the defaults)`)
    .option('--input <dir|glob...>', 'input folders, files or glob patterns (default: input.patterns)')
    .option('--output <dir>', 'output folder (default: output.dir)')
    .option('--concurrency <n>', 'articles processed at once (default: run.concurrency)')
    .option('--models-dir <dir>', 'where translation models live (default: translation.modelsDir)')
    .option('--force', 'process every article, even those whose outputs are up to date')
    .option('--offline', 'never download models; a missing model makes its articles model-unavailable')
    .option('--no-cache', 'do not use the translation memory')
    .option('--jsonl <dest>', 'stream article records as JSON lines to <dest> ("-" for stdout) instead of writing output files')
    .option('--verbose', 'structured logs (pino, JSON lines) on stderr')
    .option(
      '--queue <postgres-url>',
      'enqueue the articles for `newsbridge worker`s instead of processing them here (default: queue.url, NEWSBRIDGE_QUEUE_URL)',
    )
    .option('--detach', 'with a queue: enqueue and return without waiting for the workers')
    .option('--fetch', "first fetch the night's new or changed articles from input.feeds into fetch.dir (see `newsbridge fetch`)")
    .addHelpText(
      'after',
      "\nExit codes: 0 every article's outputs ok; 2 some articles failed or their outputs are partial (skipped ones too); 1 usage,\nconfig or output-folder error;\n130 interrupted (SIGINT), 143 terminated (SIGTERM), 141 the reader of --jsonl closed it:\narticles in flight were finished, the rest left untouched.",
    )
    .action(async (flags: RunFlags) => {
      process.exitCode = await run(flags);
    });
}

async function run(flags: RunFlags): Promise<number> {
  const settings = await runSettings(flags);
  if (!settings) return EXIT.usage;
  const { config, url } = settings;
  // The run goes on whatever the fetch's failures: it reads what is in the input, as it always does.
  if (flags.fetch && (await fetchStep(config, { config: flags.config })) === 'usage') return EXIT.usage;
  const log = pino(
    { name: 'newsbridge', level: flags.verbose ? 'info' : 'silent', hooks: { streamWrite: (line) => printable(line) } },
    pino.destination(2),
  );
  const jsonl = flags.jsonl === undefined ? undefined : flags.jsonl === '-' ? process.stdout : createWriteStream(flags.jsonl);
  const stopper = runStopper(jsonl, flags.jsonl);
  const progress = runProgress(Boolean(flags.verbose), url !== undefined);
  let report: RunReport | null;
  try {
    const options = { config, force: flags.force, log, events: progress.events, signal: stopper.signal };
    report = url ? await runQueued(url, flags.detach, options) : await runPipeline({ ...options, jsonl });
  } catch (error) {
    if (!(error instanceof OutputDirError) && !(error instanceof QueueUnreachableError) && !(error instanceof GlossaryError)) throw error;
    writeLine(process.stderr, `newsbridge run: ${error.message}`);
    return EXIT.usage;
  } finally {
    progress.stop();
    stopper.release();
    if (jsonl && jsonl !== process.stdout && !jsonl.destroyed) await new Promise<void>((done) => jsonl.end(() => done()));
  }
  // Detached: the jobs wait for the workers, and what was enqueued is printed.
  if (!report) return EXIT.ok;
  writeLine(process.stderr, renderRunSummary(report));
  if (stopper.jsonlFailed) return EXIT.usage;
  if (report.interrupted) return stopper.exitOnStop;
  // The outputs as they stand, not only what this run did: skipping a partial output is not green.
  return report.outputs.failed + report.outputs.partial > 0 ? EXIT.articles : EXIT.ok;
}

/** The config with the flags applied, and the queue URL if any; undefined once a usage error is printed. */
async function runSettings(flags: RunFlags): Promise<{ config: PipelineConfig; url: string | undefined } | undefined> {
  let config: PipelineConfig;
  try {
    const loaded = await loadConfig(flags.config);
    config = applyOverrides(loaded.config, {
      input: flags.input,
      output: flags.output,
      concurrency: flags.concurrency,
      modelsDir: flags.modelsDir,
      offline: flags.offline,
      cache: flags.cache,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeLine(process.stderr, error.message);
    return undefined;
  }
  try {
    const url = queueUrl(flags.queue, config.queue.url);
    if (url && flags.jsonl !== undefined)
      throw new QueueUrlError(
        '--jsonl streams records from this process; it cannot be used with a queue (--queue, queue.url or NEWSBRIDGE_QUEUE_URL)',
      );
    return { config, url };
  } catch (error) {
    if (!(error instanceof QueueUrlError)) throw error;
    writeLine(process.stderr, `newsbridge run: ${error.message}`);
    return undefined;
  }
}

interface RunStopper {
  signal: AbortSignal;
  /** The exit code of a run that was stopped: interrupted, terminated, or the --jsonl reader gone. */
  readonly exitOnStop: number;
  /** --jsonl could not be written. */
  readonly jsonlFailed: boolean;
  /** Stops listening for signals. */
  release(): void;
}

/**
 * What stops a run after the articles in flight: SIGINT or SIGTERM (a second one exits at once), or
 * the --jsonl destination failing.
 */
function runStopper(jsonl: Writable | undefined, jsonlDestination: string | undefined): RunStopper {
  const stop = new AbortController();
  let exitOnStop: number = EXIT.interrupted;
  let jsonlFailed = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted);
    exitOnStop = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    process.stderr.write(`\n${signal}: finishing the articles in flight; ${signal} again to stop at once\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whoever reads the records has gone (`| head`), or the file cannot be written: nobody gets the rest.
  if (jsonl) {
    onOutputFailure(jsonl, jsonlDestination === '-' ? 'stdout' : jsonlDestination!, ({ exitCode, message }) => {
      if (stop.signal.aborted) return;
      if (message) {
        jsonlFailed = true;
        writeLine(process.stderr, `newsbridge run: ${message}`);
      } else {
        exitOnStop = exitCode;
      }
      stop.abort();
    });
  }
  return {
    signal: stop.signal,
    get exitOnStop() {
      return exitOnStop;
    },
    get jsonlFailed() {
      return jsonlFailed;
    },
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The run on a queue's workers: its report, or null when detached (what was enqueued is printed). */
async function runQueued(
  url: string,
  detach: boolean | undefined,
  options: Omit<QueueRunOptions, 'url' | 'detach'>,
): Promise<RunReport | null> {
  const queued = await runOnQueue({ ...options, url, detach });
  if (!queued.report) {
    const { articles, added, replaced } = queued.enqueued;
    writeLine(
      process.stderr,
      `${articles} articles on the queue at ${redactUrl(url)}: ${added} added, ${articles - added} there already, ${replaced} stale jobs replaced.\nWatch: newsbridge status --queue <url>; run this again without --detach to wait and write manifest.jsonl and run-report.json.`,
    );
  }
  return queued.report;
}

/**
 * A progress bar (done/total, rate, ETA) on a terminal; in CI, when piped or with --verbose, nothing
 * but the one-line summary at the end. Run problems are printed once either way.
 */
function runProgress(verbose: boolean, queue: boolean): { events: QueueRunEvents; stop(): void } {
  const interactive = process.stderr.isTTY && !process.env.CI && !verbose;
  const downloads = progressReporter();
  const bar = interactive
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: ` {bar} {value}/{total} articles | {rate}/s | ETA {eta_formatted}${queue ? ' | {workers} workers alive' : ''}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const started = Date.now();
  let done = 0;
  const events: QueueRunEvents = {
    onStart: (total) => bar?.start(total, 0, { rate: '0.0', workers: '?' }),
    onDownload: (model, p) => downloads.update(model, p),
    onProblem: (message) => {
      downloads.stop();
      if (!verbose) writeLine(process.stderr, `${bar ? '\n' : ''}newsbridge: ${message}`);
    },
    onWorkers: (alive) => bar?.update({ workers: alive }),
    onNoWorkers: (seconds, waiting) => {
      if (!verbose) {
        writeLine(
          process.stderr,
          `${bar ? '\n' : ''}newsbridge: no worker has been alive for ${seconds} s and ${waiting} articles wait in the queue; start one (newsbridge worker) where the inputs, outputs and models are mounted, or stop waiting with Ctrl-C (the jobs stay queued)`,
        );
      }
    },
    onArticle: () => {
      done += 1;
      bar?.update(done, { rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) });
    },
  };
  return {
    events,
    stop: () => {
      downloads.stop();
      bar?.stop();
    },
  };
}
