/**
 * The batcher: queues model inputs (sentences, or pieces of long ones) and groups them into model
 * calls of at most a token budget. Inputs queued while a round runs share the next round, so
 * several articles translated at once fill batches together; each round's batches go to the
 * inference pool at once, so with several workers they decode side by side.
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
  private draining = false;

  constructor(private readonly options: BatcherOptions) {}

  /**
   * Queues one model input (its ids, `</s>` included); resolves to the ids the model generated for it:
   * its `numHypotheses` best outputs, best first. Once `signal` aborts, the input is dropped before
   * the next round and rejected with its reason.
   */
  enqueue(ids: number[], signal?: AbortSignal, constraints?: TokenConstraints, numHypotheses = 1): Promise<number[][]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ids, signal, constraints, numHypotheses, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Wait one turn so the other sentences of this call (and of concurrent calls) join the round.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const round = withoutStopped(this.pending.splice(0));
      const calls = this.options.batchAcrossCalls === false ? byCall(round) : [round];
      const batches = calls.flatMap((inputs) => packBatches(inputs, this.options.batchTokens));
      // As many batches at once as there are workers, each handed over when one is free: a caller that
      // stops meanwhile (a server request past its deadline) has its inputs dropped before they run.
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const batch = withoutStopped(batches[next++]!);
          if (batch.length > 0) await this.runBatch(batch);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.options.pool.threads.length) }, worker));
    }
    this.draining = false;
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

/** The inputs of each call (by its signal), in queue order. */
function byCall(inputs: QueuedInput[]): QueuedInput[][] {
  const calls = new Map<AbortSignal | undefined, QueuedInput[]>();
  for (const input of inputs) {
    const call = calls.get(input.signal);
    if (call) call.push(input);
    else calls.set(input.signal, [input]);
  }
  return [...calls.values()];
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
