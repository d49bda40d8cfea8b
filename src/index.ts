/**
 * newsbridge as a library: the whole run (`runPipeline`, or on a queue `runOnQueue` and `runWorker`),
 * each stage on its own, and the edges they need (config, language detector, Translator, translation
 * memory, model store); fetching (`fetchFeeds`), serving (`ServeEngine`, `buildServer`) and model
 * conversion (`convertCheckpoint`).
 */
export * from './article.js';
export * from './errors.js';
export { applyOverrides, configSchema, defaultConfig, loadConfig, parseConfig } from './config/config.js';
export type { ConfigOverrides, ModelSpec, PipelineConfig } from './config/config.js';
export { runPipeline } from './run/pipeline.js';
export type { RunEvents, RunOptions } from './run/pipeline.js';
export { runOnQueue } from './queue/run-on-queue.js';
export type { Enqueued, QueueRunEvents, QueueRunOptions } from './queue/run-on-queue.js';
export { runWorker } from './queue/worker.js';
export type { WorkerOptions } from './queue/worker.js';
export { OutputDirError, OutputLockedError } from './run/output-lock.js';
export { decodeArticle } from './input/read.js';
export { listArticleFiles } from './input/list-files.js';
export { readArticleFile, readerFor } from './input/read-file.js';
export { decodeHtml, htmlReader } from './input/html-reader.js';
export { extractArticle } from './input/html-extract.js';
export type { ExtractedArticle, NoArticle } from './input/html-extract.js';
export type { ArticleReader } from './input/reader.js';
export type { ReadArticle, ReadWarning } from './input/read.js';
export { findRepeatedLines, keepAllLines, RepeatedLineFinder, removeBoilerplate, siteOf } from './stages/clean.js';
export type { CleanOptions, RepeatedLines } from './stages/clean.js';
export { detectLanguage, LanguageDetector } from './stages/detect.js';
export { routedLanguages } from './languages.js';
export { segmentSentences, splitSentences } from './stages/segment.js';
export { translateArticle } from './stages/translate.js';
export type { SentenceTarget, TranslationBackend } from './stages/translate.js';
export { ModelTranslationBackend } from './translation/backend.js';
export { Translator } from './translation/translator.js';
export { TranslatorPool } from './translation/translator-pool.js';
export type { SentenceTranslation, TranslatorOptions } from './translation/translator.js';
export { chooseSummarySentences, summarizeArticle } from './stages/summarize.js';
export { articleOutputSchema, manifestLineSchema } from './output/schema.js';
export { renderArticleJson } from './output/json.js';
export { renderArticleMarkdown } from './output/markdown.js';
export { writeFileAtomic } from './output/atomic-write.js';
export type { ArticleOutput, ManifestLine } from './output/schema.js';
export { renderArticleHtml } from './output/html.js';
export type { PageStatus } from './output/html.js';
export { digestEntryFromManifest, digestEntryFromOutput, renderDigestHtml } from './output/digest.js';
export type { DigestEntry, RunDigest } from './output/digest.js';
export { buildRunReport, renderRunSummary, runReportSchema } from './run/report.js';
export type { ArticleOutcome, RunReport } from './run/report.js';
export { TranslationMemory } from './translation/memory.js';
export { listModels } from './models/layout.js';
export { pullModel } from './models/pull.js';
export { verifyModel } from './models/verify.js';
export { convertCheckpoint } from './models/convert/convert.js';
export { fetchFeeds, readFeedsFile } from './fetch/fetch-feeds.js';
export type { FetchFeedsOptions } from './fetch/fetch-feeds.js';
export type { FeedResult, FetchReport, PageOutcome, PageResult } from './fetch/fetch-night.js';
export { renderFetchReport } from './fetch/report.js';
export { ServeEngine } from './serve/engine.js';
export { ApiKeys } from './serve/keys.js';
export { buildServer } from './serve/server.js';
export type { ServerOptions } from './serve/server.js';
