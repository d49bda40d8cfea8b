import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { type ArticleReason, type ArticleStatus, type CleanedArticle, sentencesOf, type SummarizedArticle } from '../article.js';
import { TranslationMemory, type TranslationStore } from '../translation/memory.js';
import { keepAllLines, normalizeLine, removeBoilerplate, type RepeatedLines } from '../stages/clean.js';
import type { PipelineConfig } from '../config/config.js';
import { routedLanguages } from '../languages.js';
import { detectLanguage, LanguageDetector } from '../stages/detect.js';
import { configuredModels, modelFiles, pullCommand, type ConfiguredModel } from '../models/layout.js';
import { pullModel, type PullProgress } from '../models/pull.js';
import { assertModelReady } from '../models/verify.js';
import { assignArticleIds, type IdentifiedFile } from '../input/article-ids.js';
import { readArticleFile, realInputRoots, stillHolds } from '../input/read-file.js';
import { ExtractedPages } from '../input/extracted-pages.js';
import { ReadStoppedError } from '../input/extraction-pool.js';
import { listArticleFiles, type NotListed } from '../input/list-files.js';
import type { ReadArticle } from '../input/read.js';
import { lockOutputDir, type OutputLock } from './output-lock.js';
import { planArticle, type PreviousOutputs } from './plan.js';
import { findRunRepeatedLines } from './repeated-lines.js';
import { buildRunReport, type ArticleOutcome, type RunReport } from './report.js';
import { segmentSentences } from '../stages/segment.js';
import { summarizeArticle } from '../stages/summarize.js';
import { translateArticle } from '../stages/translate.js';
import { TranslationStoppedError } from '../errors.js';
import { ModelTranslationBackend, type ModelUsage } from '../translation/backend.js';
import { decodingOptions, TranslatorPool } from '../translation/translator.js';
import {
  articleJsonText,
  articleOutputSchema,
  manifestLine,
  manifestLineSchema,
  outputFileNames,
  renderArticleJson,
  renderArticleMarkdown,
  type ArticleOutput,
  type OutputFiles,
} from '../output/write.js';
import { renderArticleHtml } from '../output/html.js';
import { DIGEST_FILE, digestEntryFromManifest, digestEntryFromOutput, renderDigestHtml, type DigestEntry } from '../output/digest.js';
import { InputError } from '../errors.js';
import { removeStaleTempFiles, writeFileAtomic } from '../output/atomic-write.js';

/** Bumped when the same input and settings would give different outputs, so old outputs are redone. */
const OUTPUT_GENERATION = 1;

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

/** The services the stages use, loaded once per run and shared by every article. */
export interface RunServices {
  detector: LanguageDetector;
  backend: ModelTranslationBackend;
  pool: TranslatorPool;
  memory: TranslationStore | null;
  /** Hash of everything besides the input bytes that shapes an article's output. */
  settings: string;
  /** Real paths articles may be read from (symlinks out of them are refused); null when any target is allowed. */
  inputRoots: string[] | null;
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

  if (!options.jsonl) {
    const stale = await removeStaleTempFiles(outputDir);
    if (stale.length > 0) options.log?.info({ removed: stale }, 'removed temp files left by an interrupted run');
  }
  const listing = await listArticleFiles(config.input.patterns, options.jsonl ? {} : { outputDir });
  const files = assignArticleIds(listing.files);
  // Said, not failed: an empty feed is a quiet night, but a mistyped --input looks just like one.
  if (files.length === 0) problem(`no articles match input.patterns (${config.input.patterns.join(', ')}); check --input or input.patterns`);
  events.onStart?.(files.length);

