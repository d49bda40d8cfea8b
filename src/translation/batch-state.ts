/** The decoder's state for one batch, kept between steps; ./decoder.ts runs the searches over it. */
import * as ort from 'onnxruntime-node';
import type { DecoderVocabulary } from './output-vocabulary.js';
import type { Seq2SeqModelInfo, Seq2SeqSessions } from './seq2seq-sessions.js';

/**
 * A batch on its way through the decoder: encoder states, mask and key/value cache, one row per
 * hypothesis. `keepRows` selects (and may repeat or reorder) rows for the next step.
 */
export class BatchState {
  private step_ = 0;
  /** The cache fed to the next step, by input name (`past_key_values.{i}.{decoder,encoder}.{key,value}`). */
  private past = new Map<string, ort.Tensor>();

  private constructor(
    readonly sessions: Seq2SeqSessions,
    private encoderStates: ort.Tensor,
    private encoderMask: ort.Tensor,
  ) {
    const { decoderLayers, heads, headDim } = sessions.info;
    const rows = encoderStates.dims[0]!;
    const empty = new ort.Tensor('float32', new Float32Array(0), [rows, heads, 0, headDim]);
    for (let layer = 0; layer < decoderLayers; layer++) {
      for (const name of cacheNames(layer)) this.past.set(`past_key_values.${name}`, empty);
    }
  }

  get info(): Seq2SeqModelInfo {
    return this.sessions.info;
  }

  /** The decoder's output columns, which the searches' tokens are. */
  get vocabulary(): DecoderVocabulary {
    return this.sessions.vocabulary;
  }

  static async encode(sessions: Seq2SeqSessions, inputs: readonly (readonly number[])[]): Promise<BatchState> {
    const rows = inputs.length;
    const width = Math.max(...inputs.map((ids) => ids.length));
    const ids = new BigInt64Array(rows * width).fill(BigInt(sessions.info.padId));
    const mask = new BigInt64Array(rows * width);
    inputs.forEach((input, r) => {
      input.forEach((id, c) => {
        ids[r * width + c] = BigInt(id);
        mask[r * width + c] = 1n;
      });
    });
    const attentionMask = new ort.Tensor('int64', mask, [rows, width]);
    const { last_hidden_state: states } = await sessions.encoder.run({
      input_ids: new ort.Tensor('int64', ids, [rows, width]),
      attention_mask: attentionMask,
    });
    return new BatchState(sessions, states!, attentionMask);
  }

  /** Runs one decoder step on one token (an output column) per row; returns the logits, [rows × output columns]. */
  async step(tokens: readonly number[]): Promise<Float32Array> {
    const rows = tokens.length;
    const feeds: Record<string, ort.Tensor> = {
      encoder_attention_mask: this.encoderMask,
      input_ids: new ort.Tensor('int64', BigInt64Array.from(this.vocabulary.ids(tokens), BigInt), [rows, 1]),
      encoder_hidden_states: this.encoderStates,
      use_cache_branch: new ort.Tensor('bool', [this.step_ > 0], [1]),
    };
    for (const [name, tensor] of this.past) feeds[name] = tensor;
    const result = await this.sessions.decoder.run(feeds);
    for (const [name, tensor] of Object.entries(result)) {
      if (!name.startsWith('present.')) continue;
      // The cross-attention keys and values come out of the first step only; later steps return placeholders.
      if (this.step_ === 0 || name.includes('.decoder.')) this.past.set(name.replace('present.', 'past_key_values.'), tensor as ort.Tensor);
    }
    this.step_++;
    const logits = result.logits!.data as Float32Array;
    // A graph whose logits are not as wide as the columns would shift every row's tokens: refuse it.
    if (logits.length !== rows * this.vocabulary.size)
      throw new Error(`the decoder gave ${logits.length / rows} logits per row, expected ${this.vocabulary.size}`);
    return logits;
  }

  /**
   * Keeps these rows (by index into the current batch, in this order) for the next step. The
   * encoder's states, mask and cross-attention cache take `encoderRows` instead where given: rows
   * whose encoder side is the same (beams of one sentence) are interchangeable there.
   */
  keepRows(rows: readonly number[], encoderRows: readonly number[] = rows): void {
    this.encoderStates = gatherRows(this.encoderStates, encoderRows);
    this.encoderMask = gatherRows(this.encoderMask, encoderRows);
    for (const [name, tensor] of this.past)
      this.past.set(name, gatherRows(tensor, name.endsWith('.decoder.key') || name.endsWith('.decoder.value') ? rows : encoderRows));
  }

  clear(): void {
    this.past.clear();
  }
}

function cacheNames(layer: number): string[] {
  return ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((part) => `${layer}.${part}`);
}

/** Rows of a tensor along its first axis, copied in the given order. */
function gatherRows(tensor: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const [count, ...rest] = tensor.dims;
  const block = rest.reduce((product, size) => product * size, 1);
  const identity = rows.length === count && rows.every((row, i) => row === i);
  if (identity) return tensor;
  const source = tensor.data as Float32Array | BigInt64Array;
  // Every element is written below, so the memory is not zeroed first: with a batch of many
  // hypotheses the cache is tens of megabytes a step, and zeroing it was a pass of its own.
  const Typed = source.constructor as Float32ArrayConstructor | BigInt64ArrayConstructor;
  const target = new Typed(Buffer.allocUnsafeSlow(rows.length * block * Typed.BYTES_PER_ELEMENT).buffer);
  rows.forEach((row, i) => {
    (target as Float32Array).set((source as Float32Array).subarray(row * block, (row + 1) * block), i * block);
  });
  return new ort.Tensor(tensor.type as 'float32', target as Float32Array, [rows.length, ...rest]);
}
