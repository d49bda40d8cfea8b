/**
 * Random MarianMT weights, initialized as transformers' MarianPreTrainedModel does: normal with
 * std `init_std` = 0.02 for linear and embedding weights at d_model 512, scaled by √(512 / d_model)
 * for smaller models so every sub-layer adds to the residual stream what it adds in opus-mt (and the
 * output of a tiny model still depends on its input). Biases and layer-norm parameters get a little
 * noise too, so tests notice a mis-wired bias or norm.
 * Linear weights are stored as ONNX MatMul takes them: [in, out].
 */
import type { MarianDims } from './marian-config.js';
import { Random } from './random.js';

const INIT_STD = 0.02;
const INIT_STD_D_MODEL = 512;
/**
 * Cross-attention weights are drawn twice as wide: with the plain scale, greedy decoding of a random
 * model hardly depends on the source, and every sentence would come out the same.
 */
const CROSS_ATTENTION_STD_FACTOR = 2;

export interface Linear {
  /** [in, out] */
  weight: Float32Array;
  bias: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

export interface LayerNorm {
  gamma: Float32Array;
  beta: Float32Array;
}

export interface Attention {
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
}

export interface EncoderLayer {
  selfAttn: Attention;
  selfAttnNorm: LayerNorm;
  fc1: Linear;
  fc2: Linear;
  finalNorm: LayerNorm;
}

export interface DecoderLayer extends EncoderLayer {
  crossAttn: Attention;
  crossAttnNorm: LayerNorm;
}

export interface MarianWeights {
  dims: MarianDims;
  /** Shared token embedding [vocab, d_model]; the lm_head is tied to it. */
  embedding: Float32Array;
  /** Static sinusoidal positions [max_positions, d_model]. */
  positions: Float32Array;
  encoder: EncoderLayer[];
  decoder: DecoderLayer[];
  /** [vocab] */
  finalLogitsBias: Float32Array;
}

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

/**
 * Marian's static sinusoidal table: sines of the even frequencies in the first half of each row,
 * cosines of the odd ones in the second half (MarianSinusoidalPositionalEmbedding._init_weight).
 */
export function sinusoidalPositions(count: number, dim: number): Float32Array {
  const table = new Float32Array(count * dim);
  const half = Math.ceil(dim / 2);
  for (let pos = 0; pos < count; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / 10000 ** ((2 * Math.floor(j / 2)) / dim);
      if (j % 2 === 0) table[pos * dim + j / 2] = Math.sin(angle);
      else table[pos * dim + half + (j - 1) / 2] = Math.cos(angle);
    }
  }
  return table;
}

export function randomMarianWeights(dims: MarianDims, seed: number, finalLogitsBias: Float32Array): MarianWeights {
  if (finalLogitsBias.length !== dims.vocabSize) {
    throw new Error(`final_logits_bias has ${finalLogitsBias.length} entries for a vocabulary of ${dims.vocabSize}`);
  }
  const random = new Random(seed);
  const d = dims.dModel;
  const std = INIT_STD * Math.sqrt(INIT_STD_D_MODEL / d);
  const embedding = random.normals(dims.vocabSize * d, std);
  // nn.Embedding(padding_idx=pad) keeps the pad row at zero; pad is the last id.
  embedding.fill(0, (dims.vocabSize - 1) * d, dims.vocabSize * d);
  const encoder = Array.from({ length: dims.encoderLayers }, () => ({
    selfAttn: attention(random, std, d),
    selfAttnNorm: layerNorm(random, d),
    fc1: linear(random, std, d, dims.ffnDim),
    fc2: linear(random, std, dims.ffnDim, d),
    finalNorm: layerNorm(random, d),
  }));
  const decoder = Array.from({ length: dims.decoderLayers }, () => ({
    selfAttn: attention(random, std, d),
    selfAttnNorm: layerNorm(random, d),
    crossAttn: attention(random, CROSS_ATTENTION_STD_FACTOR * std, d),
    crossAttnNorm: layerNorm(random, d),
    fc1: linear(random, std, d, dims.ffnDim),
    fc2: linear(random, std, dims.ffnDim, d),
    finalNorm: layerNorm(random, d),
  }));
  return {
    dims,
    embedding,
    positions: sinusoidalPositions(dims.maxPositions, d),
    encoder,
    decoder,
    finalLogitsBias,
  };
}

/** [rows, cols] → [cols, rows]: the lm_head MatMul weight from the tied embedding, as torch's export folds it. */
export function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c] as number;
  }
  return out;
}
