/** POST /v1/articles: one article (text or a web page) through every stage, answered with the record `run` writes. */
import { createHash } from 'node:crypto';
import type { LanguageCode, SummarizedArticle } from '../article.js';
import { InputError } from '../errors.js';
import { readPageInWorker, ReadStoppedError } from '../input/extraction-pool.js';
import { decodeArticle, type ReadArticle } from '../input/read.js';
import { renderArticleHtml } from '../output/html.js';
import type { ArticleOutput } from '../output/schema.js';
import { renderArticleJson } from '../output/json.js';
import { articleStatus } from '../run/process-file.js';
import { keepAllLines, removeBoilerplate } from '../stages/clean.js';
import { detectLanguage } from '../stages/detect.js';
import { segmentSentences } from '../stages/segment.js';
import { summarizeArticle } from '../stages/summarize.js';
import { type TranslationBackend, translateArticle } from '../stages/translate.js';
import type { ServeEngine } from './engine.js';
import { HttpError } from './errors.js';

export interface ArticleRequest {
  /** The article's text, or a whole web page when `html` is true. */
  body: string;
  html: boolean;
}

export interface ArticleAnswer {
  record: ArticleOutput;
  /** The bilingual reading page, the `<id>.html` `run` writes. */
  page(): string;
}

/**
 * Reads the article as `run` reads a file (a page is extracted in a worker thread), then clean →
 * detect → segment → translate → summarize with the shared engine. Its sentences hold places in the
 * bounded queue, and `signal` (the request's deadline) drops those not yet translated.
 */
export async function processArticle(engine: ServeEngine, request: ArticleRequest, signal: AbortSignal): Promise<ArticleAnswer> {
  const { config } = engine;
  const bytes = Buffer.from(request.body, 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // Named by its content: the same article sent twice gets the same id.
  const id = `request-${sha256.slice(0, 16)}`;
  const path = `${id}.${request.html ? 'html' : 'txt'}`;
  const read = await readArticle(
    bytes,
    { path, id, maxBytes: config.serve.bodyLimitBytes, limits: config.input.html },
    request.html,
    signal,
  );
  const timings: Record<string, number> = {};
  const started = performance.now();
  const article = { ...read, id };
  const cleaned = config.clean.enabled ? removeBoilerplate(article) : keepAllLines(article);
  const segmented = segmentSentences(detectLanguage(cleaned, engine.services.detector));
  const sentences = segmented.paragraphs.reduce((sum, paragraph) => sum + paragraph.sentences.length, 0);
  const translated = await engine.admission.hold(sentences, () =>
    translateArticle(segmented, deadlineBackend(engine, signal), { maxChars: config.translation.maxArticleChars }),
  );
  // A deadline inside the translate stage leaves sentences without English; the client gets the deadline's error instead.
  if (signal.aborted) throw signal.reason;
  const summarized: SummarizedArticle = summarizeArticle(translated, config.summary);
  timings.stages = performance.now() - started;
  const said = articleStatus(read, summarized);
  const record = renderArticleJson(summarized, {
    status: said.status,
    ...(said.reason ? { reason: said.reason } : {}),
    models: summarized.translation.models,
    timings,
    fingerprint: createHash('sha256').update(`${sha256}\n${engine.services.settings}`).digest('hex'),
  });
  return { record, page: () => renderArticleHtml(summarized, said) };
}

async function readArticle(
  bytes: Buffer,
  file: { path: string; id: string; maxBytes: number; limits: ServeEngine['config']['input']['html'] },
  html: boolean,
  signal: AbortSignal,
): Promise<ReadArticle> {
  try {
    if (!html) return decodeArticle(bytes, file.path, file.id);
    return await readPageInWorker(bytes, file, { deadlineSeconds: file.limits.extractSeconds, signal });
  } catch (error) {
    if (error instanceof ReadStoppedError) throw signal.reason;
    if (error instanceof InputError) throw new HttpError(400, error.message);
    throw error;
  }
}

/** The shared backend with the request's deadline on every call. */
function deadlineBackend(engine: ServeEngine, signal: AbortSignal): TranslationBackend {
  const { backend } = engine.services;
  return {
    supports: (lang: LanguageCode) => engine.supports(lang),
    translate: (lang, sources) => backend.translate(lang, sources, signal),
  };
}
