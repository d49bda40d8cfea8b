import { describe, expect, it } from 'vitest';
import type { ArticleReason, ArticleStatus } from '../../src/article.js';
import type { ArticleOutput } from '../../src/output/schema.js';
import { renderArticleJson } from '../../src/output/json.js';
import { planArticle } from '../../src/run/plan.js';
import { arabicArticle } from '../fixtures/summarized-article.js';

function output(fingerprint: string, status: ArticleStatus = 'ok', reason?: ArticleReason): ArticleOutput {
  return renderArticleJson(arabicArticle(), { status, ...(reason ? { reason } : {}), models: [], timings: {}, fingerprint });
}

const unforced = { force: false };

describe('planArticle', () => {
  it('skips an article whose outputs were made from the same input and settings', () => {
    const previous = output('f1');
    expect(planArticle('f1', { json: previous, othersPresent: true }, unforced)).toEqual({ action: 'skip', previous });
  });

  it('processes a new article, a changed one, and any article when forced', () => {
    expect(planArticle('f1', { json: null, othersPresent: false }, unforced)).toEqual({ action: 'process', because: 'new' });
    expect(planArticle('f2', { json: output('f1'), othersPresent: true }, unforced)).toEqual({ action: 'process', because: 'changed' });
    expect(planArticle('f1', { json: output('f1'), othersPresent: true }, { force: true })).toEqual({
      action: 'process',
      because: 'forced',
    });
  });

  it('processes an article one of whose other outputs is missing', () => {
    expect(planArticle('f1', { json: output('f1'), othersPresent: false }, unforced)).toEqual({ action: 'process', because: 'incomplete' });
  });

  it('keeps outputs a rerun would only make again, redoes those a rerun could improve', () => {
    for (const reason of ['unsupported-language', 'invalid-utf8', 'invalid-utf16', 'model-unavailable'] as const) {
      expect(planArticle('f1', { json: output('f1', 'partial', reason), othersPresent: true }, unforced).action).toBe('skip');
    }
    expect(planArticle('f1', { json: output('f1', 'partial', 'untranslated-sentences'), othersPresent: true }, unforced)).toEqual({
      action: 'process',
      because: 'not-final',
    });
    expect(planArticle('f1', { json: output('f1', 'failed', 'stage-error'), othersPresent: true }, unforced)).toEqual({
      action: 'process',
      because: 'failed',
    });
  });
});
