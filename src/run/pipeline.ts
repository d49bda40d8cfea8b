import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { PipelineConfig } from '../config/config.js';
import { assignArticleIds, type IdentifiedFile } from '../input/article-ids.js';
import { ExtractedPages } from '../input/extracted-pages.js';
import { listArticleFiles, type NotListed } from '../input/list-files.js';
import { realInputRoots } from '../input/read-file.js';
import type { ConfiguredModel } from '../models/layout.js';
import type { PullProgress } from '../models/pull.js';
import type { RepeatedLines } from '../stages/clean.js';
import { removeStaleTempFiles } from '../output/atomic-write.js';
import type { DigestEntry } from '../output/digest.js';
import type { ArticleOutput } from '../output/schema.js';
import { finishRun } from './finish.js';
import { lockOutputDir, type OutputLock } from './output-lock.js';
import { processFile, type ArticleWorkOptions } from './process-file.js';
import { findRunRepeatedLines } from './repeated-lines.js';
import type { ArticleOutcome, RunReport } from './report.js';
import { installModels, loadServices, type RunServices } from './services.js';

export interface RunEvents {
  /** The articles are listed; `total` of them will be reported through `onArticle`. */
  onStart?(total: number): void;
  onArticle?(outcome: ArticleOutcome): void;
  /** A problem that concerns the whole run, said once (a model that could not be downloaded). */
  onProblem?(message: string): void;
  onDownload?(model: ConfiguredModel, progress: PullProgress): void;
}

export interface RunOptions {
  config: PipelineConfig;
  /** Process articles even when their outputs are up to date. */
  force?: boolean;
  /** Stream each article's record here as one JSON line, in input order, instead of writing files. */
  jsonl?: NodeJS.WritableStream;
  log?: Logger;
  events?: RunEvents;
  /**
   * When aborted, no further article starts and translation stops before its next batch: an article
   * still being translated is left as it was; the others in flight finish and are written.
   */
  signal?: AbortSignal;
}

/**
 * `newsbridge run`: every article the input patterns match goes read → clean → detect → segment →
 * translate → summarize → write, a few at a time. One article's failure is recorded in its outcome
 * and never stops the others. Returns the run report, also written to `run-report.json`.
 */
export async function runPipeline(options: RunOptions): Promise<RunReport> {
  // One run per output folder (see output-lock.ts); --jsonl writes no files and needs none.
  const lock = options.jsonl ? null : await lockOutputDir(options.config.output.dir);
  try {
    return await runHoldingOutput(options, lock);
  } finally {
    await lock?.release();
  }
}

async function runHoldingOutput(options: RunOptions, lock: OutputLock | null): Promise<RunReport> {
  const { config, events = {} } = options;
  const startedAt = new Date();
  const outputDir = config.output.dir;
  const problems: string[] = [];
  const problem = (message: string) => {
    problems.push(message);
    options.log?.warn({ problem: message }, 'run problem');
    events.onProblem?.(message);
  };

  const { files, notListed } = await listArticles(options, problem);
  events.onStart?.(files.length);

  const notDownloaded = await installModels(config, options, problem);
  const inputRoots = config.input.followOutsideSymlinks ? null : await realInputRoots(files);
  const services = await loadServices(config, {
    inputRoots,
    signal: options.signal,
    problem: (lang, message) => {
      // A model that failed to download was reported already; its load failing too is no news.
      if (lang === null || !notDownloaded.has(lang)) problem(message);
    },
    log: options.log,
  });
  // Each web page the corpus pass reads is kept for its processing, so no page is extracted twice.
  const extractedPages = new ExtractedPages();
  const repeatedLines = await corpusPass(files, inputRoots, extractedPages, options);
  let done: ProcessedArticles;
  try {
    done = await processArticles(files, services, repeatedLines, { ...options, extractedPages });
  } finally {
    await services.pool.dispose();
    await services.memory?.close();
  }

  if (lock?.lost)
    problem(
      `lost the lock on output folder ${outputDir} during the run (${lock.lost.message}); another run may have written there too, so run again`,
    );
  return finishRun({
    config,
    startedAt,
    files,
    notListed,
    ...done,
    usage: services.backend.usage,
    problems,
    problem,
    jsonl: options.jsonl,
  });
}

