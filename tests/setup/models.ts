/**
 * Vitest global setup: generates the tiny test models once per test run (skipped when the stamp in
 * each folder shows the same generator version, options and corpus) in the transformers.js
 * local-model layout, `tests/.models/<model id>/`, and provides that folder to tests:
 *
 *   import { inject } from 'vitest';
 *   env.localModelPath = inject('modelsDir');
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { type MakeModelOptions, isUpToDate, makeModel } from '../../tools/make-model.js';

export const MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.models');

export const TEST_MODELS = [
  { id: 'Xenova/opus-mt-ar-en', seed: 1, sourceLang: 'ar' },
  { id: 'Xenova/opus-mt-vi-en', seed: 2, sourceLang: 'vi' },
  // A third source language with no row in src/languages.ts: tests/languages.test.ts runs it end to end.
  { id: 'Xenova/opus-mt-id-en', seed: 3, sourceLang: 'id' },
] as const;

/** A tiny ar→en model whose `</s>` is likely, so outputs end at different lengths (decoder tests). */
export const EARLY_EOS_MODEL = { id: 'newsbridge/early-eos-ar-en', seed: 3, sourceLang: 'ar', eosBias: 1.35 } as const;

export function testModelOptions(model: (typeof TEST_MODELS)[number] | typeof EARLY_EOS_MODEL): MakeModelOptions {
  const eosBias = 'eosBias' in model ? model.eosBias : undefined;
  return { preset: 'tiny', out: path.join(MODELS_DIR, model.id), seed: model.seed, sourceLang: model.sourceLang, eosBias };
}

/** A lock directory, so concurrent vitest runs (several developers' sessions) generate once. */
async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  const staleAfterMs = 120_000;
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(lockDir).then((s) => Date.now() - s.mtimeMs, () => 0);
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

export default async function setup(project: TestProject): Promise<void> {
  await withLock(`${MODELS_DIR}.lock`, async () => {
    for (const model of [...TEST_MODELS, EARLY_EOS_MODEL]) {
      const options = testModelOptions(model);
      if (!(await isUpToDate(options))) await makeModel(options);
    }
  });
  project.provide('modelsDir', MODELS_DIR);
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder holding the generated tiny models as `<model id>/` (transformers.js localModelPath). */
    modelsDir: string;
  }
}