  const notDownloaded = await installModels(config, options, problem);
  const inputRoots = config.input.followOutsideSymlinks ? null : await realInputRoots(files);
  const services = await loadServices(
    config,
    inputRoots,
    options.signal,
    (lang, message) => {
      // A model that failed to download was reported already; its load failing too is no news.
      if (lang === null || !notDownloaded.has(lang)) problem(message);
    },
    undefined,
    options.log,
  );
  // Once per run, before any article starts: which lines each site repeats across its articles.
  // Each web page the corpus pass reads is kept for its processing, so no page is extracted twice.
  const extractedPages = new ExtractedPages();
  if (config.clean.enabled) options.log?.info({ articles: files.length }, 'corpus pass: reading every article for the lines its site repeats');
  const repeatedLines = config.clean.enabled
    ? await findRunRepeatedLines(files, config.input.maxBytes, inputRoots, options.signal, { html: config.input.html, keepIn: extractedPages })
    : {};
  const outcomes: ArticleOutcome[] = new Array(files.length);
  const manifest: string[] = new Array(files.length);
  const digest: DigestEntry[] = new Array(files.length);
  const records = new OrderedWriter(options.jsonl);
  const queue = new PQueue({ concurrency: config.run.concurrency });
  const stop = () => queue.clear();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    // Stopped before the first article: nothing starts (an abort that already happened fires no event).
    if (!options.signal?.aborted) files.forEach((file, index) => {
      void queue.add(async () => {
        const done = await processFile(file, config, services, repeatedLines, { ...options, extractedPages });
        // Stopped mid-article: it is left as it was, like the articles that never started.
        if (!done) return;
        outcomes[index] = done.outcome;
        manifest[index] = done.manifestLine;
        digest[index] = done.digest;
        records.put(index, done.record);
        options.log?.info({ article: done.outcome }, 'article done');
        events.onArticle?.(done.outcome);
      });
    });
    await queue.onIdle();
    records.flush();
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await services.pool.dispose();
    await services.memory?.close();
  }

  if (lock?.lost) problem(`lost the lock on output folder ${outputDir} during the run (${lock.lost.message}); another run may have written there too, so run again`);
  return finishRun({ config, startedAt, files, notListed: listing.notListed, outcomes, manifest, digest, usage: services.backend.usage, problems, problem, jsonl: options.jsonl });
}

/** A run whose articles are done (or that was stopped), as `finishRun` needs it. */
export interface FinishedRun {
  config: PipelineConfig;
  startedAt: Date;
  /** Every article listed, in input order. */
  files: readonly IdentifiedFile[];
  /** What the patterns matched but the listing left out. */
  notListed?: NotListed;
  /** By index into `files`; holes for articles an interrupted run never finished. */
  outcomes: readonly ArticleOutcome[];
  manifest: readonly string[];
  /** The digest's entries by index, where the run made them; the others come from manifest lines. */
  digest?: readonly (DigestEntry | undefined)[];
  usage: ModelUsage;
  problems: string[];
  problem(message: string): void;
  jsonl?: NodeJS.WritableStream;
}

/**
 * Writes `manifest.jsonl` and `run-report.json` (unless the records went to `--jsonl`) and returns
 * the run report; the embedded runner and a run on the queue end alike.
 */
export async function finishRun(run: FinishedRun): Promise<RunReport> {
  const { config, files, outcomes, manifest, problems, problem } = run;
  const outputDir = config.output.dir;
  const finished = outcomes.filter(Boolean);
  // An output directory that cannot be written fails every article already; the run still reports.
  const writeRunFile = (name: string, text: () => string) =>
    writeFileAtomic(path.join(outputDir, name), text()).catch((error: Error) => problem(error.message));
  // A run that processed nothing (no input matched, stopped before the first article) has nothing
  // to say about the articles on disk: the manifest and the digest stay as they were.
  const listsArticles = !run.jsonl && finished.length > 0;
  // An interrupted run keeps the previous run's lines for the articles it never started, so the
  // manifest (and the digest) still list every article whose outputs are on disk.
  const previous = listsArticles && finished.length < files.length ? await previousManifest(outputDir) : new Map<string, string>();
  if (listsArticles) {
    const lines = files.map((file, index) => manifest[index] ?? previous.get(file.id));
    await writeRunFile('manifest.jsonl', () => lines.filter(Boolean).join(''));
  }
  const report = buildRunReport({
    startedAt: run.startedAt,
    finishedAt: new Date(),
    listed: files.length,
    ...(run.notListed ? { notListed: run.notListed } : {}),
    outcomes: finished,
    ...run.usage,
    problems,
    interrupted: finished.length < files.length,
  });
  if (!run.jsonl) {
    if (listsArticles && config.output.formats.includes('html')) {
      // A queue run has no digest entries of its own: its articles' manifest lines say the same.
      const entries = files.flatMap((file, index) => {
        const line = manifest[index] ?? previous.get(file.id);
        return run.digest?.[index] ?? (line ? [digestEntryFromManifest(manifestLineSchema.parse(JSON.parse(line)))] : []);
      });
      await writeRunFile(DIGEST_FILE, () => renderDigestHtml({ report, entries }));
    }
    await writeRunFile('run-report.json', () => `${JSON.stringify(report, null, 2)}\n`);
    // Said after the report was built, so the returned report is the one place that has it.
    report.problems = [...problems];
  }
  return report;
}

