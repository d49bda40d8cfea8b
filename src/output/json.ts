import type { ArticleReason, ArticleStatus, ModelUse, SummarizedArticle } from '../article.js';
import type { ArticleOutput } from './schema.js';

/** Stage 7, write, for machines: the article as `<id>.json`. Rendering is pure; the pipeline writes the file. */

export interface ArticleMeta {
  status: ArticleStatus;
  reason?: ArticleReason;
  models: ModelUse[];
  /** Milliseconds per stage. */
  timings: Record<string, number>;
  /** What the output was made from; see `articleOutputSchema.fingerprint`. */
  fingerprint: string;
}

export function renderArticleJson(article: SummarizedArticle, meta: ArticleMeta): ArticleOutput {
  return {
    schemaVersion: 1,
    id: article.id,
    status: meta.status,
    ...(meta.reason !== undefined ? { reason: meta.reason } : {}),
    source: { ...article.source },
    ...(article.page ? { page: { ...article.page, removed: article.page.removed.map((block) => ({ ...block })) } } : {}),
    ...(article.fetched ? { fetched: { ...article.fetched } } : {}),
    language: { lang: article.language.lang, confidence: article.language.confidence },
    title: article.title,
    paragraphs: article.paragraphs.map((paragraph) => ({
      line: paragraph.line,
      kind: paragraph.kind,
      language: { lang: paragraph.language.lang, confidence: paragraph.language.confidence },
      flags: [...paragraph.flags],
      sentences: paragraph.sentences.map((sentence) => ({
        source: sentence.source,
        target: sentence.target,
        flags: [...sentence.flags],
        ...(sentence.terms ? { terms: sentence.terms.map((term) => ({ ...term })) } : {}),
      })),
    })),
    removed: article.removed.map((line) => ({ line: line.line, text: line.text, reason: line.reason })),
    summary: {
      indices: [...article.summary.indices],
      pairs: article.summary.pairs.map((pair) => ({ source: pair.source, target: pair.target })),
    },
    translation: {
      status: article.translation.status,
      ...(article.translation.message !== undefined ? { message: article.translation.message } : {}),
    },
    models: meta.models.map((model) => ({
      lang: model.lang,
      id: model.id,
      revision: model.revision,
      dtype: model.dtype,
      weights: model.weights,
    })),
    timings: Object.fromEntries(Object.entries(meta.timings).map(([stage, ms]) => [stage, Math.round(ms * 10) / 10])),
    fingerprint: meta.fingerprint,
  };
}

/** `<id>.json`'s text: pretty-printed, newline-terminated. */
export function articleJsonText(output: ArticleOutput): string {
  return `${JSON.stringify(output, null, 2)}\n`;
}
