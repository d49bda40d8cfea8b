/**
 * Model weights ↔ a PyTorch state dict with the parameter names of HF's MarianMTModel and
 * M2M100ForConditionalGeneration (`model.encoder.layers.0.self_attn.q_proj.weight`, …). nn.Linear
 * stores [out, in]; the graph builder takes [in, out]. Tied tables are stored once, as
 * `save_pretrained` does (`model.shared.weight`; `lm_head.weight` only when untied).
 */
import type { Seq2SeqArchitecture } from './architecture.js';
import type { StoredTensor } from './safetensors.js';
import {
  type Attention,
  type DecoderLayer,
  type EncoderLayer,
  type LayerNorm,
  type Linear,
  type Seq2SeqWeights,
  positionTable,
  transpose,
} from './weights.js';

type Entries = [string, StoredTensor][];

function pushLinear(out: Entries, name: string, w: Linear): void {
  out.push([`${name}.weight`, { shape: [w.outFeatures, w.inFeatures], data: transpose(w.weight, w.inFeatures, w.outFeatures) }]);
  out.push([`${name}.bias`, { shape: [w.outFeatures], data: w.bias }]);
}

function pushNorm(out: Entries, name: string, w: LayerNorm): void {
  out.push([`${name}.weight`, { shape: [w.gamma.length], data: w.gamma }], [`${name}.bias`, { shape: [w.beta.length], data: w.beta }]);
}

function pushAttention(out: Entries, name: string, w: Attention): void {
  for (const [key, linear] of [
    ['k_proj', w.k],
    ['v_proj', w.v],
    ['q_proj', w.q],
    ['out_proj', w.out],
  ] as const) {
    pushLinear(out, `${name}.${key}`, linear);
  }
}

function pushLayer(out: Entries, name: string, layer: EncoderLayer | DecoderLayer): void {
  pushAttention(out, `${name}.self_attn`, layer.selfAttn);
  pushNorm(out, `${name}.self_attn_layer_norm`, layer.selfAttnNorm);
  if ('crossAttn' in layer) {
    pushAttention(out, `${name}.encoder_attn`, layer.crossAttn);
    pushNorm(out, `${name}.encoder_attn_layer_norm`, layer.crossAttnNorm);
  }
  pushLinear(out, `${name}.fc1`, layer.fc1);
  pushLinear(out, `${name}.fc2`, layer.fc2);
  pushNorm(out, `${name}.final_layer_norm`, layer.finalNorm);
}

/** The state dict `save_pretrained` writes for these weights. */
export function toStateDict(weights: Seq2SeqWeights): Entries {
  const a = weights.architecture;
  const d = a.dModel;
  const out: Entries = [];
  if (a.sharedEmbeddings) out.push(['model.shared.weight', { shape: [a.vocabSize, d], data: weights.encoderEmbedding }]);
  else {
    out.push(['model.encoder.embed_tokens.weight', { shape: [a.vocabSize, d], data: weights.encoderEmbedding }]);
    out.push(['model.decoder.embed_tokens.weight', { shape: [a.decoderVocabSize, d], data: weights.decoderEmbedding }]);
  }
  // Marian's static tables are parameters (saved); M2M-100's are a non-persistent buffer.
  if (a.positions === 'static') {
    const rows = weights.positions.length / d;
    for (const side of ['encoder', 'decoder'])
      out.push([`model.${side}.embed_positions.weight`, { shape: [rows, d], data: weights.positions }]);
  }
  weights.encoder.forEach((layer, i) => {
    pushLayer(out, `model.encoder.layers.${i}`, layer);
  });
  if (weights.encoderLayerNorm) pushNorm(out, 'model.encoder.layer_norm', weights.encoderLayerNorm);
  weights.decoder.forEach((layer, i) => {
    pushLayer(out, `model.decoder.layers.${i}`, layer);
  });
  if (weights.decoderLayerNorm) pushNorm(out, 'model.decoder.layer_norm', weights.decoderLayerNorm);
  if (!a.tiedLmHead) out.push(['lm_head.weight', { shape: [a.decoderVocabSize, d], data: weights.lmHead }]);
  if (weights.finalLogitsBias) out.push(['final_logits_bias', { shape: [1, a.decoderVocabSize], data: weights.finalLogitsBias }]);
  return out;
}

