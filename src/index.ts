/**
 * newsbridge as a library: the whole run (`runPipeline`), each stage on its own, and the edges they
 * need (config, language detector, Translator, translation memory, model store).
 */
export * from './article.js';
export { applyOverrides, ConfigError, configSchema, defaultConfig, loadConfig, parseConfig } from './config.js';
export type { ConfigOverrides, ModelSpec, PipelineConfig } from './config.js';
export { runPipeline } from './pipeline.js';
export type { RunEvents, RunOptions } from './pipeline.js';
export { decodeArticle, InputError, listArticleFiles, readArticleFile } from './read.js';
export type { ReadArticle, ReadWarning } from './read.js';
export { findRepeatedLines, keepAllLines, removeBoilerplate } from './clean.js';
export { detectLanguage, LanguageDetector } from './detect.js';
export { segmentSentences, splitSentences } from './segment.js';
export { translateArticle } from './translate.js';
export type { SentenceTarget, TranslationBackend } from './translate.js';
export { ModelTranslationBackend } from './translation-backend.js';
export { Translator, TranslatorPool } from './translator.js';
export type { SentenceTranslation, TranslatorOptions } from './translator.js';
export { chooseSummarySentences, summarizeArticle } from './summarize.js';
export { articleOutputSchema, manifestLineSchema, renderArticleJson, renderArticleMarkdown, writeFileAtomic } from './write.js';
export type { ArticleOutput, ManifestLine } from './write.js';
export { buildRunReport, runReportSchema } from './report.js';
export type { ArticleOutcome, ArticleStatus, RunReport } from './report.js';
export { TranslationMemory } from './cache.js';
export { listModels, ModelUnavailableError, pullModel, verifyModel } from './models.js';
