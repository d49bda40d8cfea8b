import { z } from 'zod';
import type { ArticleReason, ArticleStatus, TranslatedSentence } from '../article.js';
import type { NotListed } from '../input/list-files.js';

/** What the runner knows about one article when it is done with it. */
export interface ArticleOutcome {
  id: string;
  status: ArticleStatus;
  reason?: ArticleReason;
  /** What happened, naming the file and the fix; for statuses other than `ok`. */
  message?: string;
  /** For a `skipped` article: the status of the outputs it kept, which an earlier run made. */
  output?: { status: 'ok' | 'partial'; reason?: ArticleReason };
  /** Milliseconds spent in each stage (`read`, `clean`, …, `write`). */
  timings: Record<string, number>;
  /** Sentences that got an English target from a model or the translation memory. */
  sentencesTranslated: number;
  /** The translated sentences' glossary terms and do-not-translate spans; absent when none. */
  terms?: TermCounts;
}

/** Glossary terms and do-not-translate spans of translated sentences: how many there were, and how many the English carries. */
export interface TermCounts {
  terms: { applied: number; present: number };
  spans: { applied: number; present: number };
}

const termCountSchema = z.strictObject({
  applied: z.number().int().nonnegative(),
  present: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
});

/** An article's counts from its translated sentences' `terms`; undefined when none has any. */
export function termCounts(sentences: readonly TranslatedSentence[]): TermCounts | undefined {
  const counts: TermCounts = { terms: { applied: 0, present: 0 }, spans: { applied: 0, present: 0 } };
  for (const term of sentences.flatMap((sentence) => sentence.terms ?? [])) {
    const count = term.kind === 'term' ? counts.terms : counts.spans;
    count.applied += 1;
    if (term.present) count.present += 1;
  }
  return counts.terms.applied + counts.spans.applied > 0 ? counts : undefined;
}

export const runReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  /** True when the run was stopped (SIGINT/SIGTERM) before every article was done. */
  interrupted: z.boolean(),
  articles: z.strictObject({
    /** Articles the input patterns matched. */
    total: z.number().int().nonnegative(),
    ok: z.number().int().nonnegative(),
    partial: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    /** Articles an interrupted run never started; their outputs were left as they were. */
    notStarted: z.number().int().nonnegative(),
  }),
  /** Files the input patterns match that the run did not list as articles, by why; none of them is in `articles`. */
  notListed: z.strictObject({
    /** Hidden files and files in hidden folders (a name starting with `.`); a pattern that names the dot reads them. */
    hidden: z.number().int().nonnegative(),
    /** Files in the output folder where it lies inside an input folder: the run's own outputs, never read as articles. */
    inOutput: z.number().int().nonnegative(),
  }),
  /**
   * The state of the outputs once the run is done, per article it got to: its new status, or for a
   * skipped article the status of the outputs it kept. The exit code follows these counts.
   */
  outputs: z.strictObject({
    ok: z.number().int().nonnegative(),
    partial: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  /** Articles per reason (`too-large`, `model-unavailable`, `up-to-date`, …). */
  reasons: z.record(z.string(), z.number().int().nonnegative()),
  /** Milliseconds per stage, summed over articles (they overlap when concurrency > 1). */
  stageMs: z.record(z.string(), z.number().nonnegative()),
  /** Articles that were processed (not skipped) per second of wall time. */
  articlesPerSecond: z.number().nonnegative(),
  sentencesTranslated: z.number().int().nonnegative(),
  sentencesTranslatedPerSecond: z.number().nonnegative(),
  /** Batches sent to a translation model; 0 when every sentence came from the translation memory. */
  modelCalls: z.number().int().nonnegative(),
  /** Sentences (or pieces of over-long ones) that reached a model. */
  sentencesToModel: z.number().int().nonnegative(),
  /** Sentences whose translation came from the translation memory. */
  cacheHits: z.number().int().nonnegative(),
  /** Glossary terms of the translated sentences: applied, in the English (`present`), not (`missing`, flagged `term-missing`). */
  terms: termCountSchema,
  /** Do-not-translate spans (numbers, URLs, placeholders, …) of the translated sentences, likewise. */
  doNotTranslate: termCountSchema,
  /** Problems that concern the whole run (a model that could not be downloaded or loaded), each said once. */
  problems: z.array(z.string()),
});

