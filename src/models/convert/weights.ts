/**
 * The parameters of a Marian or M2M-100 model as the graph builder takes them, whether drawn at
 * random (tools/model) or read from a checkpoint (the converter), and the sinusoidal position
 * tables, which HF computes rather than stores for M2M-100. Linear weights are stored as ONNX
 * MatMul takes them: [in, out].
 */
import { type Seq2SeqArchitecture, positionTableRows } from './architecture.js';

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

/**
 * The parameters of a Marian or M2M-100 model. Shared tables are one array (the encoder's and the
 * decoder's embedding when `sharedEmbeddings`, the decoder's embedding and lm_head when
 * `tiedLmHead`), so the graph stores them once.
 */
export interface Seq2SeqWeights {
  architecture: Seq2SeqArchitecture;
  /** [vocab, d_model] */
  encoderEmbedding: Float32Array;
  /** [decoder vocab, d_model] */
  decoderEmbedding: Float32Array;
  /** [decoder vocab, d_model], as torch stores nn.Linear weights. */
  lmHead: Float32Array;
  /** Sinusoidal table [positionTableRows, d_model]. */
  positions: Float32Array;
  encoder: EncoderLayer[];
  decoder: DecoderLayer[];
  /** After the last layer, when `finalLayerNorm`. */
  encoderLayerNorm?: LayerNorm;
  decoderLayerNorm?: LayerNorm;
  /** [decoder vocab], when the family has it. */
  finalLogitsBias?: Float32Array;
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

/**
 * M2M-100's table (M2M100SinusoidalPositionalEmbedding.get_embedding): frequencies
 * exp(-i · ln 10000 / (half - 1)), sines in the first half, cosines in the second, a zero column
 * when d_model is odd, and the `padding_idx` row zero.
 */
export function paddedSinusoidalPositions(count: number, dim: number, paddingIdx: number): Float32Array {
  const table = new Float32Array(count * dim);
  const half = Math.floor(dim / 2);
  const step = Math.log(10000) / (half - 1);
  for (let pos = 0; pos < count; pos++) {
    if (pos === paddingIdx) continue;
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.exp(-i * step);
      table[pos * dim + i] = Math.sin(angle);
      table[pos * dim + half + i] = Math.cos(angle);
    }
  }
  return table;
}

export function positionTable(architecture: Seq2SeqArchitecture): Float32Array {
  const rows = positionTableRows(architecture);
  return architecture.positions === 'padded'
    ? paddedSinusoidalPositions(rows, architecture.dModel, architecture.padTokenId)
    : sinusoidalPositions(rows, architecture.dModel);
}

/** [rows, cols] → [cols, rows]: the lm_head MatMul weight from the tied embedding, as torch's export folds it. */
export function transpose(matrix: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = matrix[r * cols + c] as number;
  }
  return out;
}
