import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { ModelTranslationBackend } from '../../src/translation/backend.js';
import { TranslatorPool } from '../../src/translation/translator-pool.js';

// A sentence two callers (two server requests) ask for at once is translated once, for the first;
// the first caller's stop (its deadline, its client gone) must not fail the second.

let pool: TranslatorPool;
let backend: ModelTranslationBackend;

beforeAll(async () => {
  pool = new TranslatorPool({ ...defaultConfig.translation, modelsDir: inject('modelsDir'), numBeams: 1, workers: 1 });
  backend = new ModelTranslationBackend(pool, null);
  await pool.get('vi');
});
afterAll(async () => pool?.dispose());

const SENTENCE = 'Giá xăng giảm lần thứ ba liên tiếp.';

it('a sentence shared with a request that stops before its batch is translated for the request still waiting', async () => {
  const [alone] = (await backend.translate('vi', ['Đây là một câu khác.', SENTENCE])).targets.slice(1);
  const first = new AbortController();
  const second = new AbortController();
  const stoppedFirst = backend.translate('vi', [SENTENCE], first.signal);
  // Both calls are made before either reaches the batcher: the second finds the sentence in flight for the first.
  const waiting = backend.translate('vi', [SENTENCE], second.signal);
  first.abort(new Error('the first request timed out'));
  await expect(stoppedFirst).rejects.toThrow('the first request timed out');
  const { targets } = await waiting;
  expect(targets[0]!.target).toBe(alone!.target);
});

it('the waiting request still stops on its own signal', async () => {
  const first = new AbortController();
  const second = new AbortController();
  const stoppedFirst = backend.translate('vi', [`${SENTENCE} Một lần nữa.`], first.signal);
  const stoppedSecond = backend.translate('vi', [`${SENTENCE} Một lần nữa.`], second.signal);
  first.abort(new Error('first stopped'));
  second.abort(new Error('second stopped'));
  await expect(stoppedFirst).rejects.toThrow('first stopped');
  await expect(stoppedSecond).rejects.toThrow('second stopped');
});
