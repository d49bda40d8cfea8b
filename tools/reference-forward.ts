/**
 * A float64 forward pass of MarianMT and M2M-100 (NLLB-200), written from Hugging Face transformers'
 * modeling code, not from newsbridge's graph builder: the oracle that the converted ONNX graphs are
 * checked against (tests/models/convert/reference-forward.test.ts, `npm run bench:greedy-identity`).
 * It reads what `from_pretrained` reads, a checkpoint folder's `config.json` and `model.safetensors`
 * under HF's parameter names, and nothing of src/models/convert except the safetensors file reader
 * (a file format, no model maths). Plain loops, no batching tricks, no cache: every decoder call
 * recomputes the whole prefix, as `generate(use_cache=False)` would; slow, and meant to be.
 *
 * References (transformers, as stored in the code index):
 * - M = src/transformers/models/marian/modeling_marian.py @ 00b676f8
 * - N = src/transformers/models/m2m_100/modeling_m2m_100.py @ 001400f5 (v4.6; later versions move
 *   embed_scale into M2M100ScaledWordEmbedding and drop the all-zero final_logits_bias buffer: same logits)
 * Where each step comes from is named at the step.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readSafetensors } from '../src/models/convert/safetensors.js';

type Family = 'marian' | 'm2m_100';

interface Linear {
  /** torch's nn.Linear layout: [out, in]. */
  weight: Float64Array;
  bias: Float64Array;
  out: number;
  in: number;
}

interface Norm {
  weight: Float64Array;
  bias: Float64Array;
}

interface Attention {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
}

interface Layer {
  selfAttn: Attention;
  selfAttnNorm: Norm;
  crossAttn?: Attention;
  crossAttnNorm?: Norm;
  fc1: Linear;
  fc2: Linear;
  finalNorm: Norm;
}

/** A row-major matrix: `rows` vectors of width `cols`. */
interface Matrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** nn.LayerNorm's default eps (both files build `nn.LayerNorm(embed_dim)`). */
const LAYER_NORM_EPS = 1e-5;

/**
 * ACT2FN (transformers/activations.py): "swish" and "silu" are SiLUActivation (x·σ(x)), "relu"
 * nn.ReLU. The generated and targeted models use these; "gelu" (exact, erf-based) is refused
 * rather than approximated.
 */
const ACTIVATIONS: Record<string, (x: number) => number> = {
  swish: (x) => x / (1 + Math.exp(-x)),
  silu: (x) => x / (1 + Math.exp(-x)),
  relu: (x) => Math.max(x, 0),
};

function linear(x: Matrix, w: Linear): Matrix {
  const out = new Float64Array(x.rows * w.out);
  for (let r = 0; r < x.rows; r++) {
    for (let o = 0; o < w.out; o++) {
      let sum = w.bias[o]!;
      for (let i = 0; i < w.in; i++) sum += x.data[r * x.cols + i]! * w.weight[o * w.in + i]!;
      out[r * w.out + o] = sum;
    }
  }
  return { data: out, rows: x.rows, cols: w.out };
}

function layerNorm(x: Matrix, w: Norm): Matrix {
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    const row = x.data.subarray(r * x.cols, (r + 1) * x.cols);
    const mean = row.reduce((a, b) => a + b, 0) / x.cols;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / x.cols;
    const scale = 1 / Math.sqrt(variance + LAYER_NORM_EPS);
    for (let c = 0; c < x.cols; c++) out[r * x.cols + c] = (row[c]! - mean) * scale * w.weight[c]! + w.bias[c]!;
  }
  return { data: out, rows: x.rows, cols: x.cols };
}

function add(a: Matrix, b: Matrix): Matrix {
  return { data: a.data.map((v, i) => v + b.data[i]!), rows: a.rows, cols: a.cols };
}

/**
 * MarianAttention / M2M100Attention (BartAttention) with eager_attention_forward (M): q·kᵀ ×
 * head_dim^-0.5, plus the additive mask, softmax, ·v, out_proj. `allowed(i, j)` is the mask:
 * masked keys get finfo.min there, which is exactly 0 after softmax, so they are left out here.
 */