/** The lines of the manifest an earlier run left, by article id; empty when there is none. */
async function previousManifest(outputDir: string): Promise<Map<string, string>> {
  const lines = new Map<string, string>();
  const text = await readFile(path.join(outputDir, 'manifest.jsonl'), 'utf8').catch(() => '');
  for (const line of text.split('\n').filter(Boolean)) {
    try {
      const parsed = manifestLineSchema.safeParse(JSON.parse(line));
      if (parsed.success) lines.set(parsed.data.id, `${line}\n`);
    } catch {
      // A damaged line names no article it could stand for.
    }
  }
  return lines;
}

/**
 * Downloads configured models that are missing (the same code as `models pull`), before any article
 * starts, so inference afterwards is always offline. A failed download is a run problem, said once.
 */
export async function installModels(
  config: PipelineConfig,
  options: Pick<RunOptions, 'events' | 'signal'>,
  problem: (message: string) => void,
): Promise<Set<string>> {
  const { translation } = config;
  const failed = new Set<string>();
  for (const model of configuredModels(translation.models, translation.modelsDir)) {
    if (options.signal?.aborted) break;
    const ready = await assertModelReady(model.dir, translation.dtype, model.label).then(
      () => true,
      () => false,
    );
    if (ready || !translation.download) continue;
    try {
      await pullModel({
        id: model.id,
        revision: model.revision,
        modelsDir: translation.modelsDir,
        dtype: translation.dtype,
        mirror: translation.mirror,
        stallMs: translation.downloadStallSeconds * 1000,
        fileDeadlineMs: translation.downloadFileSeconds * 1000,
        signal: options.signal,
        onProgress: (progress) => options.events?.onDownload?.(model, progress),
      });
    } catch (error) {
      failed.add(model.lang);
      problem(
        `${model.lang}: ${model.id} could not be downloaded, so ${model.lang} articles stay untranslated (model-unavailable): ${(error as Error).message}. Fix: run \`${pullCommand(model.lang, translation.modelsDir)}\` where the hub is reachable, or copy the model into ${model.dir}`,
      );
    }
  }
  return failed;
}

/**
 * `openMemory` gives the translation memory: by default the SQLite one at `cache.path` when the cache
 * is on. Each batch a model runs is logged at debug level.
 */
export async function loadServices(
  config: PipelineConfig,
  inputRoots: string[] | null,
  signal: AbortSignal | undefined,
  problem: (lang: string | null, message: string) => void,
  openMemory: () => TranslationStore | null = () =>
    config.cache.enabled ? TranslationMemory.openForRun(config.cache.path, (message) => problem(null, message)) : null,
  log?: Logger,
): Promise<RunServices> {
  const detector = await LanguageDetector.create(routedLanguages(config.translation.models), config.detect);
  let memory: TranslationStore | null = null;
  try {
    memory = openMemory();
  } catch (error) {
    problem(null, `translation memory not used: ${(error as Error).message}`);
  }
  // The pool reports each batch it runs to the backend, which counts them for the run report.
  let backend: ModelTranslationBackend;
  // The run's stop signal reaches the Translators, which stop between batches.
  const pool = new TranslatorPool(config.translation, {
    onBatch: (batch) => {
      backend.countBatch(batch.sentences);
      log?.debug({ sentences: batch.sentences, ms: Math.round(batch.ms) }, 'model batch');
    },
    signal,
  });
  backend = new ModelTranslationBackend(pool, memory, (lang, error) => problem(lang, `${lang}: ${error.message}`));
  return { detector, backend, pool, memory, settings: await settingsHash(config, memory), inputRoots };
}

/**
 * Everything besides the input bytes that shapes an output: the stages' settings, the output formats
 * and the models (their files' content when the translation memory can hash them cheaply, else their
 * sizes and times; `absent` when not installed, so installing a model redoes the affected articles).
 */
export async function settingsHash(config: PipelineConfig, memory: Pick<TranslationStore, 'fingerprint'> | null): Promise<string> {
  const { translation } = config;
  const models: Record<string, string> = {};
  for (const model of configuredModels(translation.models, translation.modelsDir)) {
    const files = modelFiles(translation.dtype);
    try {
      models[model.lang] = memory
        ? await memory.fingerprint(model.dir, files)
        : (await Promise.all(files.map((file) => stat(path.join(model.dir, file))))).map((s) => `${s.size}:${s.mtimeMs}`).join(',');
    } catch {
      models[model.lang] = 'absent';
    }
  }
  const shaping = {
    generation: OUTPUT_GENERATION,
    formats: config.output.formats,
    clean: config.clean,
    detect: config.detect,
    // The batch budget too: q8 outputs can differ with the batch a sentence shares.
    translation: { models: translation.models, maxArticleChars: translation.maxArticleChars, ...decodingOptions(translation) },
    summary: config.summary,
    models,
  };
  return sha256(JSON.stringify(shaping));
}

