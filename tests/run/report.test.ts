import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildRunReport, renderRunSummary, runReportSchema, type ArticleOutcome } from '../../src/run/report.js';
import { repoRoot } from '../../tools/repo-root.js';

const outcomes: ArticleOutcome[] = [
  {
    id: 'a',
    status: 'ok',
    timings: { read: 2, translate: 1000 },
    sentencesTranslated: 30,
    terms: { terms: { applied: 3, present: 2 }, spans: { applied: 5, present: 5 } },
  },
  { id: 'b', status: 'partial', reason: 'model-unavailable', timings: { read: 1, translate: 5 }, sentencesTranslated: 0 },
  { id: 'c', status: 'failed', reason: 'binary', timings: { read: 1 }, sentencesTranslated: 0 },
  { id: 'd', status: 'skipped', reason: 'up-to-date', timings: {}, sentencesTranslated: 0 },
];

describe('buildRunReport', () => {
  const totals = () => ({
    startedAt: new Date('2026-01-01T00:00:00.000Z'),
    finishedAt: new Date('2026-01-01T00:00:02.000Z'),
    listed: 4,
    outcomes,
    modelCalls: 4,
    sentencesToModel: 35,
    cacheHits: 12,
    problems: ['ar: Xenova/opus-mt-ar-en could not be downloaded'],
  });
  const report = buildRunReport(totals());

  it('counts articles by status and by reason', () => {
    expect(report.articles).toEqual({ total: 4, ok: 1, partial: 1, failed: 1, skipped: 1, notStarted: 0 });
    expect(report.reasons).toEqual({ 'model-unavailable': 1, binary: 1, 'up-to-date': 1 });
  });

  it('sums time per stage and gives rates over wall time, skipped articles not counted as processed', () => {
    expect(report.stageMs).toEqual({ read: 4, translate: 1005 });
    expect(report.durationMs).toBe(2000);
    expect(report.articlesPerSecond).toBe(1.5);
    expect(report.sentencesTranslated).toBe(30);
    expect(report.sentencesTranslatedPerSecond).toBe(15);
    expect(report.modelCalls).toBe(4);
    expect(report.sentencesToModel).toBe(35);
    expect(report.cacheHits).toBe(12);
    expect(report.problems).toEqual(['ar: Xenova/opus-mt-ar-en could not be downloaded']);
    expect(report.interrupted).toBe(false);
    expect(report.terms).toEqual({ applied: 3, present: 2, missing: 1 });
    expect(report.doNotTranslate).toEqual({ applied: 5, present: 5, missing: 0 });
    expect(runReportSchema.safeParse(report).success).toBe(true);
  });

  it('is valid against the published schema/run-report.schema.json', async () => {
    const text = await readFile(join(repoRoot, 'schema', 'run-report.schema.json'), 'utf8');
    const published = z.fromJSONSchema(JSON.parse(text) as z.core.JSONSchema.JSONSchema);
    expect(published.safeParse(JSON.parse(JSON.stringify(report))).success).toBe(true);
    expect(published.safeParse({ ...report, articles: { ...report.articles, ok: -1 } }).success).toBe(false);
  });

  it('renders a one-line summary', () => {
    expect(renderRunSummary(report)).toBe(
      '4 articles: 1 ok, 1 partial, 1 failed, 1 skipped in 2.0 s (1.5 articles/s, 15 sentences translated/s, 4 model calls)',
    );
    const stopped = buildRunReport({ ...totals(), listed: 10, interrupted: true });
    expect(stopped.articles.total).toBe(10);
    expect(stopped.articles.notStarted).toBe(6);
    expect(renderRunSummary(stopped)).toMatch(/\(interrupted: 6 not started\)$/);
  });

  it('counts the files the listing left out, zero when it was not told, and says them in the summary', () => {
    expect(report.notListed).toEqual({ hidden: 0, inOutput: 0 });
    const leftOut = buildRunReport({ ...totals(), notListed: { hidden: 2, inOutput: 1 } });
    expect(leftOut.notListed).toEqual({ hidden: 2, inOutput: 1 });
    expect(runReportSchema.safeParse(leftOut).success).toBe(true);
    expect(renderRunSummary(leftOut)).toMatch(
      / model calls\); not read: 2 hidden files \(name starting with "\."\), 1 file in the output folder$/,
    );
  });

  it('has zero rates for an instant run instead of dividing by zero', () => {
    const instant = buildRunReport({
      startedAt: new Date(0),
      finishedAt: new Date(0),
      listed: 0,
      outcomes: [],
      modelCalls: 0,
      sentencesToModel: 0,
      cacheHits: 0,
      problems: [],
    });
    expect(instant.articlesPerSecond).toBe(0);
    expect(instant.sentencesTranslatedPerSecond).toBe(0);
  });
});
