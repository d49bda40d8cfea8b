/** One article through every stage and into its outputs: what `run` does per article, and a queue worker per job. */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type ArticleReason, type ArticleStatus, type CleanedArticle, sentencesOf, type SummarizedArticle } from '../article.js';
import type { PipelineConfig } from '../config/config.js';
import { InputError, TranslationStoppedError } from '../errors.js';
import type { IdentifiedFile } from '../input/article-ids.js';
import type { ExtractedPages } from '../input/extracted-pages.js';
import { ReadStoppedError } from '../input/extraction-pool.js';
import { readArticleFile, stillHolds } from '../input/read-file.js';
import type { ReadArticle } from '../input/read.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import { digestEntryFromOutput, type DigestEntry } from '../output/digest.js';
import { renderArticleHtml } from '../output/html.js';
import { articleJsonText, renderArticleJson } from '../output/json.js';
import { manifestLine, outputFileNames, type ManifestEntry, type OutputFiles } from '../output/manifest.js';
import { renderArticleMarkdown } from '../output/markdown.js';
import { articleOutputSchema, type ArticleOutput } from '../output/schema.js';
import { keepAllLines, normalizeLine, removeBoilerplate, type RepeatedLines } from '../stages/clean.js';
import { detectLanguage } from '../stages/detect.js';
import { segmentSentences } from '../stages/segment.js';
import { summarizeArticle } from '../stages/summarize.js';
import { translateArticle } from '../stages/translate.js';
import type { RunOptions } from './pipeline.js';
import { planArticle, type PreviousOutputs } from './plan.js';
import { type ArticleOutcome, type TermCounts, termCounts } from './report.js';
import type { RunServices } from './services.js';

export interface FileResult {
  outcome: ArticleOutcome;
  manifestLine: string;
  digest: DigestEntry;
  /** The article record for `--jsonl`, when the article got through the stages. */
  record: ArticleOutput | null;
}

export type ArticleWorkOptions = Pick<RunOptions, 'force' | 'jsonl' | 'log' | 'signal'> & {
  /** The web pages the run's corpus pass read; each is taken from here instead of being extracted again. */
  extractedPages?: ExtractedPages;
};

/** Times an article whose file changes while it is processed is started over before it fails `input-changed`. */
const INPUT_CHANGE_ATTEMPTS = 3;

/** One pass of an article through the stages, and what its steps share. */
interface Attempt {
  file: IdentifiedFile;
  config: PipelineConfig;
  services: RunServices;
  options: ArticleWorkOptions;
  /** The article's output files by format; none for `--jsonl`. */
  outputs: OutputFiles;
  timings: Record<string, number>;
}

/** What an attempt gives when the file changed while it was processed. */
const INPUT_CHANGED = Symbol('input changed');

/** One article through every stage and into its outputs; null when the run was stopped mid-article. */
export async function processFile(
  file: IdentifiedFile,
  config: PipelineConfig,
  services: RunServices,
  repeatedLines: RepeatedLines,
  options: ArticleWorkOptions,
): Promise<FileResult | null> {
  const outputs = options.jsonl ? {} : outputFileNames(file.id, config.output.formats);
  for (let attempt = 1; ; attempt += 1) {
    const at: Attempt = { file, config, services, options, outputs, timings: {} };
    const done = await processOnce(at, repeatedLines);
    if (done !== INPUT_CHANGED) return done;
    options.log?.warn({ file: file.path, attempt }, 'the file changed while it was processed; starting over');
    if (attempt === INPUT_CHANGE_ATTEMPTS) {
      return failed(
        at,
        'input-changed',
        `${file.path}: the file changed while it was processed, ${INPUT_CHANGE_ATTEMPTS} times in a row, so its outputs were left as they were; run again once whatever writes it has finished`,
      );
    }
  }
}

/** Read, clean, the skip decision, the stages, then the outputs. */
async function processOnce(at: Attempt, repeatedLines: RepeatedLines): Promise<FileResult | null | typeof INPUT_CHANGED> {
  const { file, config, services, options, timings } = at;
  const read = await readInput(at);
  if (read === null || 'outcome' in read) return read;
  for (const notice of read.notices ?? []) options.log?.warn({ file: file.path }, notice);
  const article = { ...read, id: file.id };
  let cleaned: CleanedArticle;
  try {
    cleaned = await timed(timings, 'clean', () =>
      config.clean.enabled ? removeBoilerplate(article, { repeatedLines }) : keepAllLines(article),
    );
  } catch (error) {
    return stageFailed(at, error);
  }
  const fingerprint = articleFingerprint(cleaned, services.settings);

  if (!options.jsonl) {
    const decision = planArticle(fingerprint, await readPreviousOutputs(config.output.dir, at.outputs), { force: options.force ?? false });
    if (decision.action === 'skip') return skipped(at, decision.previous);
  }

  let summarized: SummarizedArticle;
  try {
    summarized = await runStages(cleaned, config, services, timings);
  } catch (error) {
    if (error instanceof TranslationStoppedError) return null;
    return stageFailed(at, error);
  }

  // Outputs describe the bytes that were read. If the file has changed since, they would be marked done for
  // a version that is gone, and on a queue they could land over the outputs of the job for its new version.
  if (!options.jsonl && !(await stillHolds(file.path, read.source.sha256, config.input.maxBytes))) return INPUT_CHANGED;
  return writeOutputs(at, read, summarized, fingerprint);
}