/** The articles the input patterns match, with their ids; stale temp files of an interrupted run go first. */
async function listArticles(
  options: RunOptions,
  problem: (message: string) => void,
): Promise<{ files: IdentifiedFile[]; notListed: NotListed }> {
  const { config } = options;
  const outputDir = config.output.dir;
  if (!options.jsonl) {
    const stale = await removeStaleTempFiles(outputDir);
    if (stale.length > 0) options.log?.info({ removed: stale }, 'removed temp files left by an interrupted run');
  }
  const listing = await listArticleFiles(config.input.patterns, options.jsonl ? {} : { outputDir });
  const files = assignArticleIds(listing.files);
  // Said, not failed: an empty feed is a quiet night, but a mistyped --input looks just like one.
  if (files.length === 0)
    problem(`no articles match input.patterns (${config.input.patterns.join(', ')}); check --input or input.patterns`);
  return { files, notListed: listing.notListed };
}

/** Once per run, before any article starts: which lines each site repeats across its articles (none when clean is off). */
async function corpusPass(
  files: readonly IdentifiedFile[],
  inputRoots: string[] | null,
  keepIn: ExtractedPages,
  { config, log, signal }: RunOptions,
): Promise<RepeatedLines> {
  if (!config.clean.enabled) return {};
  log?.info({ articles: files.length }, 'corpus pass: reading every article for the lines its site repeats');
  return findRunRepeatedLines(files, config.input.maxBytes, inputRoots, signal, { html: config.input.html, keepIn });
}

/** What the articles gave, by index into the run's files; holes for those a stopped run never finished. */
interface ProcessedArticles {
  outcomes: ArticleOutcome[];
  manifest: string[];
  digest: DigestEntry[];
}

/** Every article through `processFile`, a few at a time, until all are done or the run is stopped. */
async function processArticles(
  files: readonly IdentifiedFile[],
  services: RunServices,
  repeatedLines: RepeatedLines,
  options: RunOptions & ArticleWorkOptions,
): Promise<ProcessedArticles> {
  const outcomes: ArticleOutcome[] = new Array(files.length);
  const manifest: string[] = new Array(files.length);
  const digest: DigestEntry[] = new Array(files.length);
  const records = new OrderedWriter(options.jsonl);
  const queue = new PQueue({ concurrency: options.config.run.concurrency });
  const stop = () => queue.clear();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    // Stopped before the first article: nothing starts (an abort that already happened fires no event).
    if (!options.signal?.aborted)
      files.forEach((file, index) => {
        void queue.add(async () => {
          const done = await processFile(file, options.config, services, repeatedLines, options);
          // Stopped mid-article: it is left as it was, like the articles that never started.
          if (!done) return;
          outcomes[index] = done.outcome;
          manifest[index] = done.manifestLine;
          digest[index] = done.digest;
          records.put(index, done.record);
          options.log?.info({ article: done.outcome }, 'article done');
          options.events?.onArticle?.(done.outcome);
        });
      });
    await queue.onIdle();
    records.flush();
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  return { outcomes, manifest, digest };
}

/** Writes article records as JSON lines in input order, each as soon as every earlier one is out. */
class OrderedWriter {
  private readonly waiting = new Map<number, ArticleOutput | null>();
  private next = 0;

  constructor(private readonly stream: NodeJS.WritableStream | undefined) {}

  put(index: number, record: ArticleOutput | null): void {
    if (!this.stream) return;
    this.waiting.set(index, record);
    while (this.waiting.has(this.next)) this.writeNext();
  }

  /** Writes what is left after an interrupted run, whose skipped articles leave gaps. */
  flush(): void {
    for (const index of [...this.waiting.keys()].sort((a, b) => a - b)) {
      this.next = index;
      this.writeNext();
    }
  }

  private writeNext(): void {
    const ready = this.waiting.get(this.next);
    this.waiting.delete(this.next);
    this.next += 1;
    if (ready) this.stream!.write(`${JSON.stringify(ready)}\n`);
  }
}