function attention(x: Matrix, memory: Matrix, w: Attention, heads: number, allowed: (query: number, key: number) => boolean): Matrix {
  const q = linear(x, w.q);
  const k = linear(memory, w.k);
  const v = linear(memory, w.v);
  const d = x.cols;
  const headDim = d / heads;
  const scaling = headDim ** -0.5;
  const context = new Float64Array(x.rows * d);
  const scores = new Float64Array(memory.rows);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < x.rows; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < memory.rows; j++) {
        if (!allowed(i, j)) {
          scores[j] = Number.NEGATIVE_INFINITY;
          continue;
        }
        let dot = 0;
        for (let c = 0; c < headDim; c++) dot += q.data[i * d + h * headDim + c]! * k.data[j * d + h * headDim + c]!;
        scores[j] = dot * scaling;
        max = Math.max(max, scores[j]!);
      }
      let total = 0;
      for (let j = 0; j < memory.rows; j++) {
        scores[j] = Math.exp(scores[j]! - max);
        total += scores[j]!;
      }
      for (let j = 0; j < memory.rows; j++) {
        const p = scores[j]! / total;
        if (p === 0) continue;
        for (let c = 0; c < headDim; c++) context[i * d + h * headDim + c]! += p * v.data[j * d + h * headDim + c]!;
      }
    }
  }
  return linear({ data: context, rows: x.rows, cols: d }, w.o);
}

/**
 * MarianSinusoidalPositionalEmbedding._init_weight (M): position_enc[pos][j] = pos / 10000^(2·(j//2)/dim);
 * sin of the even columns fill the first half, cos of the odd columns the second.
 */
export function marianPositionTable(rows: number, dim: number): Float64Array {
  const table = new Float64Array(rows * dim);
  const sentinel = dim % 2 === 0 ? dim / 2 : (dim + 1) / 2;
  for (let pos = 0; pos < rows; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / 10000 ** ((2 * Math.floor(j / 2)) / dim);
      if (j % 2 === 0) table[pos * dim + j / 2] = Math.sin(angle);
      else table[pos * dim + sentinel + (j - 1) / 2] = Math.cos(angle);
    }
  }
  return table;
}

/**
 * M2M100SinusoidalPositionalEmbedding.get_embedding (N): tensor2tensor's table, frequencies
 * exp(-i·ln(10000)/(half-1)), [sin | cos], a zero column for odd dims, the padding_idx row zeroed.
 * One row at a time: position ids are unbounded above (the table grows in forward).
 */
function m2m100Position(pos: number, dim: number, paddingIdx: number): Float64Array {
  const row = new Float64Array(dim);
  if (pos === paddingIdx) return row;
  const half = Math.floor(dim / 2);
  const step = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    row[i] = Math.sin(pos * Math.exp(-i * step));
    row[half + i] = Math.cos(pos * Math.exp(-i * step));
  }
  return row;
}

export interface ReferenceConfig {
  family: Family;
  dModel: number;
  encoderHeads: number;
  decoderHeads: number;
  padTokenId: number;
  embedScale: number;
  activation: (x: number) => number;
}

/** A checkpoint folder (config.json + model.safetensors, HF names) as HF's modeling code runs it, in float64. */
export class ReferenceSeq2Seq {
  private constructor(
    readonly config: ReferenceConfig,
    private readonly encoderEmbedding: Matrix,
    private readonly decoderEmbedding: Matrix,
    private readonly lmHead: Matrix,
    private readonly logitsBias: Float64Array | null,
    /** Marian's static table (from the checkpoint when it holds one, as from_pretrained loads it), else null. */
    private readonly positionTable: Matrix | null,
    private readonly encoderLayers: Layer[],
    private readonly decoderLayers: Layer[],
    private readonly encoderFinalNorm: Norm | null,
    private readonly decoderFinalNorm: Norm | null,
  ) {}

