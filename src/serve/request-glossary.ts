/**
 * A glossary sent with a request (`glossary` in POST /translate): the same TSV/CSV rows as a
 * `translation.glossary` file (../terminology/glossary.ts), parsed by the same code, with limits.
 */
import { type Glossary, GlossaryError, parseGlossary } from '../terminology/glossary.js';
import type { TerminologySettings } from '../terminology/terminology.js';
import { badParameter, HttpError } from './errors.js';

/** Most rows and characters a request's glossary may have: a glossary of terms, not a document. */
export const REQUEST_GLOSSARY_LIMITS = { entries: 1000, chars: 100_000 };

/** The request's glossary, none when absent; a 400 naming the problem (and the row) when it cannot be used. */
export function requestGlossary(value: unknown): Glossary | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw badParameter('glossary', 'parameter must be a string (TSV or CSV rows: source term, English term)');
  if (value.length > REQUEST_GLOSSARY_LIMITS.chars)
    throw new HttpError(400, `Invalid request: glossary (${value.length} characters) exceeds the limit (${REQUEST_GLOSSARY_LIMITS.chars})`);
  let glossary: Glossary;
  try {
    glossary = parseGlossary(value, 'glossary');
  } catch (error) {
    if (error instanceof GlossaryError) throw new HttpError(400, `Invalid request: ${error.message}`);
    throw error;
  }
  if (glossary.entries.length > REQUEST_GLOSSARY_LIMITS.entries)
    throw new HttpError(
      400,
      `Invalid request: glossary (${glossary.entries.length} rows) exceeds the limit (${REQUEST_GLOSSARY_LIMITS.entries})`,
    );
  return glossary;
}

/**
 * A language's terminology for one request: the request's rows first, then the configured glossary's
 * rows for source terms the request does not give (the request's English wins), and the configured
 * do-not-translate kinds.
 */
export function withRequestGlossary(
  configured: TerminologySettings | undefined,
  glossary: Glossary,
  doNotTranslate: TerminologySettings['doNotTranslate'],
): TerminologySettings {
  const given = new Set(glossary.entries.map((entry) => entry.source));
  const kept = configured?.glossary?.entries.filter((entry) => !given.has(entry.source)) ?? [];
  return { glossary: { name: glossary.name, entries: [...glossary.entries, ...kept] }, doNotTranslate };
}