export interface FileResult {
  outcome: ArticleOutcome;
  manifestLine: string;
  digest: DigestEntry;
  /** The article record for `--jsonl`, when the article got through the stages. */
  record: ArticleOutput | null;
}

/** Times an article whose file changes while it is processed is started over before it fails `input-changed`. */
const INPUT_CHANGE_ATTEMPTS = 3;

/** One article through every stage and into its outputs: what `run` does per article, and a queue worker per job. */
export async function processFile(
  file: IdentifiedFile,
  config: PipelineConfig,
  services: RunServices,
  repeatedLines: RepeatedLines,
  options: Pick<RunOptions, 'force' | 'jsonl' | 'log' | 'signal'> & {
    /** The web pages the run's corpus pass read; each is taken from here instead of being extracted again. */
    extractedPages?: ExtractedPages;
  },
  attempt = 1,
): Promise<FileResult | null> {
  const timings: Record<string, number> = {};
  const outputs = options.jsonl ? {} : outputFileNames(file.id, config.output.formats);
  const failed = (reason: ArticleReason, message: string): FileResult => {
    options.log?.error({ file: file.path, reason }, message);
    return {
      outcome: { id: file.id, status: 'failed', reason, message, timings, sentencesTranslated: 0 },
      manifestLine: manifestLine({ id: file.id, source: file.path, status: 'failed', reason, outputs: {} }),
      digest: { id: file.id, status: 'failed', reason, message, language: null, title: null, summary: [] },
      record: null,
    };
  };

  let read: ReadArticle;
  try {
    options.log?.debug({ file: file.path }, 'reading the article');
    read = await timed(timings, 'read', () =>
      readArticleFile(file.path, file.inputRoot, config.input.maxBytes, services.inputRoots, {
        html: config.input.html,
        signal: options.signal,
        takeFrom: options.extractedPages,
      }),
    );
  } catch (error) {
    if (error instanceof InputError) return failed(error.reason, error.message);
    // Stopped while its page was extracted: left as it was, like the articles that never started.
    if (error instanceof ReadStoppedError) return null;
    return failed('unreadable', `${file.path}: ${(error as Error).message}`);
  }
  for (const notice of read.notices ?? []) options.log?.warn({ file: file.path }, notice);
  const article = { ...read, id: file.id };
  let cleaned: CleanedArticle;
  try {
    cleaned = await timed(timings, 'clean', () =>
      config.clean.enabled ? removeBoilerplate(article, { repeatedLines }) : keepAllLines(article),
    );
  } catch (error) {
    return failed('stage-error', `${file.path}: ${(error as Error).stack ?? String(error)}`);
  }
  const fingerprint = articleFingerprint(cleaned, services.settings);

  if (!options.jsonl) {
    const decision = planArticle(fingerprint, await readPreviousOutputs(config.output.dir, outputs), { force: options.force ?? false });
    if (decision.action === 'skip') {
      const { previous } = decision;
      // What is on disk, for the exit code and the manifest: skipped is not the same as ok.
      const output = { status: previous.status, ...(previous.reason ? { reason: previous.reason } : {}) } as ArticleOutcome['output'];
      return {
        outcome: { id: file.id, status: 'skipped', reason: 'up-to-date', output, timings, sentencesTranslated: 0 },
        manifestLine: manifestLine({ id: file.id, source: file.path, status: 'skipped', reason: 'up-to-date', output, outputs, article: previous }),
        digest: digestEntryFromOutput(previous, { status: 'skipped', reason: 'up-to-date', ...(output ? { kept: output } : {}), page: outputs.html }),
        record: null,
      };
    }
  }

  let summarized: SummarizedArticle;
  try {
    summarized = await runStages(cleaned, config, services, timings);
  } catch (error) {
    if (error instanceof TranslationStoppedError) return null;
    return failed('stage-error', `${file.path}: ${(error as Error).stack ?? String(error)}`);
  }

  // Outputs describe the bytes that were read. If the file has changed since, they would be marked done for
  // a version that is gone, and on a queue they could land over the outputs of the job for its new version.
  if (!options.jsonl && !(await stillHolds(file.path, read.source.sha256, config.input.maxBytes))) {
    options.log?.warn({ file: file.path, attempt }, 'the file changed while it was processed; starting over');
    if (attempt < INPUT_CHANGE_ATTEMPTS) return processFile(file, config, services, repeatedLines, options, attempt + 1);
    return failed(
      'input-changed',
      `${file.path}: the file changed while it was processed, ${INPUT_CHANGE_ATTEMPTS} times in a row, so its outputs were left as they were; run again once whatever writes it has finished`,
    );
  }

  const { status, reason, message } = articleStatus(read, summarized);
  const meta = { status, ...(reason ? { reason } : {}), models: summarized.translation.models, timings, fingerprint };
  const record = renderArticleJson(summarized, meta);
  if (!options.jsonl) {
    try {
      await timed(timings, 'write', async () => {
        // The JSON goes last: it is what marks the article done for the next run.
        if (outputs.md) await writeFileAtomic(path.join(config.output.dir, outputs.md), renderArticleMarkdown(summarized));
        if (outputs.html) {
          const page = renderArticleHtml(summarized, { status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });
          await writeFileAtomic(path.join(config.output.dir, outputs.html), page);
        }
        record.timings = { ...timings };
        if (outputs.json) await writeFileAtomic(path.join(config.output.dir, outputs.json), articleJsonText(record));
      });
    } catch (error) {
      return failed('output-error', (error as Error).message);
    }
  }
  const sentencesTranslated = sentencesOf(summarized).filter((s) => s.target !== null && !s.flags.includes('passthrough')).length;
  return {
    outcome: { id: file.id, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), timings, sentencesTranslated },
    manifestLine: manifestLine({ id: file.id, source: file.path, status, ...(reason ? { reason } : {}), outputs, article: summarized }),
    digest: digestEntryFromOutput(record, { status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), page: outputs.html }),
    record,
  };
}