/** `output/run-report.json`. */
export type RunReport = z.infer<typeof runReportSchema>;

export interface RunTotals {
  startedAt: Date;
  finishedAt: Date;
  /** Articles the input patterns matched; more than `outcomes` when the run was interrupted. */
  listed: number;
  /** Files the patterns matched but the listing left out; none when absent. */
  notListed?: NotListed;
  outcomes: readonly ArticleOutcome[];
  modelCalls: number;
  sentencesToModel: number;
  cacheHits: number;
  problems: readonly string[];
  interrupted?: boolean;
}

export function buildRunReport(run: RunTotals): RunReport {
  const durationMs = Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime());
  const seconds = durationMs / 1000;
  const articles = {
    total: run.listed,
    ok: 0,
    partial: 0,
    failed: 0,
    skipped: 0,
    notStarted: Math.max(0, run.listed - run.outcomes.length),
  };
  const outputs = { ok: 0, partial: 0, failed: 0 };
  const reasons: Record<string, number> = {};
  const stageMs: Record<string, number> = {};
  let sentencesTranslated = 0;
  const terms = { applied: 0, present: 0 };
  const spans = { applied: 0, present: 0 };
  for (const outcome of run.outcomes) {
    articles[outcome.status] += 1;
    const kept = outcome.status === 'skipped' ? (outcome.output?.status ?? 'ok') : outcome.status;
    outputs[kept] += 1;
    if (outcome.reason) reasons[outcome.reason] = (reasons[outcome.reason] ?? 0) + 1;
    for (const [stage, ms] of Object.entries(outcome.timings)) stageMs[stage] = round((stageMs[stage] ?? 0) + ms);
    sentencesTranslated += outcome.sentencesTranslated;
    for (const [sum, add] of [
      [terms, outcome.terms?.terms],
      [spans, outcome.terms?.spans],
    ] as const) {
      sum.applied += add?.applied ?? 0;
      sum.present += add?.present ?? 0;
    }
  }
  const processed = run.outcomes.length - articles.skipped;
  return {
    schemaVersion: 1,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    durationMs,
    interrupted: run.interrupted ?? false,
    articles,
    notListed: { hidden: run.notListed?.hidden ?? 0, inOutput: run.notListed?.inOutput ?? 0 },
    outputs,
    reasons,
    stageMs,
    articlesPerSecond: seconds > 0 ? round(processed / seconds) : 0,
    sentencesTranslated,
    sentencesTranslatedPerSecond: seconds > 0 ? round(sentencesTranslated / seconds) : 0,
    modelCalls: run.modelCalls,
    sentencesToModel: run.sentencesToModel,
    cacheHits: run.cacheHits,
    terms: { ...terms, missing: terms.applied - terms.present },
    doNotTranslate: { ...spans, missing: spans.applied - spans.present },
    problems: [...run.problems],
  };
}

/** The one-line summary printed at the end of a run. */
export function renderRunSummary(report: RunReport): string {
  const { articles } = report;
  const counts = `${articles.ok} ok, ${articles.partial} partial, ${articles.failed} failed, ${articles.skipped} skipped`;
  const rate = `${report.articlesPerSecond} articles/s, ${report.sentencesTranslatedPerSecond} sentences translated/s`;
  const stopped = report.interrupted ? ` (interrupted: ${articles.notStarted} not started)` : '';
  const skippedIncomplete = report.outputs.partial + report.outputs.failed - articles.partial - articles.failed;
  const kept =
    skippedIncomplete > 0
      ? `; ${skippedIncomplete} skipped article${skippedIncomplete === 1 ? '' : 's'} still partial from an earlier run`
      : '';
  return `${articles.total} articles: ${counts}${kept} in ${(report.durationMs / 1000).toFixed(1)} s (${rate}, ${report.modelCalls} model calls)${stopped}${notListedSummary(report.notListed)}`;
}

function notListedSummary({ hidden, inOutput }: RunReport['notListed']): string {
  const parts = [
    ...(hidden > 0 ? [`${hidden} hidden file${hidden === 1 ? '' : 's'} (name starting with ".")`] : []),
    ...(inOutput > 0 ? [`${inOutput} file${inOutput === 1 ? '' : 's'} in the output folder`] : []),
  ];
  return parts.length > 0 ? `; not read: ${parts.join(', ')}` : '';
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
