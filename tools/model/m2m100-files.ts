/**
 * The JSON files of an M2M-100 model with NLLB-200's conventions, with the fields and values of
 * facebook/nllb-200-distilled-600M's `config.json`, `generation_config.json`, `tokenizer.json` and
 * `tokenizer_config.json` as the Xenova export carries them: fairseq's special ids (`<s>` 0,
 * `<pad>` 1, `</s>` 2, `<unk>` 3), the pieces, the language codes (`arb_Arab`, …) as special
 * tokens, `<mask>` last; the encoder input is `[src_lang] pieces </s>` (NllbTokenizer with
 * legacy_behaviour false) and the target language is forced as the first generated token.
 */
import type { ModelDims } from './marian-config.js';
import { buildVocabulary } from './marian-tokenizer.js';
import { WORD_BOUNDARY } from './unigram.js';

export const BOS_TOKEN = '<s>';
export const PAD_TOKEN = '<pad>';
export const EOS_TOKEN = '</s>';
export const UNK_TOKEN = '<unk>';
export const MASK_TOKEN = '<mask>';
export const M2M_BOS_ID = 0;
export const M2M_PAD_ID = 1;
export const M2M_EOS_ID = 2;
export const M2M_UNK_ID = 3;

/** FLORES-200 codes, NLLB-200's language tokens: the languages newsbridge translates, English, and a few more. */
export const NLLB_LANGUAGE_CODES = [
  'arb_Arab',
  'deu_Latn',
  'eng_Latn',
  'fra_Latn',
  'ind_Latn',
  'rus_Cyrl',
  'spa_Latn',
  'vie_Latn',
  'zho_Hans',
];
export const TARGET_LANGUAGE_CODE = 'eng_Latn';

/** ISO 639-1 → FLORES-200 for the generator's source-language option (the corpus languages). */
const FLORES_CODES: Record<string, string> = { ar: 'arb_Arab', vi: 'vie_Latn', id: 'ind_Latn', en: 'eng_Latn' };

export function floresCode(isoCode: string): string {
  const code = FLORES_CODES[isoCode];
  if (code === undefined)
    throw new Error(`no NLLB language code for "${isoCode}" in the generator (one of ${Object.keys(FLORES_CODES).join(', ')})`);
  return code;
}

export interface M2M100Vocabulary {
  /** [piece, score] in id order, special tokens included. */
  entries: [string, number][];
  /** Ids of the pieces the English corpus segments into. */
  targetPieceIds: Set<number>;
  /** Language code → id. */
  languageIds: Map<string, number>;
}

/** The vocabulary trained as Marian's (one Unigram model for source and English), laid out as NLLB's. */
export function buildM2M100Vocabulary(sourceText: string, englishText: string, vocabSize: number, seed: number): M2M100Vocabulary {
  const specials = 5 + NLLB_LANGUAGE_CODES.length;
  // buildVocabulary frames its pieces with 3 special tokens (</s>, <unk> first, <pad> last).
  const marian = buildVocabulary(sourceText, englishText, vocabSize - specials + 3, seed);
  const pieces = marian.entries.slice(2, -1);
  // Marian's pieces start at id 2, NLLB's at 4.
  const offset = 2;
  const languageStart = 4 + pieces.length;
  const entries: [string, number][] = [
    [BOS_TOKEN, 0],
    [PAD_TOKEN, 0],
    [EOS_TOKEN, 0],
    [UNK_TOKEN, 0],
    ...pieces,
    ...NLLB_LANGUAGE_CODES.map((code): [string, number] => [code, 0]),
    [MASK_TOKEN, 0],
  ];
  return {
    entries,
    targetPieceIds: new Set(Array.from(marian.targetPieceIds, (id) => id + offset)),
    languageIds: new Map(NLLB_LANGUAGE_CODES.map((code, i) => [code, languageStart + i])),
  };
}