/**
 * What an output is made from: the input bytes, the settings, and the lines removed from the article
 * because its site repeats them. Only those lines: a change elsewhere in the site's repeated lines
 * leaves the article's output as it was, and its fingerprint too.
 */
function articleFingerprint(cleaned: CleanedArticle, settings: string): string {
  const repeated = cleaned.removed.filter((line) => line.reason === 'repeated-across-corpus').map((line) => normalizeLine(line.text));
  const base = `${cleaned.source.sha256}\n${settings}`;
  return sha256(repeated.length === 0 ? base : `${base}\n${JSON.stringify([...new Set(repeated)].sort())}`);
}

/** The stages after clean, in order. */
async function runStages(
  cleaned: CleanedArticle,
  config: PipelineConfig,
  services: RunServices,
  timings: Record<string, number>,
): Promise<SummarizedArticle> {
  const detected = await timed(timings, 'detect', () => detectLanguage(cleaned, services.detector));
  const segmented = await timed(timings, 'segment', () => segmentSentences(detected));
  const translated = await timed(timings, 'translate', () => translateArticle(segmented, services.backend, { maxChars: config.translation.maxArticleChars }));
  return timed(timings, 'summarize', () => summarizeArticle(translated, config.summary));
}

/**
 * `partial` when something the article needed is missing (bytes the reader had to replace, sentences
 * without English); `ok` otherwise, with the reason when its text was kept as it is.
 */
function articleStatus(
  read: ReadArticle,
  article: SummarizedArticle,
): { status: ArticleStatus; reason?: ArticleReason; message?: string } {
  const { translation } = article;
  if (translation.status === 'model-unavailable') return { status: 'partial', reason: 'model-unavailable', message: translation.message };
  if (translation.status === 'partial') return { status: 'partial', reason: 'untranslated-sentences', message: translation.message };
  if (translation.status === 'over-budget') return { status: 'partial', reason: 'over-budget', message: translation.message };
  const warning = read.warnings[0];
  if (warning) return { status: 'partial', reason: warning.reason, message: warning.message };
  if (translation.status === 'unsupported-language') return { status: 'ok', reason: 'unsupported-language', message: translation.message };
  return { status: 'ok' };
}

/** What the last run left for an article: its JSON, parsed, and whether the other outputs are there. */
async function readPreviousOutputs(outputDir: string, outputs: OutputFiles): Promise<PreviousOutputs> {
  const others = Object.entries(outputs).filter(([format]) => format !== 'json');
  const othersPresent = (
    await Promise.all(others.map(([, name]) => stat(path.join(outputDir, name)).then(() => true, () => false)))
  ).every(Boolean);
  if (!outputs.json) return { json: null, othersPresent };
  try {
    const parsed = articleOutputSchema.safeParse(JSON.parse(await readFile(path.join(outputDir, outputs.json), 'utf8')));
    return { json: parsed.success ? parsed.data : null, othersPresent };
  } catch {
    return { json: null, othersPresent };
  }
}

async function timed<T>(timings: Record<string, number>, stage: string, work: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + performance.now() - started;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
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
