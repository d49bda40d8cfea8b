/**
 * What differs between the model families newsbridge runs at inference, one row per config.json
 * `model_type`, the way src/languages.ts holds what differs by language: where the language tokens go
 * and which language-code scheme names them. A model's family and shapes are read from its
 * config.json by one reader, `architectureFromConfig` (../models/convert/architecture.ts), which the
 * converter uses too. Ids are never written here: they are read from the model's tokenizer.json.
 */
import type { LanguageCode } from '../article.js';
import { languageByCode, TARGET_LANGUAGE } from '../languages.js';
import type { Family } from '../models/convert/architecture.js';

/** How a model's language tokens are spelled: NLLB-200's `arb_Arab`, M2M-100's `__ar__`. */
export type LanguageCodeScheme = 'nllb' | 'm2m100';

export interface ModelFamily {
  name: Family;
  /**
   * Whether the encoder input is `[source language] tokens </s>` (M2M-100 and NLLB, as transformers.js'
   * M2M100Tokenizer and NllbTokenizer build it) rather than `tokens </s>` (Marian: one model per pair).
   */
  sourceLanguageToken: boolean;
  /**
   * Whether the target-language token is forced right after the decoder start token (Hugging Face
   * `forced_bos_token_id`, the `tgt_lang` of its translation pipeline).
   */
  forcesTargetLanguage: boolean;
}

export const FAMILIES: Record<Family, ModelFamily> = {
  marian: { name: 'marian', sourceLanguageToken: false, forcesTargetLanguage: false },
  m2m_100: { name: 'm2m_100', sourceLanguageToken: true, forcesTargetLanguage: true },
};

/** The special tokens of a tokenizer.json (`added_tokens`), by content. */
export function specialTokenIds(tokenizerJson: { added_tokens?: { content: string; id: number }[] }): Record<string, number> {
  return Object.fromEntries((tokenizerJson.added_tokens ?? []).map((token) => [token.content, token.id]));
}

/** The scheme whose English token the tokenizer has, or null (a Marian tokenizer has none). */
export function codeSchemeOf(specialIds: Readonly<Record<string, number>>): LanguageCodeScheme | null {
  if (languageToken('nllb', TARGET_LANGUAGE) in specialIds) return 'nllb';
  if (languageToken('m2m100', TARGET_LANGUAGE) in specialIds) return 'm2m100';
  return null;
}

/** A language's token in a scheme: `arb_Arab` (the `nllbCode` column of languages.ts) or `__ar__`. */
export function languageToken(scheme: LanguageCodeScheme, lang: LanguageCode): string {
  if (scheme === 'm2m100') return `__${lang}__`;
  const code = languageByCode(lang)?.nllbCode;
  if (!code) throw new Error(`src/languages.ts: language ${lang} has no nllbCode; add its NLLB-200 code (such as arb_Arab) to its row`);
  return code;
}

/** The id of a language's token in a model, with the fix when the model does not have it. */
export function languageTokenId(specialIds: Readonly<Record<string, number>>, scheme: LanguageCodeScheme, lang: LanguageCode): number {
  const token = languageToken(scheme, lang);
  const id = specialIds[token];
  if (id === undefined)
    throw new Error(`the model's tokenizer.json has no ${token} token: it does not translate ${lang}; pick another model`);
  return id;
}
