import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { TranslationMemory } from '../../src/translation/memory.js';
import { defaultConfig } from '../../src/config/config.js';
import { ModelTranslationBackend } from '../../src/translation/backend.js';
import { weightsFingerprint } from '../../src/translation/translator.js';
import { TranslatorPool } from '../../src/translation/translator-pool.js';
import { ModelUnavailableError } from '../../src/errors.js';

const SENTENCES = [
  'Giá xăng giảm lần thứ ba liên tiếp.',
  'Liên Bộ Công Thương vừa quyết định giảm giá xăng dầu.',
  'Đây là lần giảm giá thứ ba liên tiếp kể từ đầu tháng.',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-backend-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A backend as the pipeline builds it: the pool reports its batches to the backend's counters. */
function backendWith(
  modelsDir: string,
  memory: TranslationMemory | null,
  onUnavailable?: (lang: string, error: Error) => void,
  decoding: Partial<typeof defaultConfig.translation> = {},
) {
  let backend: ModelTranslationBackend;
  const pool = new TranslatorPool(
    { ...defaultConfig.translation, modelsDir, maxNewTokensRatio: 1, ...decoding },
    { onBatch: (batch) => backend.countBatch(batch.sentences) },
  );
  backend = new ModelTranslationBackend(pool, memory, onUnavailable);
  return { backend, pool };
}

const open: { pool: TranslatorPool; memory: TranslationMemory | null }[] = [];
afterEach(async () => {
  for (const { pool, memory } of open.splice(0)) {
    await pool.dispose();
    memory?.close();
  }
});

describe('ModelTranslationBackend', () => {
  it('translates duplicates once, and a later request (a later run) answers from the translation memory', async () => {
    const cachePath = path.join(dir, 'memory.sqlite');
    const memory = TranslationMemory.open(cachePath);
    const first = backendWith(inject('modelsDir'), memory);
    open.push({ pool: first.pool, memory });

    const sources = [SENTENCES[0]!, SENTENCES[1]!, SENTENCES[0]!, SENTENCES[2]!];
    const translated = await first.backend.translate('vi', sources);
    expect(first.backend.usage).toEqual({ modelCalls: 1, sentencesToModel: 3, cacheHits: 0 });
    expect(translated.model).toEqual({
      lang: 'vi',
      id: 'Xenova/opus-mt-vi-en',
      revision: 'main',
      dtype: 'q8',
      weights: await weightsFingerprint(path.join(inject('modelsDir'), 'Xenova/opus-mt-vi-en'), 'q8'),
    });
    expect(translated.targets).toHaveLength(4);
    expect(translated.targets[2]).toEqual(translated.targets[0]);
    for (const { target } of translated.targets) expect(target.length).toBeGreaterThan(0);
    expect(memory.stats().sentences).toBe(3);

    const again = await first.backend.translate('vi', [SENTENCES[2]!, SENTENCES[0]!]);
    expect(first.backend.usage).toEqual({ modelCalls: 1, sentencesToModel: 3, cacheHits: 2 });
    expect(again.targets).toEqual([translated.targets[3], translated.targets[0]]);

    // A new run: a new pool and backend over the same memory file.
    memory.close();
    open.length = 0;
    await first.pool.dispose();
    const reopened = TranslationMemory.open(cachePath);
    const second = backendWith(inject('modelsDir'), reopened);
    open.push({ pool: second.pool, memory: reopened });
    const rerun = await second.backend.translate('vi', sources);
    expect(second.backend.usage).toEqual({ modelCalls: 0, sentencesToModel: 0, cacheHits: 4 });
    expect(rerun.targets).toEqual(translated.targets);
  });

  it('does not answer from translations made with other decoding settings (beams, q8 activations)', async () => {
    const memory = TranslationMemory.open(path.join(dir, 'settings.sqlite'));
    const greedy = backendWith(inject('modelsDir'), memory, undefined, { numBeams: 1 });
    open.push({ pool: greedy.pool, memory: null });
    await greedy.backend.translate('vi', [SENTENCES[0]!]);
    const beams = backendWith(inject('modelsDir'), memory, undefined, { numBeams: 2 });
    const perBatch = backendWith(inject('modelsDir'), memory, undefined, { numBeams: 1, q8Activations: 'per-batch' });
    const sameAgain = backendWith(inject('modelsDir'), memory, undefined, { numBeams: 1 });
    open.push({ pool: beams.pool, memory: null }, { pool: perBatch.pool, memory: null }, { pool: sameAgain.pool, memory });
    await beams.backend.translate('vi', [SENTENCES[0]!]);
    await perBatch.backend.translate('vi', [SENTENCES[0]!]);
    await sameAgain.backend.translate('vi', [SENTENCES[0]!]);
    expect(beams.backend.usage.sentencesToModel).toBe(1);
    expect(perBatch.backend.usage.sentencesToModel).toBe(1);
    expect(sameAgain.backend.usage).toEqual({ modelCalls: 0, sentencesToModel: 0, cacheHits: 1 });
    expect(memory.stats().sentences).toBe(3);
  });

  it('sends only the sentences the memory does not know', async () => {
    const memory = TranslationMemory.open(path.join(dir, 'partial.sqlite'));
    const { backend, pool } = backendWith(inject('modelsDir'), memory);
    open.push({ pool, memory });
    await backend.translate('vi', [SENTENCES[0]!]);
    await backend.translate('vi', [SENTENCES[0]!, SENTENCES[1]!, SENTENCES[2]!]);
    expect(backend.usage).toEqual({ modelCalls: 2, sentencesToModel: 3, cacheHits: 1 });
  });

  it('works without a translation memory, still translating duplicates once', async () => {
    const { backend, pool } = backendWith(inject('modelsDir'), null);
    open.push({ pool, memory: null });
    const { targets } = await backend.translate('vi', [SENTENCES[1]!, SENTENCES[1]!]);
    expect(backend.usage).toEqual({ modelCalls: 1, sentencesToModel: 1, cacheHits: 0 });
    expect(targets[0]).toEqual(targets[1]);
    await backend.translate('vi', [SENTENCES[1]!]);
    expect(backend.usage.modelCalls).toBe(2);
  });

  it('translates a sentence once when two requests in flight at the same time both need it', async () => {
    const { backend, pool } = backendWith(inject('modelsDir'), null);
    open.push({ pool, memory: null });
    const [first, second] = await Promise.all([
      backend.translate('vi', [SENTENCES[0]!, SENTENCES[1]!]),
      backend.translate('vi', [SENTENCES[1]!, SENTENCES[2]!]),
    ]);
    expect(backend.usage).toEqual({ modelCalls: 1, sentencesToModel: 3, cacheHits: 1 });
    expect(second.targets[0]).toEqual(first.targets[1]);
  });

  it('reports a model that cannot be loaded once per language, and every request still fails with its message', async () => {
    const emptyModels = path.join(dir, 'no-models');
    const heard: string[] = [];
    const { backend, pool } = backendWith(emptyModels, null, (lang, error) => heard.push(`${lang}: ${error.message}`));
    open.push({ pool, memory: null });

    for (let i = 0; i < 3; i++) {
      const failure = await backend.translate('ar', [`جملة رقم ${i}.`]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ModelUnavailableError);
      expect((failure as Error).message).toContain(path.join(emptyModels, 'Xenova', 'opus-mt-ar-en'));
    }
    await backend.translate('vi', [SENTENCES[0]!]).catch(() => undefined);
    expect(heard).toHaveLength(2);
    expect(heard[0]).toMatch(/^ar: model Xenova\/opus-mt-ar-en \(ar\) is unavailable: .* Fix: /);
    expect(heard[1]).toMatch(/^vi: model Xenova\/opus-mt-vi-en \(vi\) is unavailable/);
    expect(backend.usage).toEqual({ modelCalls: 0, sentencesToModel: 0, cacheHits: 0 });
  });

  it('supports exactly the configured languages', () => {
    const { backend, pool } = backendWith(inject('modelsDir'), null);
    open.push({ pool, memory: null });
    expect(backend.supports('ar')).toBe(true);
    expect(backend.supports('vi')).toBe(true);
    expect(backend.supports('fa')).toBe(false);
    expect(backend.supports('en')).toBe(false);
  });
});
