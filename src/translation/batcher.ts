/**
 * The batcher: queues model inputs (sentences, or pieces of long ones) and groups them into model
 * calls of at most a token budget. A batch is formed when a worker of the inference pool is free,
 * from everything queued at that moment: inputs queued while batches run fill the next free
 * worker's batch, so several articles (or server requests) translated at once share batches, and
 * with several workers the batches decode side by side without one worker waiting for the other's
 * batch to end (a round of batches that all had to finish before the next round began left a
 * worker idle while the round's last batch ran).
 */
import { TranslationStoppedError } from '../errors.js';
import type { DecodeInput, SearchSettings } from './decoder.js';
import type { InferencePool } from './inference-pool.js';
import type { TokenConstraints } from '../terminology/constraints.js';

export interface BatchTiming {
  /** Model inputs in the batch: sentences, or pieces of sentences that were split. */
  sentences: number;
  sourceTokens: number;
  targetTokens: number;
  ms: number;
}

export interface BatcherOptions {
  pool: InferencePool;
  search: SearchSettings;
  /** Source tokens per batch, padding included. */
  batchTokens: number;
  /** What the decoder is given for one input's ids: how many tokens it may (or must) generate. */
  decodeInput: (ids: number[], constraints?: TokenConstraints) => DecodeInput;
  onBatch?: (timing: BatchTiming) => void;
  /** Checked before every batch; the inputs of a stopped batch are rejected with `TranslationStoppedError`. */
  signal?: AbortSignal;
  /**
   * Whether inputs of different calls share batches (the default). Off, each call's inputs are batched
   * on their own, calls told apart by their `signal` (a server request has one of its own): the
   * baseline `bench:serve --compare-unshared` measures shared batches against.
   */
  batchAcrossCalls?: boolean;
}

/** One model input waiting in the batching queue: a sentence or a piece of one. */
interface QueuedInput {
  ids: number[];
  /** The caller's own stop (a server request past its deadline): dropped from the queue before its round. */
  signal?: AbortSignal;
  constraints?: TokenConstraints;
  /** How many of the best outputs the caller wants (./decoder.ts `numHypotheses`). */
  numHypotheses: number;
  resolve: (hypotheses: number[][]) => void;
  reject: (error: unknown) => void;
}

export class Batcher {
  private readonly pending: QueuedInput[] = [];
  /** Batches handed to the pool and not yet done: at most one per worker. */
  private running = 0;
  private scheduled = false;

  constructor(private readonly options: BatcherOptions) {}

  /**
   * Queues one model input (its ids, `</s>` included); resolves to the ids the model generated for it:
   * its `numHypotheses` best outputs, best first. Once `signal` aborts, the input is dropped before
   * it reaches a batch and rejected with its reason.
   */
  enqueue(ids: number[], signal?: AbortSignal, constraints?: TokenConstraints, numHypotheses = 1): Promise<number[][]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ids, signal, constraints, numHypotheses, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Wait one turn so the other sentences of this call (and of concurrent calls) join the batch.
        setImmediate(() => {
          this.scheduled = false;
          this.fill();
        });
      }
    });
  }

  /** Starts a batch for every free worker, each from what is queued at that moment. */
  private fill(): void {
    const workers = Math.max(1, this.options.pool.threads.length);
    while (this.running < workers) {
      const batch = this.nextBatch();
      if (!batch) return;
      this.running++;
      void this.runBatch(batch).finally(() => {
        this.running--;
        this.fill();
      });
    }
  }

  /**
   * The batch of the oldest queued input (so none waits behind later arrivals): the queue (or, with
   * `batchAcrossCalls` off, the oldest input's call) packed by length, and the batch holding that
   * input taken out; the rest stay queued, in order, for the next free worker.
   */
  private nextBatch(): QueuedInput[] | null {
    const queued = withoutStopped(this.pending.splice(0));
    const oldest = queued[0];
    if (!oldest) return null;
    const candidates = this.options.batchAcrossCalls === false ? queued.filter((input) => input.signal === oldest.signal) : queued;
    const batch = packBatches(candidates, this.options.batchTokens).find((packed) => packed.includes(oldest))!;
    const taken = new Set(batch);
    this.pending.push(...queued.filter((input) => !taken.has(input)));
    return batch;
  }

  private async runBatch(batch: QueuedInput[]): Promise<void> {
    const started = performance.now();
    const { signal } = this.options;
    const stopped = () => {
      const error = new TranslationStoppedError();
      for (const input of batch) input.reject(error);
    };
    if (signal?.aborted) return stopped();
    try {
      const inputs = batch.map((input) => ({
        ...this.options.decodeInput(input.ids, input.constraints),
        numHypotheses: input.numHypotheses,
      }));
      // The pool checks the signal again when a worker takes the batch: a stop lands between batches.
      const { outputs, hypotheses } = await this.options.pool.decode(inputs, this.options.search, signal);
      for (const [row, input] of batch.entries()) input.resolve(hypotheses[row]!);
      this.options.onBatch?.({
        sentences: batch.length,
        sourceTokens: batch.reduce((sum, input) => sum + input.ids.length, 0),
        targetTokens: outputs.reduce((sum, output) => sum + output.length, 0),
        ms: performance.now() - started,
      });
    } catch (error) {
      if (signal?.aborted) return stopped();
      for (const input of batch) input.reject(error);
    }
  }
}

/** The inputs whose caller has not stopped; the others are rejected with the caller's reason. */
function withoutStopped(inputs: QueuedInput[]): QueuedInput[] {
  return inputs.filter((input) => {
    if (!input.signal?.aborted) return true;
    input.reject(input.signal.reason ?? new TranslationStoppedError());
    return false;
  });
}

/**
 * Packs inputs into batches of at most `budget` tokens, padding included (rows × longest row). Inputs
 * are sorted by length so each batch holds similar lengths and padding stays small; an input longer
 * than the budget goes alone.
 */
export function packBatches<T extends { ids: readonly unknown[] }>(inputs: T[], budget: number): T[][] {
  const sorted = [...inputs].sort((a, b) => b.ids.length - a.ids.length);
  const batches: T[][] = [];
  let batch: T[] = [];
  for (const input of sorted) {
    const width = batch[0]?.ids.length ?? input.ids.length;
    if (batch.length > 0 && (batch.length + 1) * width > budget) {
      batches.push(batch);
      batch = [];
    }
    batch.push(input);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
