import path from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Batcher, type BatchTiming } from '../../src/translation/batcher.js';
import { modelSearchSettings } from '../../src/translation/decoder.js';
import { InferencePool } from '../../src/translation/inference-pool.js';

// Real ONNX sessions on the generated tiny ar model; source ids are any ids of its vocabulary.

let pool: InferencePool;
beforeAll(async () => {
  const modelDir = path.join(inject('modelsDir'), 'Xenova', 'opus-mt-ar-en');
  pool = await InferencePool.open({ modelDir, session: { dtype: 'fp32', q8Activations: 'per-row', intraOpThreads: 1 }, workers: 1 });
});
afterAll(async () => pool?.close());

/** Two calls (each with a signal of its own) queue their inputs in the same turn; returns the batch sizes and outputs. */
async function twoCalls(batchAcrossCalls: boolean | undefined): Promise<{ batches: number[]; outputs: number[][][] }> {
  const batches: number[] = [];
  const batcher = new Batcher({
    pool,
    search: { ...modelSearchSettings(pool.info), numBeams: 1 },
    batchTokens: 4096,
    decodeInput: (ids) => ({ ids, maxNewTokens: 6 }),
    onBatch: (timing: BatchTiming) => batches.push(timing.sentences),
    batchAcrossCalls,
  });
  const eos = pool.info.eosId;
  const [first, second] = [new AbortController().signal, new AbortController().signal];
  const outputs = await Promise.all([
    ...[
      [10, 11, eos],
      [12, 13, 14, eos],
      [15, eos],
    ].map((ids) => batcher.enqueue(ids, first)),
    ...[
      [16, 17, eos],
      [18, 19, 20, eos],
    ].map((ids) => batcher.enqueue(ids, second)),
  ]);
  return { batches: batches.sort(), outputs };
}

it("calls share batches by default; with batchAcrossCalls off each call's inputs are batched on their own, same outputs", async () => {
  const shared = await twoCalls(undefined);
  expect(shared.batches).toEqual([5]);
  const own = await twoCalls(false);
  expect(own.batches).toEqual([2, 3]);
  expect(own.outputs).toEqual(shared.outputs);
});

it('hands a batch to the pool only when a worker is free: a caller that stops meanwhile has its inputs dropped unrun', async () => {
  const batches: number[] = [];
  const later = new AbortController();
  const batcher = new Batcher({
    pool,
    search: { ...modelSearchSettings(pool.info), numBeams: 1 },
    // Two inputs of 4 tokens a batch: the round below is three batches, longest first, for one worker.
    batchTokens: 8,
    decodeInput: (ids) => ({ ids, maxNewTokens: 4 }),
    onBatch: (timing: BatchTiming) => {
      batches.push(timing.sentences);
      // The caller of the last batch stops while the first ones run (a server request past its deadline).
      later.abort(new Error('past its deadline'));
    },
  });
  const eos = pool.info.eosId;
  const early = [
    [10, 11, 12, eos],
    [13, 14, 15, eos],
    [16, 17, 18, eos],
    [19, 20, 21, eos],
  ].map((ids) => batcher.enqueue(ids));
  // Settled up front: the stopped inputs are rejected as soon as a worker is free, before `early` is awaited.
  const stopped = [
    [22, 23, eos],
    [24, 25, eos],
  ].map((ids) =>
    batcher.enqueue(ids, later.signal).then(
      () => 'ran',
      (error: Error) => error.message,
    ),
  );
  expect((await Promise.all(early)).map((hypotheses) => hypotheses.length)).toEqual([1, 1, 1, 1]);
  expect(await Promise.all(stopped)).toEqual(['past its deadline', 'past its deadline']);
  expect(batches).toEqual([2, 2]);
});

it("a worker that comes free takes what was queued meanwhile, without waiting for the other worker's batch to end", async () => {
  const modelDir = path.join(inject('modelsDir'), 'Xenova', 'opus-mt-ar-en');
  const twoWorkers = await InferencePool.open({
    modelDir,
    session: { dtype: 'fp32', q8Activations: 'per-row', intraOpThreads: 1 },
    workers: 2,
  });
  try {
    const eos = twoWorkers.info.eosId;
    const long = [10, 11, 12, 13, 14, 15, eos];
    const search = { ...modelSearchSettings(twoWorkers.info), numBeams: 1 };
    // The long input generates 400 tokens, a short one 2: the long batch is still running when the others are done.
    const decodeInput = (ids: number[]) => (ids.length > 4 ? { ids, maxNewTokens: 400, minNewTokens: 400 } : { ids, maxNewTokens: 2 });
    // A budget of 8 tokens: the long input and the short ones never share a batch.
    const batcher = new Batcher({ pool: twoWorkers, search, batchTokens: 8, decodeInput });
    const done: string[] = [];
    const longOutput = batcher.enqueue(long).then((hypotheses) => {
      done.push('long');
      return hypotheses;
    });
    const later = batcher
      .enqueue([16, 17, eos])
      .then(() => batcher.enqueue([18, 19, eos]))
      .then((hypotheses) => {
        done.push('queued while the long batch ran');
        return hypotheses;
      });
    const [longHypotheses, laterHypotheses] = await Promise.all([longOutput, later]);
    expect(done).toEqual(['queued while the long batch ran', 'long']);
    // The same outputs as each input decoded on its own.
    expect(longHypotheses[0]).toEqual((await twoWorkers.decode([decodeInput(long)], search)).outputs[0]);
    expect(laterHypotheses[0]).toEqual((await twoWorkers.decode([decodeInput([18, 19, eos])], search)).outputs[0]);
  } finally {
    await twoWorkers.close();
  }
});
