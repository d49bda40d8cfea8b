/**
 * Vitest global setup: generates the tiny test models once per test run (tools/test-models.ts) and
 * provides their folder to tests:
 *
 *   import { inject } from 'vitest';
 *   env.localModelPath = inject('modelsDir');
 */
import type { TestProject } from 'vitest/node';
import { ensureTestModels } from '../../tools/test-models.js';

export default async function setup(project: TestProject): Promise<void> {
  project.provide('modelsDir', await ensureTestModels());
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder holding the generated tiny models as `<model id>/` (transformers.js localModelPath). */
    modelsDir: string;
  }
}
