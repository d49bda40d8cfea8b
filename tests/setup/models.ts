/**
 * Vitest global setup: generates the tiny test models once per test run (skipped when the stamp in
 * each folder shows the same generator version, options and corpus) in the transformers.js
 * local-model layout, `tests/.models/<model id>/`, and provides that folder to tests:
 *
 *   import { inject } from 'vitest';
 *   env.localModelPath = inject('modelsDir');
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { type MakeModelOptions, isUpToDate, makeModel } from '../../tools/make-model.js';

export const MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.models');

export const TEST_MODELS = [
  { id: 'Xenova/opus-mt-ar-en', seed: 1, sourceLang: 'ar' },
  { id: 'Xenova/opus-mt-vi-en', seed: 2, sourceLang: 'vi' },
] as const;

export function testModelOptions(model: (typeof TEST_MODELS)[number]): MakeModelOptions {
  return { preset: 'tiny', out: path.join(MODELS_DIR, model.id), seed: model.seed, sourceLang: model.sourceLang };
}

export default async function setup(project: TestProject): Promise<void> {
  for (const model of TEST_MODELS) {
    const options = testModelOptions(model);
    if (!(await isUpToDate(options))) await makeModel(options);
  }
  project.provide('modelsDir', MODELS_DIR);
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder holding the generated tiny models as `<model id>/` (transformers.js localModelPath). */
    modelsDir: string;
  }
}
