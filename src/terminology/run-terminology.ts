import type { LanguageCode } from '../article.js';
import type { PipelineConfig } from '../config/config.js';
import { loadGlossary } from './glossary.js';
import type { TerminologySettings } from './terminology.js';

/** Per source language, the terminology its sentences are translated under. */
export type RunTerminology = ReadonlyMap<LanguageCode, TerminologySettings>;

/**
 * The run's terminology from `translation.glossary` and `translation.doNotTranslate`: each glossary
 * loaded once, before any article, so a bad file (`GlossaryError`, file:line) stops the run at once.
 * Languages with a model but no glossary get the do-not-translate spans alone.
 */
export async function loadRunTerminology(translation: PipelineConfig['translation']): Promise<RunTerminology> {
  const doNotTranslate = translation.doNotTranslate;
  const terminology = new Map<LanguageCode, TerminologySettings>();
  for (const lang of Object.keys(translation.models)) if (doNotTranslate.length > 0) terminology.set(lang, { doNotTranslate });
  for (const [lang, file] of Object.entries(translation.glossary))
    terminology.set(lang, { glossary: await loadGlossary(file), doNotTranslate });
  return terminology;
}
