/**
 * A Marian tokenizer in the Hugging Face `tokenizers` JSON format the way the Xenova opus-mt
 * exports carry it: a Unigram model whose ids follow Marian's vocab.json, Metaspace pre-tokenizer
 * and decoder with `▁`, and a post-processor that appends `</s>`. The generator writes it from its
 * trained vocabulary, the converter from a checkpoint's vocab.json + source.spm.
 */
export const EOS_TOKEN = '</s>';
export const UNK_TOKEN = '<unk>';
export const PAD_TOKEN = '<pad>';
const WORD_BOUNDARY = '▁';

export interface MarianTokenizerVocabulary {
  /** [piece, score] in id order, special tokens included, `<pad>` last. */
  entries: [string, number][];
  eosId: number;
  unkId: number;
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * `precompiledCharsmap`: SentencePiece's nmt_nfkc normalization table (base64), the normalizer of
 * the opus-mt SentencePiece models; transformers.js applies NFKC plus control/space clean-up for
 * any Precompiled normalizer, the Rust tokenizers library reads the table.
 * `removeExtraWhitespaces` (the .spm's normalizer_spec flag) adds what SentencePiece does on top:
 * strip the ends and collapse runs of spaces, as the converter's tokenizer.json must.
 */
export function marianTokenizerJson(
  vocabulary: MarianTokenizerVocabulary,
  precompiledCharsmap: string,
  removeExtraWhitespaces = false,
): Record<string, unknown> {
  const padId = vocabulary.entries.length - 1;
  const metaspace = { type: 'Metaspace', replacement: WORD_BOUNDARY, prepend_scheme: 'always', split: true };
  const precompiled = { type: 'Precompiled', precompiled_charsmap: precompiledCharsmap };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(vocabulary.eosId, EOS_TOKEN), addedToken(vocabulary.unkId, UNK_TOKEN), addedToken(padId, PAD_TOKEN)],
    normalizer: removeExtraWhitespaces
      ? {
          type: 'Sequence',
          normalizers: [
            precompiled,
            { type: 'Strip', strip_left: true, strip_right: true },
            { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
          ],
        }
      : precompiled,
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: EOS_TOKEN, type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: EOS_TOKEN, type_id: 0 } }],
      special_tokens: { [EOS_TOKEN]: { id: EOS_TOKEN, ids: [vocabulary.eosId], tokens: [EOS_TOKEN] } },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: vocabulary.unkId, vocab: vocabulary.entries, byte_fallback: false },
  };
}
