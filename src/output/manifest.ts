import type { ArticleReason, ArticleStatus, SummarizedArticle } from '../article.js';
import type { OutputFormat } from '../config/config.js';
import type { ManifestLine } from './schema.js';

/** One line of `manifest.jsonl` per article: its status and the output files it has. */

export interface ManifestEntry {
  id: string;
  source: string;
  status: ArticleStatus;
  reason?: ArticleReason;
  /** For a `skipped` article: the status and reason of the outputs it kept. */
  output?: { status: 'ok' | 'partial'; reason?: ArticleReason };
  outputs: OutputFiles;
  /**
   * The article, or its output from an earlier run for a skipped one; absent when the article never
   * got through the pipeline (failed to read, for instance).
   */
  article?: Pick<SummarizedArticle, 'language'> & { summary: { pairs: { target: string | null }[] } };
}

/** One line of `manifest.jsonl`, newline included. */
export function manifestLine(entry: ManifestEntry): string {
  const line: ManifestLine = {
    id: entry.id,
    source: entry.source,
    status: entry.status,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.output !== undefined ? { output: entry.output } : {}),
    outputs: { ...entry.outputs },
    language: entry.article ? { lang: entry.article.language.lang, confidence: entry.article.language.confidence } : null,
    summary: entry.article ? entry.article.summary.pairs.map((pair) => pair.target) : [],
  };
  return `${JSON.stringify(line)}\n`;
}

/** An article's output files by format, relative to the output directory. */
export type OutputFiles = Partial<Record<OutputFormat, string>>;

/** Output file names of an article, relative to the output directory (`news/001.json`). */
export function outputFileNames(id: string, formats: readonly OutputFormat[]): OutputFiles {
  return Object.fromEntries(formats.map((format) => [format, `${id}.${format}`]));
}
