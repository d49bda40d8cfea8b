/**
 * `translation.trimOutputVocabulary`: which vocabulary pieces a trimmed output layer keeps
 * (./output-layer-trim.ts cuts the graph), and the decode loop's view of them.
 *
 * Kept: every piece an English text tokenizes into, every special and language token, every piece
 * that is one printable ASCII character (so any ASCII text, a placeholder, a URL or a number, can
 * still be spelled), and the pieces of the given extra texts (the glossaries' English). The decode
 * loop then works in logit columns: hypotheses, processors and constraints hold columns, and a
 * column becomes a vocabulary id only where the decoder reads its input and where outputs leave.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { readModelInfo, type Seq2SeqModelInfo } from './seq2seq-sessions.js';

/** A piece of the tokenizer's vocabulary that is one printable ASCII character, with or without SentencePiece's `▁`. */
const ASCII_PIECE = /^▁?[\x21-\x7e]?$/u;

interface TokenizerJson {
  added_tokens?: { id: number }[];
  model?: { vocab?: unknown };
}

/** The vocabulary ids of a trimmed output layer, ascending; the model's own special ids are always among them. */
export async function keptOutputIds(
  modelDir: string,
  info: Pick<Seq2SeqModelInfo, 'vocabSize' | 'decoderStartId' | 'eosId' | 'padId' | 'forcedBosId' | 'specialIds'>,
  corpusFile: string,
  encode: (text: string) => number[],
  extraTexts: readonly string[] = [],
): Promise<Int32Array> {
  const kept = new Set<number>([info.decoderStartId, info.eosId, info.padId, ...Object.values(info.specialIds)]);
  if (info.forcedBosId !== null) kept.add(info.forcedBosId);
  const tokenizerJson = JSON.parse(await readFile(path.join(modelDir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
  for (const token of tokenizerJson.added_tokens ?? []) kept.add(token.id);
  const vocab = tokenizerJson.model?.vocab;
  if (Array.isArray(vocab))
    vocab.forEach((entry, id) => {
      const piece: unknown = Array.isArray(entry) ? entry[0] : undefined;
      if (typeof piece === 'string' && ASCII_PIECE.test(piece)) kept.add(id);
    });
  let lines = 0;
  let lineNumber = 0;
  const corpus = createInterface({ input: createReadStream(corpusFile, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of corpus) {
      lineNumber++;
      // A binary file read as text would keep a few random pieces and quietly ruin every translation.
      if (line.includes('\u0000') || line.includes('\uFFFD'))
        throw new Error(
          `translation.trimOutputVocabulary: ${corpusFile}:${lineNumber} is not UTF-8 text; give an English text file, or remove the setting`,
        );
      if (line.trim() === '') continue;
      lines++;
      for (const id of encode(line)) kept.add(id);
    }
  } catch (error) {
    if ((error as Error).message.startsWith('translation.trimOutputVocabulary:')) throw error;
    throw new Error(
      `translation.trimOutputVocabulary: ${corpusFile} cannot be read (${(error as Error).message}); give an English text file, or remove the setting`,
      { cause: error },
    );
  }
  if (lines === 0)
    throw new Error(`translation.trimOutputVocabulary: ${corpusFile} has no text; give an English text file, or remove the setting`);
  for (const text of extraTexts) for (const id of encode(text)) kept.add(id);
  return Int32Array.from([...kept].filter((id) => id >= 0 && id < info.vocabSize).sort((a, b) => a - b));
}

/** `keptOutputIds` for a model folder and its loaded tokenizer, pieces as the Translator tokenizes English. */
export async function trimmedOutputIds(
  modelDir: string,
  tokenizer: PreTrainedTokenizer,
  corpusFile: string,
  extraTexts?: readonly string[],
): Promise<Int32Array> {
  const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
  return keptOutputIds(modelDir, await readModelInfo(modelDir), corpusFile, encode, extraTexts);
}

/** What names a set of kept pieces in the translation memory's key. */
export function piecesDigest(ids: Iterable<number>): string {
  return createHash('sha256').update(Int32Array.from(ids)).digest('hex');
}

/** The decode loop's tokens: logit columns, the model facts it needs in those columns, and the way back to vocabulary ids. */
export interface DecoderVocabulary {
  /** The logits' width. */
  size: number;
  decoderStartId: number;
  eosId: number;
  forcedBosId: number | null;
  /** Per column, 1 when its piece continues a word. */
  wordContinuations: Uint8Array;
  /** Columns → vocabulary ids (the decoder's input, and the outputs). */
  ids(columns: readonly number[]): number[];
  /** Vocabulary ids → columns; throws for an id the layer does not keep. */
  columns(ids: readonly number[]): number[];
  /** Banned sequences (vocabulary ids) as columns; one with a piece the layer cannot write can never be written, and goes. */
  bannable(sequences: readonly (readonly number[])[]): number[][];
}

/** The whole vocabulary (`kept` null) or a trimmed output layer's columns, over the model's facts. */
export function decoderVocabulary(info: Seq2SeqModelInfo, kept: Int32Array | null): DecoderVocabulary {
  const { decoderStartId, eosId, forcedBosId, wordContinuations } = info;
  if (!kept)
    return {
      size: info.vocabSize,
      decoderStartId,
      eosId,
      forcedBosId,
      wordContinuations,
      ids: (columns) => [...columns],
      columns: (ids) => [...ids],
      bannable: (sequences) => sequences.map((sequence) => [...sequence]),
    };
  const columnOf = new Map<number, number>(Array.from(kept, (id, column) => [id, column]));
  const column = (id: number) => {
    const found = columnOf.get(id);
    if (found === undefined) throw new RangeError(`token ${id} is not among the ${kept.length} pieces the trimmed output layer keeps`);
    return found;
  };
  return {
    size: kept.length,
    decoderStartId: column(decoderStartId),
    eosId: column(eosId),
    forcedBosId: forcedBosId === null ? null : column(forcedBosId),
    wordContinuations: Uint8Array.from(kept, (id) => wordContinuations[id] ?? 0),
    ids: (columns) => columns.map((c) => kept[c]!),
    columns: (ids) => ids.map(column),
    bannable: (sequences) =>
      sequences.filter((sequence) => sequence.every((id) => columnOf.has(id))).map((sequence) => sequence.map(column)),
  };
}
