/**
 * The tiny MarianMT and M2M-100 models the tests, the crash harness and the smoke benchmarks run on, generated
 * into `tests/.models/<model id>/` (the transformers.js local-model layout) when missing or stale.
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MakeModelOptions, isUpToDate, makeModel } from './make-model.js';
import { repoRoot } from './repo-root.js';

export const MODELS_DIR = path.join(repoRoot, 'tests', '.models');

export const TEST_MODELS = [
  { id: 'Xenova/opus-mt-ar-en', seed: 1, sourceLang: 'ar' },
  { id: 'Xenova/opus-mt-vi-en', seed: 2, sourceLang: 'vi' },
  // A third source language with no row in src/languages.ts: tests/languages.test.ts runs it end to end.
  { id: 'Xenova/opus-mt-id-en', seed: 3, sourceLang: 'id' },
] as const;

/** A model whose end-of-sentence logit is pushed up, so rows of one batch end at different steps. */
export const EARLY_EOS_MODEL = { id: 'newsbridge/early-eos-ar-en', seed: 3, sourceLang: 'ar', eosBias: 1.35 } as const;

/**
 * One M2M-100 model (NLLB-200's language codes: `arb_Arab`, `vie_Latn`, `ind_Latn`, `eng_Latn`, …)
 * for all source languages; `sourceLang` only sets the tokenizer's default `src_lang`.
 */
export const TINY_M2M100_MODEL = { id: 'newsbridge/tiny-m2m100', seed: 4, sourceLang: 'ar', preset: 'tiny-m2m100' } as const;

type TestModel = (typeof TEST_MODELS)[number] | typeof EARLY_EOS_MODEL | typeof TINY_M2M100_MODEL;

export function testModelOptions(model: TestModel): MakeModelOptions {
  const eosBias = 'eosBias' in model ? model.eosBias : undefined;
  const preset = 'preset' in model ? model.preset : 'tiny';
  return { preset, out: path.join(MODELS_DIR, model.id), seed: model.seed, sourceLang: model.sourceLang, eosBias };
}

/**
 * Generates the models that are missing or stale (the stamp in each folder records the generator
 * version, options and corpus) and returns their folder. A lock directory makes concurrent callers
 * (several test runs, a benchmark) generate once.
 */
export async function ensureTestModels(): Promise<string> {
  await withLock(`${MODELS_DIR}.lock`, async () => {
    for (const model of [...TEST_MODELS, EARLY_EOS_MODEL, TINY_M2M100_MODEL]) {
      const options = testModelOptions(model);
      if (!(await isUpToDate(options))) await makeModel(options);
    }
  });
  return MODELS_DIR;
}

async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  const staleAfterMs = 120_000;
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > staleAfterMs) await rmdir(lockDir).catch(() => undefined);
      else await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(lockDir);
  }
}