class StateDictReader {
  constructor(
    private readonly tensors: Map<string, StoredTensor>,
    private readonly file: string,
    private readonly fileOf?: Map<string, string>,
  ) {}

  /** The first of `names` present, with the expected shape. */
  tensor(shape: number[], ...names: string[]): Float32Array {
    for (const name of names) {
      const found = this.tensors.get(name);
      if (found === undefined) continue;
      if (found.shape.join(',') !== shape.join(',')) {
        throw new Error(
          `${this.fileOf?.get(name) ?? this.file}: ${name} has shape [${found.shape}], config.json implies [${shape}]; the checkpoint and its config disagree`,
        );
      }
      return found.data;
    }
    throw new Error(`${this.file} has no ${names.join(' or ')}; it is not a checkpoint of the model config.json describes`);
  }

  linear(name: string, inFeatures: number, outFeatures: number): Linear {
    const weight = transpose(this.tensor([outFeatures, inFeatures], `${name}.weight`), outFeatures, inFeatures);
    return { weight, bias: this.tensor([outFeatures], `${name}.bias`), inFeatures, outFeatures };
  }

  norm(name: string, d: number): LayerNorm {
    return { gamma: this.tensor([d], `${name}.weight`), beta: this.tensor([d], `${name}.bias`) };
  }

  attention(name: string, d: number): Attention {
    return {
      q: this.linear(`${name}.q_proj`, d, d),
      k: this.linear(`${name}.k_proj`, d, d),
      v: this.linear(`${name}.v_proj`, d, d),
      out: this.linear(`${name}.out_proj`, d, d),
    };
  }

  encoderLayer(name: string, d: number, ffn: number): EncoderLayer {
    return {
      selfAttn: this.attention(`${name}.self_attn`, d),
      selfAttnNorm: this.norm(`${name}.self_attn_layer_norm`, d),
      fc1: this.linear(`${name}.fc1`, d, ffn),
      fc2: this.linear(`${name}.fc2`, ffn, d),
      finalNorm: this.norm(`${name}.final_layer_norm`, d),
    };
  }

  decoderLayer(name: string, d: number, ffn: number): DecoderLayer {
    return {
      ...this.encoderLayer(name, d, ffn),
      crossAttn: this.attention(`${name}.encoder_attn`, d),
      crossAttnNorm: this.norm(`${name}.encoder_attn_layer_norm`, d),
    };
  }
}

/**
 * Weights from a state dict read from `file` (named in errors; or, for a sharded checkpoint, the shard
 * `fileOf` gives for a tensor), shaped as `architecture` says.
 */
export function fromStateDict(
  architecture: Seq2SeqArchitecture,
  tensors: Map<string, StoredTensor>,
  file: string,
  fileOf?: Map<string, string>,
): Seq2SeqWeights {
  const a = architecture;
  const d = a.dModel;
  const r = new StateDictReader(tensors, file, fileOf);
  const encoderEmbedding = r.tensor([a.vocabSize, d], 'model.shared.weight', 'model.encoder.embed_tokens.weight');
  const decoderEmbedding = a.sharedEmbeddings ? encoderEmbedding : r.tensor([a.decoderVocabSize, d], 'model.decoder.embed_tokens.weight');
  const lmHead = a.tiedLmHead ? decoderEmbedding : r.tensor([a.decoderVocabSize, d], 'lm_head.weight');
  const positions = a.positions === 'static' ? r.tensor([a.maxPositions, d], 'model.encoder.embed_positions.weight') : positionTable(a);
  return {
    architecture,
    encoderEmbedding,
    decoderEmbedding,
    lmHead,
    positions,
    encoder: Array.from({ length: a.encoderLayers }, (_, i) => r.encoderLayer(`model.encoder.layers.${i}`, d, a.encoderFfnDim)),
    decoder: Array.from({ length: a.decoderLayers }, (_, i) => r.decoderLayer(`model.decoder.layers.${i}`, d, a.decoderFfnDim)),
    encoderLayerNorm: a.finalLayerNorm ? r.norm('model.encoder.layer_norm', d) : undefined,
    decoderLayerNorm: a.finalLayerNorm ? r.norm('model.decoder.layer_norm', d) : undefined,
    finalLogitsBias: a.finalLogitsBias ? r.tensor([1, a.decoderVocabSize], 'final_logits_bias') : undefined,
  };
}
