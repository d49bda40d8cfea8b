/**
 * A minimal greedy decoder for a MarianMT export, written directly on onnxruntime-node sessions:
 * the encoder once per batch, then the merged decoder one step at a time with the key/value cache
 * fed back. No logits processors, no per-step bookkeeping beyond an argmax: the bound bench:translate
 * holds the Translator to.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelDtype } from '../src/config/config.js';

interface MarianConfig {
  decoder_start_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  decoder_layers: number;
  decoder_attention_heads: number;
  d_model: number;
}

const DTYPE_SUFFIX: Record<ModelDtype, string> = { fp32: '', q8: '_quantized' };

export class OrtGreedyDecoder {
  private constructor(
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly config: MarianConfig,
  ) {}

  static async load(modelDir: string, dtype: ModelDtype, threads: number): Promise<OrtGreedyDecoder> {
    const config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8')) as MarianConfig;
    const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1 };
    const onnx = (part: string) => path.join(modelDir, 'onnx', `${part}${DTYPE_SUFFIX[dtype]}.onnx`);
    const [encoder, decoder] = await Promise.all([
      ort.InferenceSession.create(onnx('encoder_model'), options),
      ort.InferenceSession.create(onnx('decoder_model_merged'), options),
    ]);
    return new OrtGreedyDecoder(encoder, decoder, config);
  }

  /**
   * Decodes a batch of model inputs (`</s>` included). Row r takes exactly `steps[r]` decoder steps:
   * `steps[r] - 1` argmax tokens (never `</s>` or `<pad>`), then `</s>`; the batch runs until its
   * longest row is done. Returns each row's tokens before `</s>`.
   */
  async generate(inputs: readonly number[][], steps: readonly number[]): Promise<number[][]> {
    const { eos_token_id: eos, pad_token_id: pad, decoder_start_token_id: start } = this.config;
    const rows = inputs.length;
    const width = Math.max(...inputs.map((ids) => ids.length));
    const ids = new BigInt64Array(rows * width).fill(BigInt(pad));
    const mask = new BigInt64Array(rows * width);
    inputs.forEach((row, r) => {
      row.forEach((id, c) => {
        ids[r * width + c] = BigInt(id);
        mask[r * width + c] = 1n;
      });
    });
    const attentionMask = new ort.Tensor('int64', mask, [rows, width]);
    const { last_hidden_state: encoded } = await this.encoder.run({
      input_ids: new ort.Tensor('int64', ids, [rows, width]),
      attention_mask: attentionMask,
    });

    const heads = this.config.decoder_attention_heads;
    const headDim = this.config.d_model / heads;
    const empty = new ort.Tensor('float32', new Float32Array(0), [rows, heads, 0, headDim]);
    const past: Record<string, ort.Tensor> = {};
    for (let layer = 0; layer < this.config.decoder_layers; layer++) {
      for (const kind of ['decoder', 'encoder']) {
        for (const part of ['key', 'value']) past[`past_key_values.${layer}.${kind}.${part}`] = empty;
      }
    }

    const outputs: number[][] = inputs.map(() => []);
    let next = new BigInt64Array(rows).fill(BigInt(start));
    const longest = Math.max(...steps);
    for (let step = 0; step < longest; step++) {
      const result = await this.decoder.run({
        encoder_attention_mask: attentionMask,
        input_ids: new ort.Tensor('int64', next, [rows, 1]),
        encoder_hidden_states: encoded!,
        ...past,
        use_cache_branch: new ort.Tensor('bool', [step > 0], [1]),
      });
      for (const name of Object.keys(result)) {
        // The encoder's keys and values come out of the first step only; later steps return placeholders.
        if (name.startsWith('present.') && (step === 0 || name.includes('.decoder.'))) {
          past[name.replace('present.', 'past_key_values.')] = result[name] as ort.Tensor;
        }
      }
      const logits = result.logits!.data as Float32Array;
      const vocabulary = logits.length / rows;
      next = new BigInt64Array(rows);
      for (let r = 0; r < rows; r++) {
        const token = step < steps[r]! - 1 ? argmaxExcept(logits, r * vocabulary, vocabulary, eos, pad) : eos;
        if (token !== eos) outputs[r]!.push(token);
        next[r] = BigInt(token);
      }
    }
    return outputs;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}

function argmaxExcept(scores: Float32Array, offset: number, length: number, eos: number, pad: number): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < length; i++) {
    const score = scores[offset + i]!;
    if (score > bestScore && i !== eos && i !== pad) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}
