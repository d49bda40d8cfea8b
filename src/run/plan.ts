/**
 * The incremental decision: whether this run makes an article's outputs again or keeps the ones the
 * last run left. Pure, so it is tested without a disk; the runner reads what it needs and acts on it.
 */
import type { ArticleReason } from '../article.js';
import type { ArticleOutput } from '../output/schema.js';

/** What the last run left for one article, as the runner found it on disk. */
export interface PreviousOutputs {
  /** The article's JSON output, parsed; null when absent, unreadable or of another schema. */
  json: ArticleOutput | null;
  /** Every other output file the configured formats call for is there. */
  othersPresent: boolean;
}

export type ArticleDecision =
  | { action: 'skip'; previous: ArticleOutput }
  | { action: 'process'; because: 'new' | 'forced' | 'changed' | 'incomplete' | 'not-final' | 'failed' };

/** Reasons whose output a rerun with the same input and settings would only make again. */
const FINAL_REASONS = new Set<ArticleReason | undefined>([
  undefined,
  'unsupported-language',
  'invalid-utf8',
  'invalid-utf16',
  'model-unavailable',
  'over-budget',
]);

/**
 * Skip when the outputs were made from the same input and settings (`fingerprint`), are all there,
 * and say the article is done; process otherwise, saying why.
 */
export function planArticle(fingerprint: string, previous: PreviousOutputs, options: { force: boolean }): ArticleDecision {
  if (options.force) return { action: 'process', because: 'forced' };
  const { json } = previous;
  if (json === null) return { action: 'process', because: 'new' };
  if (json.fingerprint !== fingerprint) return { action: 'process', because: 'changed' };
  if (!previous.othersPresent) return { action: 'process', because: 'incomplete' };
  if (json.status === 'failed') return { action: 'process', because: 'failed' };
  if (!FINAL_REASONS.has(json.reason)) return { action: 'process', because: 'not-final' };
  return { action: 'skip', previous: json };
}
