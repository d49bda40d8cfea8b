/**
 * The generated graphs against a plain-JS MarianMTModel forward pass written from the transformers
 * modeling code (post-norm layers, √d_model embedding scale, sin|cos position halves, swish FFN,
 * tied lm_head + final_logits_bias), on a micro model so every number can be compared.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { architectureFromConfig } from '../../../src/models/convert/architecture.js';
import { type ModelDims, marianConfig } from '../../../tools/model/marian-config.js';
import { buildEncoderGraph, buildMergedDecoderGraph, cacheNames } from '../../../src/models/convert/seq2seq-onnx.js';
import type { Attention, LayerNorm, Linear, Seq2SeqWeights as MarianWeights } from '../../../src/models/convert/weights.js';
import { randomWeights } from '../../../tools/model/seq2seq-weights.js';
import { serializeModel } from '../../../src/models/convert/onnx-graph.js';
import { quantizeDynamic } from '../../../src/models/convert/quantize.js';
import { Random } from '../../../tools/model/random.js';

const dims: ModelDims = {
  family: 'marian',
  dModel: 8,
  encoderLayers: 2,
  decoderLayers: 2,
  heads: 2,
  ffnDim: 12,
  vocabSize: 40,
  maxPositions: 32,
};
const headDim = dims.dModel / dims.heads;
type Matrix = number[][];

function applyLinear(x: Matrix, w: Linear): Matrix {
  return x.map((row) =>
    Array.from({ length: w.outFeatures }, (_, o) =>
      row.reduce((sum, v, i) => sum + v * (w.weight[i * w.outFeatures + o] as number), w.bias[o] as number),
    ),
  );
}

function applyLayerNorm(x: Matrix, w: LayerNorm): Matrix {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * (w.gamma[i] as number) + (w.beta[i] as number));
  });
}

const add = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((v, j) => v + (b[i]?.[j] as number)));

/** Multi-head attention; `visible(i, j)` says whether query i may attend to key j. */
function applyAttention(query: Matrix, keyValue: Matrix, w: Attention, visible: (i: number, j: number) => boolean): Matrix {
  const q = applyLinear(query, w.q).map((row) => row.map((v) => v / Math.sqrt(headDim)));
  const k = applyLinear(keyValue, w.k);
  const v = applyLinear(keyValue, w.v);
  const context = query.map(() => new Array<number>(dims.dModel).fill(0));
  for (let h = 0; h < dims.heads; h++) {
    const cols = Array.from({ length: headDim }, (_, c) => h * headDim + c);
    q.forEach((qRow, i) => {
      const scores = k.map((kRow, j) =>
        visible(i, j) ? cols.reduce((s, c) => s + (qRow[c] as number) * (kRow[c] as number), 0) : -Infinity,
      );
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      for (const c of cols) {
        (context[i] as number[])[c] = exps.reduce((s, e, j) => s + (e / total) * (v[j]?.[c] as number), 0);
      }
    });
  }
  return applyLinear(context, w.out);
}

function applyFeedForward(x: Matrix, fc1: Linear, fc2: Linear): Matrix {
  const hidden = applyLinear(x, fc1).map((row) => row.map((v) => v / (1 + Math.exp(-v))));
  return applyLinear(hidden, fc2);
}

function embedTokens(weights: MarianWeights, ids: number[], offset: number): Matrix {
  const half = dims.dModel / 2;
  return ids.map((id, t) =>
    Array.from({ length: dims.dModel }, (_, c) => {
      const k = c % half;
      const angle = (t + offset) / 10000 ** ((2 * k) / dims.dModel);
      const position = c < half ? Math.sin(angle) : Math.cos(angle);
      return (weights.encoderEmbedding[id * dims.dModel + c] as number) * Math.sqrt(dims.dModel) + position;
    }),
  );
}

function referenceEncoder(weights: MarianWeights, ids: number[], mask: number[]): Matrix {
  let h = embedTokens(weights, ids, 0);
  for (const layer of weights.encoder) {
    h = applyLayerNorm(
      add(
        h,
        applyAttention(h, h, layer.selfAttn, (_, j) => mask[j] === 1),
      ),
      layer.selfAttnNorm,
    );
    h = applyLayerNorm(add(h, applyFeedForward(h, layer.fc1, layer.fc2)), layer.finalNorm);
  }
  return h;
}

