/**
 * A Marian vocabulary trained on real text and written in the Hugging Face `tokenizers` JSON format
 * the way the Xenova opus-mt exports carry it: a Unigram model whose ids follow Marian's vocab.json
 * (`</s>` 0, `<unk>` 1, the pieces, `<pad>` last), Metaspace pre-tokenizer and decoder with `▁`, and
 * a post-processor that appends `</s>`.
 */
import type { SourceLang } from './marian-config.js';
import { Random } from './random.js';
import { WORD_BOUNDARY, corpusWords, segmentWord, substringCandidates, trainUnigram } from './unigram.js';

import { EOS_TOKEN, PAD_TOKEN, UNK_TOKEN } from '../../src/models/convert/marian-tokenizer-json.js';

export { EOS_TOKEN, PAD_TOKEN, UNK_TOKEN, marianTokenizerJson as tokenizerJson } from '../../src/models/convert/marian-tokenizer-json.js';

const MAX_PIECE_LENGTH = 16;

export interface MarianVocabulary {
  /** [piece, score] in id order, special tokens included. */
  entries: [string, number][];
  /** Ids of the pieces the English corpus segments into: the target side of the vocabulary. */
  targetPieceIds: Set<number>;
  eosId: number;
  unkId: number;
}

/**
 * Pseudo-words drawn from the corpus' character bigrams: enough plausible-looking pieces to fill a
 * hub-sized vocabulary when the corpus has fewer distinct substrings than the model has ids.
 */
function* pseudoPieces(words: Map<string, number>, random: Random): Generator<string> {
  const followers = new Map<string, string[]>();
  for (const word of words.keys()) {
    const chars = Array.from(word);
    for (let i = 0; i + 1 < chars.length; i++) {
      const list = followers.get(chars[i] as string) ?? [];
      list.push(chars[i + 1] as string);
      followers.set(chars[i] as string, list);
    }
  }
  const starts = Array.from(followers.keys()).sort();
  if (starts.length === 0) return;
  for (;;) {
    let char = starts[Math.floor(random.next() * starts.length)] as string;
    let piece = char;
    const length = 2 + Math.floor(random.next() * 7);
    while (Array.from(piece).length < length) {
      const next = followers.get(char);
      if (next === undefined) break;
      char = next[Math.floor(random.next() * next.length)] as string;
      piece += char;
    }
    if (Array.from(piece).length >= 2) yield piece;
  }
}

/**
 * Trains `vocabSize - 3` pieces on the source-language text plus English (Marian's opus-mt models
 * share one vocabulary between source and target), filling up with lower-scored corpus substrings
 * and pseudo-words when the corpus is too small for the requested size.
 */
export function buildVocabulary(
  sourceText: string,
  englishText: string,
  vocabSize: number,
  seed: number,
  specials: { eosId: number; unkId: number } = { eosId: 0, unkId: 1 },
): MarianVocabulary {
  const pieceCount = vocabSize - 3;
  const corpus = `${sourceText}\n${englishText}`;
  const trained = trainUnigram(corpus, { vocabSize: pieceCount, maxPieceLength: MAX_PIECE_LENGTH });
  const pieces: [string, number][] = trained.map((p) => [p.piece, p.score]);
  const taken = new Set(pieces.map(([piece]) => piece));
  let fillScore = Math.min(...pieces.map(([, score]) => score)) - 1;
  const add = (piece: string) => {
    if (pieces.length >= pieceCount || taken.has(piece) || piece === WORD_BOUNDARY) return;
    taken.add(piece);
    pieces.push([piece, fillScore]);
    fillScore -= 1e-4;
  };
  const words = corpusWords(corpus);
  for (const candidate of substringCandidates(words, MAX_PIECE_LENGTH)) add(candidate);
  const pseudo = pseudoPieces(words, new Random(seed ^ 0x5eed));
  while (pieces.length < pieceCount) add(pseudo.next().value as string);

  const { eosId, unkId } = specials;
  const rest = pieces.values();
  const entries = Array.from({ length: vocabSize }, (_, id): [string, number] => {
    if (id === eosId) return [EOS_TOKEN, 0];
    if (id === unkId) return [UNK_TOKEN, 0];
    if (id === vocabSize - 1) return [PAD_TOKEN, 0];
    return rest.next().value as [string, number];
  });
  const scores = new Map(pieces);
  const ids = new Map(entries.map(([piece], id) => [piece, id]));
  const targetPieceIds = new Set<number>();
  for (const word of corpusWords(englishText).keys()) {
    for (const piece of segmentWord(word, scores, MAX_PIECE_LENGTH) ?? []) targetPieceIds.add(ids.get(piece) as number);
  }
  return { entries, targetPieceIds, eosId, unkId };
}

export function tokenizerConfig(sourceLang: SourceLang): Record<string, unknown> {
  return {
    clean_up_tokenization_spaces: true,
    eos_token: EOS_TOKEN,
    model_max_length: 512,
    pad_token: PAD_TOKEN,
    separate_vocabularies: false,
    source_lang: sourceLang,
    sp_model_kwargs: {},
    target_lang: 'en',
    tokenizer_class: 'MarianTokenizer',
    unk_token: UNK_TOKEN,
  };
}

export function specialTokensMap(): Record<string, string> {
  return { eos_token: EOS_TOKEN, pad_token: PAD_TOKEN, unk_token: UNK_TOKEN };
}

/** Marian's vocab.json: piece → id. */
export function vocabJson(vocabulary: MarianVocabulary): Record<string, number> {
  return Object.fromEntries(vocabulary.entries.map(([piece], id) => [piece, id]));
}
