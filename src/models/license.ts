/**
 * A model's licence, recorded in its manifest and shown by `models pull` and `models list`: what the
 * hub's model card says (`cardData.license`), else what the model's family is published under, known
 * here by its id (a transformers.js copy such as Xenova/nllb-200-distilled-600M often states none).
 * The hub's word wins: it is the repository's own.
 */

export interface ModelLicense {
  /** The hub's licence identifier, lower case: `cc-by-nc-4.0`, `apache-2.0`, `mit`. */
  id: string;
  /** Where it was read: the repository's model card, or the known licence of the model's family. */
  source: 'model card' | 'model family';
}

/** The families' published licences (their model cards on the hub), most specific first. */
const FAMILY_LICENSES: { family: string; pattern: RegExp; license: string }[] = [
  { family: 'NLLB-200', pattern: /(^|\/)nllb-/i, license: 'cc-by-nc-4.0' },
  { family: 'M2M-100', pattern: /(^|\/)m2m100/i, license: 'mit' },
  { family: 'OPUS-MT tc-big', pattern: /(^|\/)opus-mt-tc-/i, license: 'cc-by-4.0' },
  { family: 'OPUS-MT', pattern: /(^|\/)opus-mt-/i, license: 'apache-2.0' },
];

/** The licence the hub's model card gives (a string, or the first of a list), lower case; null when it gives none. */
export function cardLicense(cardData: { license?: unknown } | undefined): string | null {
  const license = Array.isArray(cardData?.license) ? cardData.license[0] : cardData?.license;
  return typeof license === 'string' && license.trim() !== '' ? license.trim().toLowerCase() : null;
}

/** A model's licence: the model card's when the hub gave one, else its family's; null when neither is known. */
export function modelLicense(id: string, fromCard: string | null): ModelLicense | null {
  if (fromCard) return { id: fromCard, source: 'model card' };
  const family = FAMILY_LICENSES.find((entry) => entry.pattern.test(id));
  return family ? { id: family.license, source: 'model family' } : null;
}

/** Creative Commons NonCommercial licences (`cc-by-nc-4.0`, `cc-by-nc-sa-4.0`, …) forbid commercial use. */
export function isNonCommercial(license: ModelLicense | null): boolean {
  return license !== null && /(^|-)nc(-|$)/.test(license.id);
}

/** The warning for a model whose licence forbids commercial use; null for any other. */
export function licenseWarning(modelId: string, license: ModelLicense | null): string | null {
  if (!license || !isNonCommercial(license)) return null;
  return `warning: ${modelId} is licensed ${license.id} (${license.source}): non-commercial use only; its translations may not be used for commercial purposes. Pick a model with a commercial-use licence (see docs/models.md, Choosing a model) if that is what you need`;
}

/** How `models list` shows a licence: its id, `unknown` when none is known. */
export function licenseLabel(license: ModelLicense | null): string {
  return license ? `${license.id}${isNonCommercial(license) ? ' (non-commercial)' : ''}` : 'licence unknown';
}
