import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { modelSearchSettings, type SearchSettings } from '../../src/translation/decoder.js';
import { InferencePool, InferenceWorkerError } from '../../src/translation/inference-pool.js';
import { Translator } from '../../src/translation/translator.js';
import { tinyTranslatorOptions } from '../helpers/translator-options.js';

const SENTENCE = 'قال رئيس الوزراء الياباني فوميو كيشيدا، الجمعة، إنه يريد تعزيز التعاون العسكري مع الولايات المتحدة.';

describe('InferencePool on a generated tiny MarianMT model', () => {
  const modelDir = path.join(inject('modelsDir'), 'Xenova', 'opus-mt-ar-en');
  let pool: InferencePool;
  let settings: SearchSettings;
  let translator: Translator;
  let ids: number[];

  beforeAll(async () => {
    pool = await InferencePool.open({ modelDir, session: { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: 1 }, workers: 1 });
    settings = { ...modelSearchSettings(pool.info), numBeams: 1 };
    translator = await Translator.load(tinyTranslatorOptions(inject('modelsDir'), 'ar', 'fp32', { batchTokens: 4096 }));
    ids = translator.tokenize(SENTENCE);
  });

  afterAll(async () => {
    await Promise.all([pool.close(), translator.dispose()]);
  });

  it('decodes in a worker thread, not on the main thread', async () => {
    const { outputs, threadId: worker } = await pool.decode([{ ids, maxNewTokens: 5 }], settings);
    expect(outputs[0]).toHaveLength(5);
    expect(worker).not.toBe(threadId);
    expect(pool.threads.map((thread) => thread.threadId)).toContain(worker);
  });

  it('a session that throws fails only its own batch; the worker goes on', async () => {
    const outOfVocabulary = [...ids.slice(0, 3), pool.info.vocabSize + 10, ids.at(-1)!];
    const [bad, good] = await Promise.allSettled([
      pool.decode([{ ids: outOfVocabulary, maxNewTokens: 5 }], settings),
      pool.decode([{ ids, maxNewTokens: 5 }], settings),
    ]);
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/Gather|indices/);
    expect(good.status).toBe('fulfilled');
  });

  it('a worker that dies mid-batch fails only the batch it held; a new worker takes the queue', async () => {
    const [first] = pool.threads;
    const held = pool.decode([{ ids, maxNewTokens: 400, minNewTokens: 400 }], settings);
    const queued = pool.decode([{ ids, maxNewTokens: 7 }], settings);
    // A message the worker cannot read makes it throw and stop, between two of its decoder steps.
    first!.postMessage('not a decode request');
    await expect(held).rejects.toBeInstanceOf(InferenceWorkerError);
    const { outputs, threadId: replacement } = await queued;
    expect(outputs[0]).toHaveLength(7);
    expect(replacement).not.toBe(first!.threadId);
    expect(pool.threads).toHaveLength(1);
    expect((await pool.decode([{ ids, maxNewTokens: 3 }], settings)).outputs[0]).toHaveLength(3);
  });

  it('keeps the event loop responsive while a long batch decodes', async () => {
    // What a blocked loop would show is a delay as long as the batch, so the batch is sized from this
    // machine's own speed: rows are doubled until one decode call spans many timer intervals.
    const intervalMs = 10;
    const decodeRows = async (rows: number) => {
      const lag = monitorEventLoopDelay({ resolution: 5 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, intervalMs);
      lag.enable();
      const started = performance.now();
      const { outputs } = await pool.decode(
        Array.from({ length: rows }, () => ({ ids, maxNewTokens: 400, minNewTokens: 400 })),
        settings,
      );
      const elapsed = performance.now() - started;
      lag.disable();
      clearInterval(timer);
      return { outputs, elapsed, maxLagMs: lag.max / 1e6, ticks };
    };
    let rows = 1;
    let call = await decodeRows(rows);
    while (call.elapsed < 40 * intervalMs && rows < 256) {
      rows *= 2;
      call = await decodeRows(rows);
    }
    expect(call.outputs).toHaveLength(rows);
    expect(call.outputs.every((tokens) => tokens.length === 400)).toBe(true);
    // Decoding ran off the main thread, so timers kept firing all along: the worst delay is a small
    // part of the batch's own duration, and the timer fired for most of its intervals.
    expect(call.maxLagMs).toBeLessThan(call.elapsed / 5);
    expect(call.ticks).toBeGreaterThan(call.elapsed / intervalMs / 4);
  });

  it('a model that fails to load in some workers while others still load: open rejects, naming the file, and the process lives on', async () => {
    // Each worker opens its encoder, then fails on the damaged decoder, at its own moment: stopping the
    // others while onnxruntime is still creating their sessions used to abort the whole process.
    const damaged = mkdtempSync(path.join(tmpdir(), 'newsbridge-pool-'));
    try {
      cpSync(modelDir, damaged, { recursive: true });
      writeFileSync(path.join(damaged, 'onnx', 'decoder_model_merged.onnx'), 'not an onnx file');
      const opening = InferencePool.open({
        modelDir: damaged,
        session: { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: 1 },
        workers: 4,
      });
      await expect(opening).rejects.toThrow(/decoder_model_merged\.onnx/);
      // The pool still works for a good model afterwards, in the same process.
      const good = await InferencePool.open({
        modelDir,
        session: { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: 1 },
        workers: 2,
      });
      expect((await good.decode([{ ids, maxNewTokens: 3 }], settings)).outputs[0]).toHaveLength(3);
      await good.close();
    } finally {
      rmSync(damaged, { recursive: true, force: true });
    }
  });
});