  static async load(dir: string): Promise<ReferenceSeq2Seq> {
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const file = path.join(dir, 'model.safetensors');
    const tensors = await readSafetensors(file);
    const get = (...names: string[]): Matrix => {
      for (const name of names) {
        const t = tensors.get(name);
        if (t) return { data: Float64Array.from(t.data), rows: t.shape[0]!, cols: t.shape.length > 1 ? t.shape[1]! : 1 };
      }
      throw new Error(`${file} has no ${names.join(' or ')}`);
    };
    const lin = (name: string): Linear => {
      const w = get(`${name}.weight`);
      return { weight: w.data, bias: get(`${name}.bias`).data, out: w.rows, in: w.cols };
    };
    const norm = (name: string): Norm => ({ weight: get(`${name}.weight`).data, bias: get(`${name}.bias`).data });
    const attn = (name: string): Attention => ({
      q: lin(`${name}.q_proj`),
      k: lin(`${name}.k_proj`),
      v: lin(`${name}.v_proj`),
      o: lin(`${name}.out_proj`),
    });
    const layer = (name: string, cross: boolean): Layer => ({
      selfAttn: attn(`${name}.self_attn`),
      selfAttnNorm: norm(`${name}.self_attn_layer_norm`),
      ...(cross ? { crossAttn: attn(`${name}.encoder_attn`), crossAttnNorm: norm(`${name}.encoder_attn_layer_norm`) } : {}),
      fc1: lin(`${name}.fc1`),
      fc2: lin(`${name}.fc2`),
      finalNorm: norm(`${name}.final_layer_norm`),
    });
    const family = config.model_type;
    if (family !== 'marian' && family !== 'm2m_100') throw new Error(`${dir}/config.json: model_type ${String(family)} has no reference`);
    const activationName = String(config.activation_function);
    const activation = ACTIVATIONS[activationName];
    if (!activation)
      throw new Error(`${dir}/config.json: activation ${activationName} is not in the reference (${Object.keys(ACTIVATIONS)})`);
    const dModel = config.d_model as number;
    // MarianConfig's scale_embedding defaults to False, M2M100Config's to True; both: embed_scale = √d_model if set (M, N).
    const scale = (config.scale_embedding as boolean | undefined) ?? family === 'm2m_100';
    // MarianModel.__init__ (M): one `shared` table unless share_encoder_decoder_embeddings is False;
    // M2M100Model always shares (N). lm_head is tied to the decoder's table unless tie_word_embeddings is False.
    const shared = family === 'm2m_100' || config.share_encoder_decoder_embeddings !== false;
    const encoderEmbedding = get('model.shared.weight', 'model.encoder.embed_tokens.weight');
    const decoderEmbedding = shared ? encoderEmbedding : get('model.decoder.embed_tokens.weight');
    const lmHead = config.tie_word_embeddings === false ? get('lm_head.weight') : decoderEmbedding;
    // MarianMTModel registers final_logits_bias (zeros when the checkpoint lacks it); M2M-100's is zero.
    const logitsBias = family === 'marian' && tensors.has('final_logits_bias') ? get('final_logits_bias').data : null;
    const positionTable =
      family === 'marian'
        ? tensors.has('model.encoder.embed_positions.weight')
          ? get('model.encoder.embed_positions.weight')
          : {
              data: marianPositionTable(config.max_position_embeddings as number, dModel),
              rows: config.max_position_embeddings as number,
              cols: dModel,
            }
        : null;
    // M2M100Encoder/M2M100Decoder end with self.layer_norm (N); Marian has none (M).
    const finalNorms = family === 'm2m_100';
    return new ReferenceSeq2Seq(
      {
        family,
        dModel,
        encoderHeads: config.encoder_attention_heads as number,
        decoderHeads: config.decoder_attention_heads as number,
        padTokenId: config.pad_token_id as number,
        embedScale: scale ? Math.sqrt(dModel) : 1,
        activation,
      },
      encoderEmbedding,
      decoderEmbedding,
      lmHead,
      logitsBias,
      positionTable,
      Array.from({ length: config.encoder_layers as number }, (_, i) => layer(`model.encoder.layers.${i}`, false)),
      Array.from({ length: config.decoder_layers as number }, (_, i) => layer(`model.decoder.layers.${i}`, true)),
      finalNorms ? norm('model.encoder.layer_norm') : null,
      finalNorms ? norm('model.decoder.layer_norm') : null,
    );
  }

  /**
   * Token embeddings × embed_scale plus positions (MarianEncoder/MarianDecoder.forward: positions
   * 0…n-1, M2M100…forward: create_position_ids_from_input_ids, the running count of non-pad tokens
   * plus padding_idx, pads at padding_idx).
   */
  private embed(ids: readonly number[], table: Matrix): Matrix {
    const d = this.config.dModel;
    const out = new Float64Array(ids.length * d);
    let nonPad = 0;
    ids.forEach((id, t) => {
      let position: Float64Array;
      if (this.positionTable) position = this.positionTable.data.subarray(t * d, (t + 1) * d);
      else {
        const pad = this.config.padTokenId;
        if (id !== pad) nonPad++;
        position = m2m100Position(id === pad ? pad : nonPad + pad, d, pad);
      }
      for (let c = 0; c < d; c++) out[t * d + c] = table.data[id * d + c]! * this.config.embedScale + position[c]!;
    });
    return { data: out, rows: ids.length, cols: d };
  }

