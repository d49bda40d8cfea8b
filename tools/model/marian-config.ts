/**
 * Model sizes and the JSON config files of a MarianMT export, with the fields and values of the
 * Helsinki-NLP opus-mt `config.json` / `generation_config.json` as the Xenova ONNX exports carry them.
 */

export type PresetName = 'tiny' | 'opus-mt-base' | 'tc-big' | 'tiny-tc-big' | 'tiny-m2m100' | 'nllb-600m';
/** ISO 639 code of the source language (`ar`, `vi`, or any other: its script picks the tokenizer corpus). */
export type SourceLang = string;

export interface ModelDims {
  /** config.json's model_type. */
  family: 'marian' | 'm2m_100';
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  ffnDim: number;
  /** Total vocabulary including `</s>`, `<unk>` and `<pad>`. */
  vocabSize: number;
  maxPositions: number;
  /** Marian: where `</s>` and `<unk>` sit (0 and 1 in opus-mt; tc-big models merge two vocabularies). */
  eosId?: number;
  unkId?: number;
  activation?: 'swish' | 'relu';
}

export const PRESETS: Record<PresetName, ModelDims> = {
  tiny: { family: 'marian', dModel: 32, encoderLayers: 2, decoderLayers: 2, heads: 4, ffnDim: 64, vocabSize: 2000, maxPositions: 512 },
  // opus-mt-ar-en's sizes: 6+6 layers of d_model 512, 8 heads, FFN 2048, a shared vocabulary of 62834.
  'opus-mt-base': {
    family: 'marian',
    dModel: 512,
    encoderLayers: 6,
    decoderLayers: 6,
    heads: 8,
    ffnDim: 2048,
    vocabSize: 62834,
    maxPositions: 512,
  },
  // opus-mt-tc-big-ar-en's config.json: 6+6 layers of d_model 1024, 16 heads, FFN 4096, ReLU, a
  // shared vocabulary of 61109 with `</s>` at 25894 and `<pad>` (decoder start) last.
  'tc-big': {
    family: 'marian',
    dModel: 1024,
    encoderLayers: 6,
    decoderLayers: 6,
    heads: 16,
    ffnDim: 4096,
    vocabSize: 61109,
    maxPositions: 1024,
    eosId: 25894,
    unkId: 1,
    activation: 'relu',
  },
  // tc-big's flags (ReLU, `</s>` inside the vocabulary at tc-big's share of it, 1024 positions) at
  // tiny's sizes: the float64 reference check of tc-big's architecture in a test's time.
  'tiny-tc-big': {
    family: 'marian',
    dModel: 32,
    encoderLayers: 2,
    decoderLayers: 2,
    heads: 4,
    ffnDim: 64,
    vocabSize: 2000,
    maxPositions: 1024,
    eosId: 847,
    unkId: 1,
    activation: 'relu',
  },
  // An M2M-100 model with NLLB-200's special tokens and language codes, small enough for tests.
  'tiny-m2m100': {
    family: 'm2m_100',
    dModel: 32,
    encoderLayers: 2,
    decoderLayers: 2,
    heads: 4,
    ffnDim: 64,
    vocabSize: 2000,
    maxPositions: 1024,
  },
  // facebook/nllb-200-distilled-600M's config.json: 12+12 layers of d_model 1024, 16 heads, FFN 4096, vocabulary 256206.
  'nllb-600m': {
    family: 'm2m_100',
    dModel: 1024,
    encoderLayers: 12,
    decoderLayers: 12,
    heads: 16,
    ffnDim: 4096,
    vocabSize: 256206,
    maxPositions: 1024,
  },
};

export function eosId(dims: ModelDims): number {
  return dims.eosId ?? 0;
}

export function unkId(dims: ModelDims): number {
  return dims.unkId ?? 1;
}

/** Marian's `<pad>` is the last id; M2M-100's (fairseq's) is 1. */
export function padId(dims: ModelDims): number {
  return dims.family === 'm2m_100' ? 1 : dims.vocabSize - 1;
}

export function marianConfig(dims: ModelDims, sourceLang: SourceLang): Record<string, unknown> {
  const pad = padId(dims);
  return {
    _name_or_path: `Helsinki-NLP/opus-mt-${sourceLang}-en`,
    _num_labels: 3,
    activation_dropout: 0.0,
    activation_function: dims.activation ?? 'swish',
    add_bias_logits: false,
    add_final_layer_norm: false,
    architectures: ['MarianMTModel'],
    attention_dropout: 0.0,
    bad_words_ids: [[pad]],
    bos_token_id: 0,
    classif_dropout: 0.0,
    classifier_dropout: 0.0,
    d_model: dims.dModel,
    decoder_attention_heads: dims.heads,
    decoder_ffn_dim: dims.ffnDim,
    decoder_layerdrop: 0.0,
    decoder_layers: dims.decoderLayers,
    decoder_start_token_id: pad,
    decoder_vocab_size: dims.vocabSize,
    dropout: 0.1,
    encoder_attention_heads: dims.heads,
    encoder_ffn_dim: dims.ffnDim,
    encoder_layerdrop: 0.0,
    encoder_layers: dims.encoderLayers,
    eos_token_id: eosId(dims),
    extra_pos_embeddings: dims.vocabSize,
    forced_eos_token_id: eosId(dims),
    id2label: { '0': 'LABEL_0', '1': 'LABEL_1', '2': 'LABEL_2' },
    init_std: 0.02,
    is_encoder_decoder: true,
    label2id: { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 },
    max_length: 512,
    max_position_embeddings: dims.maxPositions,
    model_type: 'marian',
    normalize_before: false,
    normalize_embedding: false,
    num_beams: 4,
    num_hidden_layers: dims.encoderLayers,
    pad_token_id: pad,
    scale_embedding: true,
    share_encoder_decoder_embeddings: true,
    static_position_embeddings: true,
    transformers_version: '4.34.0.dev0',
    use_cache: true,
    vocab_size: dims.vocabSize,
  };
}

export function generationConfig(dims: ModelDims): Record<string, unknown> {
  const pad = padId(dims);
  return {
    bad_words_ids: [[pad]],
    bos_token_id: 0,
    decoder_start_token_id: pad,
    eos_token_id: eosId(dims),
    forced_eos_token_id: eosId(dims),
    max_length: 512,
    num_beams: 4,
    pad_token_id: pad,
    renormalize_logits: true,
    transformers_version: '4.34.0.dev0',
  };
}

/** Parameter count of the PyTorch MarianMTModel (shared embedding counted once, static positions excluded). */
export function parameterCount(dims: ModelDims): number {
  const d = dims.dModel;
  const attention = 4 * (d * d + d);
  const ffn = d * dims.ffnDim + dims.ffnDim + dims.ffnDim * d + d;
  const layerNorm = 2 * d;
  const encoderLayer = attention + ffn + 2 * layerNorm;
  const decoderLayer = 2 * attention + ffn + 3 * layerNorm;
  return dims.vocabSize * d + dims.encoderLayers * encoderLayer + dims.decoderLayers * decoderLayer;
}