/** The article as read, or its failure; null when the run was stopped while its page was extracted. */
async function readInput(at: Attempt): Promise<ReadArticle | FileResult | null> {
  const { file, config, options } = at;
  try {
    options.log?.debug({ file: file.path }, 'reading the article');
    return await timed(at.timings, 'read', () =>
      readArticleFile(file.path, file.inputRoot, config.input.maxBytes, at.services.inputRoots, {
        html: config.input.html,
        signal: options.signal,
        takeFrom: options.extractedPages,
      }),
    );
  } catch (error) {
    // Stopped while its page was extracted: left as it was, like the articles that never started.
    if (error instanceof ReadStoppedError) return null;
    if (error instanceof InputError) return failed(at, error.reason, error.message);
    return failed(at, 'unreadable', `${file.path}: ${(error as Error).message}`);
  }
}

/** Writes the article's outputs (none for `--jsonl`) and gives its result. */
async function writeOutputs(at: Attempt, read: ReadArticle, summarized: SummarizedArticle, fingerprint: string): Promise<FileResult> {
  const { config, outputs, timings } = at;
  const { status, reason, message } = articleStatus(read, summarized);
  const said = { status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  const record = renderArticleJson(summarized, {
    status,
    ...(reason ? { reason } : {}),
    models: summarized.translation.models,
    timings,
    fingerprint,
  });
  if (!at.options.jsonl) {
    try {
      await timed(timings, 'write', async () => {
        // The JSON goes last: it is what marks the article done for the next run.
        if (outputs.md) await writeFileAtomic(path.join(config.output.dir, outputs.md), renderArticleMarkdown(summarized));
        if (outputs.html) await writeFileAtomic(path.join(config.output.dir, outputs.html), renderArticleHtml(summarized, said));
        record.timings = { ...timings };
        if (outputs.json) await writeFileAtomic(path.join(config.output.dir, outputs.json), articleJsonText(record));
      });
    } catch (error) {
      return failed(at, 'output-error', (error as Error).message);
    }
  }
  const translated = sentencesOf(summarized).filter((s) => s.target !== null && !s.flags.includes('passthrough'));
  const terms = termCounts(translated);
  return fileResult(at, { said, outputs, article: summarized, output: record, record, sentencesTranslated: translated.length, terms });
}

/** The outputs an earlier run made are up to date: kept as they are. */
function skipped(at: Attempt, previous: ArticleOutput): FileResult {
  // What is on disk, for the exit code and the manifest: skipped is not the same as ok.
  const kept = { status: previous.status, ...(previous.reason ? { reason: previous.reason } : {}) } as ArticleOutcome['output'];
  const said = { status: 'skipped', reason: 'up-to-date' } as const;
  return fileResult(at, { said, kept, outputs: at.outputs, article: previous, output: previous, record: null, sentencesTranslated: 0 });
}

function stageFailed(at: Attempt, error: unknown): FileResult {
  return failed(at, 'stage-error', `${at.file.path}: ${(error as Error).stack ?? String(error)}`);
}

function failed(at: Attempt, reason: ArticleReason, message: string): FileResult {
  at.options.log?.error({ file: at.file.path, reason }, message);
  return fileResult(at, { said: { status: 'failed', reason, message }, outputs: {}, record: null, sentencesTranslated: 0 });
}

/** How an article ended, which its outcome, manifest line and digest entry each say. */
interface ArticleEnd {
  said: { status: ArticleStatus; reason?: ArticleReason; message?: string };
  /** For a skipped article: the status of the outputs it kept. */
  kept?: ArticleOutcome['output'];
  /** The output files the manifest lists; none for a failed article. */
  outputs: OutputFiles;
  /** The article, or for a skipped one its earlier output, for the manifest; absent when it never got through. */
  article?: ManifestEntry['article'];
  /** The JSON output the digest entry is made from; absent when there is none. */
  output?: ArticleOutput;
  record: ArticleOutput | null;
  sentencesTranslated: number;
  terms?: TermCounts;
}

function fileResult(at: Attempt, end: ArticleEnd): FileResult {
  const { file, timings } = at;
  const { said, kept } = end;
  return {
    outcome: {
      id: file.id,
      ...said,
      ...(kept ? { output: kept } : {}),
      timings,
      sentencesTranslated: end.sentencesTranslated,
      ...(end.terms ? { terms: end.terms } : {}),
    },
    manifestLine: manifestLine({
      id: file.id,
      source: file.path,
      status: said.status,
      ...(said.reason ? { reason: said.reason } : {}),
      ...(kept ? { output: kept } : {}),
      outputs: end.outputs,
      ...(end.article ? { article: end.article } : {}),
    }),
    digest: end.output
      ? digestEntryFromOutput(end.output, { ...said, ...(kept ? { kept } : {}), page: at.outputs.html })
      : { id: file.id, ...said, language: null, title: null, summary: [] },
    record: end.record,
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
  const text = repeated.length === 0 ? base : `${base}\n${JSON.stringify([...new Set(repeated)].sort())}`;
  return createHash('sha256').update(text).digest('hex');
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
  const translated = await timed(timings, 'translate', () =>
    translateArticle(segmented, services.backend, { maxChars: config.translation.maxArticleChars }),
  );
  return timed(timings, 'summarize', () => summarizeArticle(translated, config.summary));
}

/**
 * `partial` when something the article needed is missing (bytes the reader had to replace, sentences
 * without English); `ok` otherwise, with the reason when its text was kept as it is.
 */
export function articleStatus(
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
    await Promise.all(
      others.map(([, name]) =>
        stat(path.join(outputDir, name)).then(
          () => true,
          () => false,
        ),
      ),
    )
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