export function m2m100Config(dims: ModelDims, vocabulary: M2M100Vocabulary): Record<string, unknown> {
  return {
    _name_or_path: 'facebook/nllb-200-distilled-600M',
    activation_dropout: 0.0,
    activation_function: 'relu',
    architectures: ['M2M100ForConditionalGeneration'],
    attention_dropout: 0.1,
    bos_token_id: M2M_BOS_ID,
    d_model: dims.dModel,
    decoder_attention_heads: dims.heads,
    decoder_ffn_dim: dims.ffnDim,
    decoder_layerdrop: 0,
    decoder_layers: dims.decoderLayers,
    decoder_start_token_id: M2M_EOS_ID,
    dropout: 0.1,
    encoder_attention_heads: dims.heads,
    encoder_ffn_dim: dims.ffnDim,
    encoder_layerdrop: 0,
    encoder_layers: dims.encoderLayers,
    eos_token_id: M2M_EOS_ID,
    init_std: 0.02,
    is_encoder_decoder: true,
    max_length: 200,
    max_position_embeddings: dims.maxPositions,
    model_type: 'm2m_100',
    num_hidden_layers: dims.encoderLayers,
    pad_token_id: M2M_PAD_ID,
    scale_embedding: true,
    tokenizer_class: 'NllbTokenizer',
    torch_dtype: 'float32',
    transformers_version: '4.34.0.dev0',
    use_cache: true,
    vocab_size: vocabulary.entries.length,
  };
}

export function m2m100GenerationConfig(): Record<string, unknown> {
  return {
    bos_token_id: M2M_BOS_ID,
    decoder_start_token_id: M2M_EOS_ID,
    eos_token_id: M2M_EOS_ID,
    max_length: 200,
    pad_token_id: M2M_PAD_ID,
    transformers_version: '4.34.0.dev0',
  };
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * NLLB's tokenizer.json: the default source language in the post-processor's first slot, which
 * transformers.js (and HF's NllbTokenizerFast) replace with `src_lang`.
 */
export function m2m100TokenizerJson(
  vocabulary: M2M100Vocabulary,
  precompiledCharsmap: string,
  sourceCode: string,
): Record<string, unknown> {
  const metaspace = { type: 'Metaspace', replacement: WORD_BOUNDARY, prepend_scheme: 'always', split: true };
  const sourceId = vocabulary.languageIds.get(sourceCode);
  if (sourceId === undefined) throw new Error(`${sourceCode} is not one of the model's language codes (${NLLB_LANGUAGE_CODES.join(', ')})`);
  const specialIds = [M2M_BOS_ID, M2M_PAD_ID, M2M_EOS_ID, M2M_UNK_ID, ...vocabulary.languageIds.values(), vocabulary.entries.length - 1];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialIds.map((id) => addedToken(id, vocabulary.entries[id]?.[0] as string)),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: precompiledCharsmap },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: sourceCode, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: EOS_TOKEN, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: sourceCode, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: EOS_TOKEN, type_id: 0 } },
      ],
      special_tokens: {
        [EOS_TOKEN]: { id: EOS_TOKEN, ids: [M2M_EOS_ID], tokens: [EOS_TOKEN] },
        [sourceCode]: { id: sourceCode, ids: [sourceId], tokens: [sourceCode] },
      },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: M2M_UNK_ID, vocab: vocabulary.entries, byte_fallback: false },
  };
}

export function m2m100TokenizerConfig(sourceCode: string): Record<string, unknown> {
  return {
    additional_special_tokens: NLLB_LANGUAGE_CODES,
    bos_token: BOS_TOKEN,
    clean_up_tokenization_spaces: true,
    cls_token: BOS_TOKEN,
    eos_token: EOS_TOKEN,
    legacy_behaviour: false,
    mask_token: MASK_TOKEN,
    model_max_length: 1024,
    pad_token: PAD_TOKEN,
    sep_token: EOS_TOKEN,
    sp_model_kwargs: {},
    src_lang: sourceCode,
    tgt_lang: null,
    tokenizer_class: 'NllbTokenizer',
    unk_token: UNK_TOKEN,
  };
}

export function m2m100SpecialTokensMap(): Record<string, unknown> {
  return {
    additional_special_tokens: NLLB_LANGUAGE_CODES,
    bos_token: BOS_TOKEN,
    cls_token: BOS_TOKEN,
    eos_token: EOS_TOKEN,
    mask_token: MASK_TOKEN,
    pad_token: PAD_TOKEN,
    sep_token: EOS_TOKEN,
    unk_token: UNK_TOKEN,
  };
}

/**
 * What a random model should prefer to write: English pieces (0) and `</s>` (`eosBias`) over
 * source-only pieces, language codes and the other special tokens (-4), as a trained model does.
 */
export function m2m100OutputBias(vocabulary: M2M100Vocabulary, eosBias = 0): Float32Array {
  const bias = new Float32Array(vocabulary.entries.length).fill(-4);
  for (const id of vocabulary.targetPieceIds) bias[id] = 0;
  bias[M2M_EOS_ID] = eosBias;
  return bias;
}
