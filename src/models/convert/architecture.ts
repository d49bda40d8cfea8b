/**
 * What a seq2seq transformer checkpoint computes, read from its `config.json`: the graph builder and
 * the converter take every shape, activation, position scheme, embedding tie, bias and
 * normalisation order from here, never from constants. The two families differ in what their
 * config leaves implicit (HF's modeling code fixes it), and that lives in `FAMILY_DEFAULTS`.
 */

export type Activation = 'swish' | 'relu' | 'gelu';

/**
 * `static`: Marian's sinusoidal table indexed by position (modeling_marian.py,
 * MarianSinusoidalPositionalEmbedding). `padded`: M2M-100's table indexed by the running count of
 * non-pad tokens plus `padding_idx` (modeling_m2m_100.py, create_position_ids_from_input_ids).
 */
export type PositionScheme = 'static' | 'padded';

export type Family = 'marian' | 'm2m_100';

export interface Seq2SeqArchitecture {
  family: Family;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderFfnDim: number;
  decoderFfnDim: number;
  /** Encoder (source) vocabulary. */
  vocabSize: number;
  /** Decoder (target) vocabulary: the logits' width. */
  decoderVocabSize: number;
  maxPositions: number;
  activation: Activation;
  /** Pre-norm layers (LayerNorm → sub-layer → residual) instead of post-norm. */
  normalizeBefore: boolean;
  /** A LayerNorm after the last encoder layer and after the last decoder layer. */
  finalLayerNorm: boolean;
  /** Token embeddings × √d_model. */
  scaleEmbedding: boolean;
  positions: PositionScheme;
  padTokenId: number;
  /** One embedding table for encoder and decoder (`model.shared`). */
  sharedEmbeddings: boolean;
  /** lm_head is the decoder's embedding table. */
  tiedLmHead: boolean;
  /** Marian's `final_logits_bias` buffer added to the logits. */
  finalLogitsBias: boolean;
}

interface FamilyDefaults {
  normalizeBefore: boolean;
  finalLayerNorm: boolean;
  positions: PositionScheme;
  finalLogitsBias: boolean;
  scaleEmbedding: boolean;
}

/**
 * What HF's modeling code fixes per family. Marian: post-norm unless `normalize_before`
 * (MarianEncoderLayer.forward applies the norms after the residual), no final norm, static
 * positions, `final_logits_bias` registered in MarianMTModel.__init__. M2M-100: pre-norm layers and
 * a final `layer_norm` in M2M100Encoder/M2M100Decoder, padded positions, no logits bias. The
 * `scale_embedding` defaults are those of MarianConfig (False) and M2M100Config (True).
 */
const FAMILY_DEFAULTS: Record<Family, FamilyDefaults> = {
  marian: { normalizeBefore: false, finalLayerNorm: false, positions: 'static', finalLogitsBias: true, scaleEmbedding: false },
  m2m_100: { normalizeBefore: true, finalLayerNorm: true, positions: 'padded', finalLogitsBias: false, scaleEmbedding: true },
};

const ACTIVATIONS: Record<string, Activation> = { swish: 'swish', silu: 'swish', relu: 'relu', gelu: 'gelu' };

function integer(config: Record<string, unknown>, key: string, file: string): number {
  const value = config[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(
      `${file}: "${key}" must be a non-negative integer (found ${JSON.stringify(value)}); the checkpoint's config is incomplete`,
    );
  }
  return value;
}

function flag(config: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = config[key];
  return typeof value === 'boolean' ? value : fallback;
}

/** Reads a `config.json` object; `file` names it in errors. */
export function architectureFromConfig(config: Record<string, unknown>, file = 'config.json'): Seq2SeqArchitecture {
  const family = config.model_type;
  if (family !== 'marian' && family !== 'm2m_100') {
    throw new Error(
      `${file}: model_type ${JSON.stringify(family)} is not supported; newsbridge runs "marian" (OPUS-MT) and "m2m_100" (M2M-100, NLLB-200): use a model of one of those families`,
    );
  }
  const defaults = FAMILY_DEFAULTS[family];
  const activationName = String(config.activation_function ?? 'relu');
  const activation = ACTIVATIONS[activationName];
  if (activation === undefined) {
    throw new Error(`${file}: activation_function "${activationName}" is not supported (one of ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  const vocabSize = integer(config, 'vocab_size', file);
  const sharedEmbeddings = family === 'm2m_100' || flag(config, 'share_encoder_decoder_embeddings', true);
  const decoderVocabSize = !sharedEmbeddings && typeof config.decoder_vocab_size === 'number' ? config.decoder_vocab_size : vocabSize;
  const dModel = integer(config, 'd_model', file);
  const architecture: Seq2SeqArchitecture = {
    family,
    dModel,
    encoderLayers: integer(config, 'encoder_layers', file),
    decoderLayers: integer(config, 'decoder_layers', file),
    encoderHeads: integer(config, 'encoder_attention_heads', file),
    decoderHeads: integer(config, 'decoder_attention_heads', file),
    encoderFfnDim: integer(config, 'encoder_ffn_dim', file),
    decoderFfnDim: integer(config, 'decoder_ffn_dim', file),
    vocabSize,
    decoderVocabSize,
    maxPositions: integer(config, 'max_position_embeddings', file),
    activation,
    // The opus-mt configs carry BART's `normalize_before: false`; modeling_marian.py never reads it.
    normalizeBefore: defaults.normalizeBefore,
    finalLayerNorm: defaults.finalLayerNorm,
    scaleEmbedding: flag(config, 'scale_embedding', defaults.scaleEmbedding),
    positions: defaults.positions,
    padTokenId: integer(config, 'pad_token_id', file),
    sharedEmbeddings,
    tiedLmHead: flag(config, 'tie_word_embeddings', true),
    finalLogitsBias: defaults.finalLogitsBias,
  };
  for (const [heads, side] of [
    [architecture.encoderHeads, 'encoder'],
    [architecture.decoderHeads, 'decoder'],
  ] as const) {
    if (heads === 0 || dModel % heads !== 0)
      throw new Error(`${file}: d_model ${dModel} is not a multiple of ${side}_attention_heads ${heads}`);
  }
  return architecture;
}

/** Rows of the position table: M2M-100 offsets positions by 2 (M2M100SinusoidalPositionalEmbedding.offset). */
export function positionTableRows(architecture: Seq2SeqArchitecture): number {
  return architecture.positions === 'padded' ? architecture.maxPositions + 2 : architecture.maxPositions;
}