  /**
   * One layer. Marian (BartEncoderLayer/BartDecoderLayer, M): sub-layer, residual, then LayerNorm.
   * M2M-100 (MBartEncoderLayer/MBartDecoderLayer, N): LayerNorm, sub-layer, then residual.
   */
  private layer(
    x: Matrix,
    w: Layer,
    heads: number,
    selfAllowed: (i: number, j: number) => boolean,
    memory?: Matrix,
    memoryMask?: readonly number[],
  ): Matrix {
    const preNorm = this.config.family === 'm2m_100';
    const block = (input: Matrix, norm: Norm, sublayer: (h: Matrix) => Matrix): Matrix =>
      preNorm ? add(input, sublayer(layerNorm(input, norm))) : layerNorm(add(input, sublayer(input)), norm);
    let h = block(x, w.selfAttnNorm, (input) => attention(input, input, w.selfAttn, heads, selfAllowed));
    if (memory && w.crossAttn && w.crossAttnNorm) {
      const crossAttn = w.crossAttn;
      h = block(h, w.crossAttnNorm, (input) => attention(input, memory, crossAttn, heads, (_, j) => memoryMask?.[j] !== 0));
    }
    const act = this.config.activation;
    return block(h, w.finalNorm, (input) => {
      const inner = linear(input, w.fc1);
      return linear({ ...inner, data: inner.data.map(act) }, w.fc2);
    });
  }

  /** The encoder's last_hidden_state for one row of a (right-padded) batch: ids and attention mask of equal length. */
  encode(ids: readonly number[], mask: readonly number[]): Matrix {
    let h = this.embed(ids, this.encoderEmbedding);
    for (const w of this.encoderLayers) h = this.layer(h, w, this.config.encoderHeads, (_, j) => mask[j] !== 0);
    return this.encoderFinalNorm ? layerNorm(h, this.encoderFinalNorm) : h;
  }

  /**
   * Logits after the last token of `decoderIds` (decoder start token first): the causal decoder
   * over the whole prefix, cross-attending to `encoded` under `mask`, then lm_head and, for
   * Marian, final_logits_bias (MarianMTModel.forward: lm_head(outputs[0]) + final_logits_bias, M).
   */
  nextLogits(encoded: Matrix, mask: readonly number[], decoderIds: readonly number[]): Float64Array {
    let h = this.embed(decoderIds, this.decoderEmbedding);
    for (const w of this.decoderLayers) h = this.layer(h, w, this.config.decoderHeads, (i, j) => j <= i, encoded, mask);
    if (this.decoderFinalNorm) h = layerNorm(h, this.decoderFinalNorm);
    const last = { data: h.data.subarray((h.rows - 1) * h.cols), rows: 1, cols: h.cols };
    const head: Linear = {
      weight: this.lmHead.data,
      bias: this.logitsBias ?? new Float64Array(this.lmHead.rows),
      out: this.lmHead.rows,
      in: h.cols,
    };
    return linear(last, head).data;
  }
}

/** What `generate` is told for a greedy decode: the model's special ids and the length limit. */
export interface GreedyRules {
  decoderStartId: number;
  eosId: number;
  /** bad_words_ids of length one (Marian's `[[pad]]`): never generated. */
  bannedIds: readonly number[];
  /** forced_bos_token_id (the target language of M2M-100/NLLB), or null. */
  forcedBosId: number | null;
  /** Generated tokens after which `</s>` is forced (max_new_tokens with forced_eos_token_id). */
  maxNewTokens: number;
}

/**
 * Greedy search on the reference (GenerationMixin._sample with do_sample False): at each step the
 * argmax of the processed logits; returns the generated ids (no decoder start, no `</s>`) and the
 * raw logits of every step.
 */
export function referenceGreedy(
  model: ReferenceSeq2Seq,
  ids: readonly number[],
  rules: GreedyRules,
): { tokens: number[]; logits: Float64Array[] } {
  const mask = ids.map(() => 1);
  const encoded = model.encode(ids, mask);
  const prefix = [rules.decoderStartId];
  const logits: Float64Array[] = [];
  for (;;) {
    const raw = model.nextLogits(encoded, mask, prefix);
    logits.push(raw);
    const generated = prefix.length - 1;
    let token: number;
    if (generated === 0 && rules.forcedBosId !== null) token = rules.forcedBosId;
    else if (generated >= rules.maxNewTokens) token = rules.eosId;
    else {
      token = -1;
      raw.forEach((score, id) => {
        if (!rules.bannedIds.includes(id) && (token < 0 || score > raw[token]!)) token = id;
      });
    }
    if (token === rules.eosId) return { tokens: prefix.slice(1), logits };
    prefix.push(token);
  }
}
