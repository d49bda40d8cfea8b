import path from 'node:path';
import type { ModelDtype } from '../../src/config/config.js';
import type { TranslatorOptions } from '../../src/translation/translator.js';

/**
 * Options for a Translator on a generated tiny hub model (`<modelsDir>/Xenova/opus-mt-<lang>-en`):
 * greedy, no repetition rules, one intra-op thread; `overrides` set what a test is about.
 */
export function tinyTranslatorOptions(
  modelsDir: string,
  lang: 'ar' | 'vi',
  dtype: ModelDtype,
  overrides: Partial<TranslatorOptions> = {},
): TranslatorOptions {
  const id = `Xenova/opus-mt-${lang}-en`;
  return {
    modelDir: path.join(modelsDir, id),
    model: { lang, id, revision: 'main', dtype },
    dtype,
    batchTokens: 512,
    maxInputTokens: 512,
    maxNewTokensRatio: 2,
    numBeams: 1,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
    threadsPerWorker: 1,
    ...overrides,
  };
}
