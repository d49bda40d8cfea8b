/**
 * Random Marian / M2M-100 weights, initialized as transformers' PreTrainedModel._init_weights does: normal with
 * std `init_std` = 0.02 for linear and embedding weights at d_model 512, scaled by √(512 / d_model)
 * for smaller models so every sub-layer adds to the residual stream what it adds in opus-mt (and the
 * output of a tiny model still depends on its input). Biases and layer-norm parameters get a little
 * noise too, so tests notice a mis-wired bias or norm.
 */
import type { Seq2SeqArchitecture } from '../../src/models/convert/architecture.js';
import {
  type Attention,
  type DecoderLayer,
  type EncoderLayer,
  type LayerNorm,
  type Linear,
  type Seq2SeqWeights,
  positionTable,
} from '../../src/models/convert/weights.js';
import { Random } from './random.js';

const INIT_STD = 0.02;
const INIT_STD_D_MODEL = 512;
/**
 * Cross-attention weights are drawn twice as wide: with the plain scale, greedy decoding of a random
 * model hardly depends on the source, and every sentence would come out the same.
 */
const CROSS_ATTENTION_STD_FACTOR = 2;
/**
 * Pre-norm layers add their output to a residual stream that no LayerNorm rescales, where the
 * scaled token embedding and the positions dominate a random model: its sub-layers are drawn wider
 * so that the source still shapes the output.
 */
const PRE_NORM_STD_FACTOR = 5;

function linear(random: Random, std: number, inFeatures: number, outFeatures: number): Linear {
  return {
    weight: random.normals(inFeatures * outFeatures, std),
    bias: random.normals(outFeatures, std),
    inFeatures,
    outFeatures,
  };
}

function layerNorm(random: Random, size: number): LayerNorm {
  return { gamma: random.normals(size, INIT_STD, 1), beta: random.normals(size, INIT_STD) };
}

function attention(random: Random, std: number, d: number): Attention {
  return {
    q: linear(random, std, d, d),
    k: linear(random, std, d, d),
    v: linear(random, std, d, d),
    out: linear(random, std, d, d),
  };
}

function encoderLayer(random: Random, std: number, a: Seq2SeqArchitecture): EncoderLayer {
  const d = a.dModel;
  return {
    selfAttn: attention(random, std, d),
    selfAttnNorm: layerNorm(random, d),
    fc1: linear(random, std, d, a.encoderFfnDim),
    fc2: linear(random, std, a.encoderFfnDim, d),
    finalNorm: layerNorm(random, d),
  };
}

function decoderLayer(random: Random, std: number, a: Seq2SeqArchitecture): DecoderLayer {
  const d = a.dModel;
  return {
    selfAttn: attention(random, std, d),
    selfAttnNorm: layerNorm(random, d),
    crossAttn: attention(random, CROSS_ATTENTION_STD_FACTOR * std, d),
    crossAttnNorm: layerNorm(random, d),
    fc1: linear(random, std, d, a.decoderFfnDim),
    fc2: linear(random, std, a.decoderFfnDim, d),
    finalNorm: layerNorm(random, d),
  };
}

function embeddingTable(random: Random, std: number, rows: number, d: number, padId: number): Float32Array {
  const table = random.normals(rows * d, std);
  // nn.Embedding(padding_idx=pad) keeps the pad row at zero.
  if (padId < rows) table.fill(0, padId * d, (padId + 1) * d);
  return table;
}

/**
 * Random weights for `architecture`. `finalLogitsBias` is used when the family has that buffer;
 * families without it get their output preferences through `shapeOutputPreference` instead.
 */
export function randomWeights(architecture: Seq2SeqArchitecture, seed: number, finalLogitsBias?: Float32Array): Seq2SeqWeights {
  const a = architecture;
  if (a.finalLogitsBias && finalLogitsBias?.length !== a.decoderVocabSize) {
    throw new Error(`final_logits_bias needs ${a.decoderVocabSize} entries (found ${finalLogitsBias?.length ?? 'none'})`);
  }
  const random = new Random(seed);
  const d = a.dModel;
  const std = INIT_STD * Math.sqrt(INIT_STD_D_MODEL / d);
  const encoderEmbedding = embeddingTable(random, std, a.vocabSize, d, a.padTokenId);
  const layerStd = a.normalizeBefore ? PRE_NORM_STD_FACTOR * std : std;
  const encoder = Array.from({ length: a.encoderLayers }, () => encoderLayer(random, layerStd, a));
  const decoder = Array.from({ length: a.decoderLayers }, () => decoderLayer(random, layerStd, a));
  const decoderEmbedding = a.sharedEmbeddings ? encoderEmbedding : embeddingTable(random, std, a.decoderVocabSize, d, a.padTokenId);
  const lmHead = a.tiedLmHead ? decoderEmbedding : random.normals(a.decoderVocabSize * d, std);
  return {
    architecture,
    encoderEmbedding,
    decoderEmbedding,
    lmHead,
    positions: positionTable(a),
    encoder,
    decoder,
    encoderLayerNorm: a.finalLayerNorm ? layerNorm(random, d) : undefined,
    decoderLayerNorm: a.finalLayerNorm ? layerNorm(random, d) : undefined,
    finalLogitsBias: a.finalLogitsBias ? finalLogitsBias : undefined,
  };
}

/**
 * Output preferences for a random model whose family has no logits bias (M2M-100): logits are
 * h · E_i with E the tied embedding, so a unit direction u is projected out of every row, then
 * row i gets `bias_i / scale` along u and the decoder's final LayerNorm bias gets `scale · u`:
 * the logit of i moves by exactly bias_i (the pad row stays zero, as nn.Embedding keeps it). `scale` is large so the rows move little and the
 * encoder still sees distinct source tokens.
 */
export function shapeOutputPreference(weights: Seq2SeqWeights, bias: Float32Array, seed: number, scale = 8): void {
  const { decoderEmbedding: table, decoderLayerNorm: norm } = weights;
  const d = weights.architecture.dModel;
  if (norm === undefined || table !== weights.lmHead)
    throw new Error('output preferences need a tied lm_head and a final decoder LayerNorm');
  const u = new Random(seed ^ 0x0b1a5).normals(d, 1);
  const length = Math.hypot(...u);
  for (let j = 0; j < d; j++) u[j] = (u[j] as number) / length;
  for (let row = 0; row * d < table.length; row++) {
    if (row === weights.architecture.padTokenId) continue;
    let along = 0;
    for (let j = 0; j < d; j++) along += (table[row * d + j] as number) * (u[j] as number);
    const target = (bias[row] as number) / scale;
    for (let j = 0; j < d; j++) table[row * d + j] = (table[row * d + j] as number) + (target - along) * (u[j] as number);
  }
  for (let j = 0; j < d; j++) norm.beta[j] = (norm.beta[j] as number) + scale * (u[j] as number);
}