function referenceLogits(weights: MarianWeights, ids: number[], encoded: Matrix, mask: number[]): Matrix {
  let h = embedTokens(weights, ids, 0);
  for (const layer of weights.decoder) {
    h = applyLayerNorm(
      add(
        h,
        applyAttention(h, h, layer.selfAttn, (i, j) => j <= i),
      ),
      layer.selfAttnNorm,
    );
    h = applyLayerNorm(
      add(
        h,
        applyAttention(h, encoded, layer.crossAttn, (_, j) => mask[j] === 1),
      ),
      layer.crossAttnNorm,
    );
    h = applyLayerNorm(add(h, applyFeedForward(h, layer.fc1, layer.fc2)), layer.finalNorm);
  }
  return h.map((row) =>
    Array.from(
      { length: dims.vocabSize },
      (_, token) =>
        row.reduce((s, v, c) => s + v * (weights.encoderEmbedding[token * dims.dModel + c] as number), 0) +
        (weights.finalLogitsBias?.[token] as number),
    ),
  );
}

function maxAbsDiff(actual: Float32Array, expected: Matrix): number {
  return expected.flat().reduce((m, v, i) => Math.max(m, Math.abs(v - (actual[i] as number))), 0);
}

const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);

describe('Marian graphs against a reference forward pass', () => {
  const weights = randomWeights(architectureFromConfig(marianConfig(dims, 'ar')), 7, new Random(3).normals(dims.vocabSize, 0.5));
  const sourceIds = [4, 17, 9, 0, 39];
  const sourceMask = [1, 1, 1, 1, 0];
  const targetIds = [39, 12, 30];
  let encoder: ort.InferenceSession;
  let decoder: ort.InferenceSession;
  let encoded: ort.Tensor;

  beforeAll(async () => {
    encoder = await ort.InferenceSession.create(serializeModel(buildEncoderGraph(weights), 'test'));
    decoder = await ort.InferenceSession.create(serializeModel(buildMergedDecoderGraph(weights), 'test'));
    encoded = (await encoder.run({ input_ids: int64(sourceIds), attention_mask: int64(sourceMask) })).last_hidden_state as ort.Tensor;
  });

  function decoderFeeds(): Record<string, ort.Tensor> {
    const empty = new ort.Tensor('float32', new Float32Array(0), [1, dims.heads, 0, headDim]);
    return {
      encoder_attention_mask: int64(sourceMask),
      input_ids: int64(targetIds),
      encoder_hidden_states: encoded,
      ...Object.fromEntries(cacheNames('past_key_values', dims.decoderLayers).map((name) => [name, empty])),
      use_cache_branch: new ort.Tensor('bool', [false], [1]),
    };
  }

  it('encoder matches the reference, padded source position masked', () => {
    const expected = referenceEncoder(weights, sourceIds, sourceMask);
    expect(maxAbsDiff(encoded.data as Float32Array, expected)).toBeLessThan(1e-4);
  });

  it('decoder logits match the reference, with the causal mask and the tied lm_head', async () => {
    const reference = referenceEncoder(weights, sourceIds, sourceMask);
    const expected = referenceLogits(weights, targetIds, reference, sourceMask);
    const out = await decoder.run(decoderFeeds());
    expect(maxAbsDiff(out.logits?.data as Float32Array, expected)).toBeLessThan(1e-4);
  });

  it('present encoder keys are the projected encoder states, split into heads', async () => {
    const out = await decoder.run(decoderFeeds());
    const key = out['present.1.encoder.key'] as ort.Tensor;
    expect(key.dims).toEqual([1, dims.heads, sourceIds.length, headDim]);
    const rows: Matrix = [];
    for (let t = 0; t < sourceIds.length; t++)
      rows.push(Array.from((encoded.data as Float32Array).slice(t * dims.dModel, (t + 1) * dims.dModel)));
    const projected = applyLinear(rows, (weights.decoder[1] as MarianWeights['decoder'][number]).crossAttn.k);
    // [T, H·Dh] → [H, T, Dh]
    const expected = Array.from({ length: dims.heads }, (_, h) => projected.map((row) => row.slice(h * headDim, (h + 1) * headDim))).flat();
    expect(maxAbsDiff(key.data as Float32Array, expected)).toBeLessThan(1e-5);
  });

  it('q8 decoder stays within quantization error of the reference', async () => {
    const quantized = await ort.InferenceSession.create(serializeModel(quantizeDynamic(buildMergedDecoderGraph(weights)), 'test'));
    const fp32 = (await decoder.run(decoderFeeds())).logits?.data as Float32Array;
    const q8 = (await quantized.run(decoderFeeds())).logits?.data as Float32Array;
    const spread = Math.max(...fp32) - Math.min(...fp32);
    const diff = fp32.reduce((m, v, i) => Math.max(m, Math.abs(v - (q8[i] as number))), 0);
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.1 * spread);
  });
});
