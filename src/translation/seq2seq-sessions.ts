/**
 * The two onnxruntime-node sessions of a MarianMT export (`encoder_model`, `decoder_model_merged`)
 * and the model facts the decode loop needs, read from the folder's config.json and
 * generation_config.json. Every session is created from `sessionSource`, the one place where a
 * load-time graph rewrite applies.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelDtype, PipelineConfig } from '../config/config.js';
import { TARGET_LANGUAGE } from '../languages.js';
import { architectureFromConfig, type Family } from '../models/convert/architecture.js';
import { codeSchemeOf, FAMILIES, type LanguageCodeScheme, languageTokenId, specialTokenIds } from './families.js';
import { type LogSoftmax, openLogSoftmax } from './log-softmax.js';
import { withInlinedExternalData } from './external-data.js';
import { trimmedOutputLayer } from './output-layer-trim.js';
import { type DecoderVocabulary, decoderVocabulary } from './output-vocabulary.js';
import { rowwiseQuantized } from './rowwise-quantization.js';

/** What the decode loop needs to know about a model. */
export interface Seq2SeqModelInfo {
  decoderStartId: number;
  eosId: number;
  padId: number;
  decoderLayers: number;
  heads: number;
  headDim: number;
  vocabSize: number;
  /** config.json `model_type` (./families.ts). */
  family: Family;
  /** The scheme of the model's language tokens, null for a model with none (Marian). */
  codeScheme: LanguageCodeScheme | null;
  /** tokenizer.json's special tokens by content (language tokens among them). */
  specialIds: Record<string, number>;
  /** Per target token, 1 when it continues a word (../terminology/constraints.ts keeps terms whole words). */
  wordContinuations: Uint8Array;
  /** English's token, forced after the decoder start token (families that force the target language), else null. */
  forcedBosId: number | null;
  /** The model's generation_config.json: beams, length penalty, banned tokens. */
  generation: GenerationDefaults;
}

export interface GenerationDefaults {
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  badWordsIds: number[][];
  renormalizeLogits: boolean;
}

export interface Seq2SeqSessions {
  encoder: ort.InferenceSession;
  decoder: ort.InferenceSession;
  /** Beam search's log-probabilities over the decoder's output. */
  logSoftmax: LogSoftmax;
  info: Seq2SeqModelInfo;
  /** What the decoder's logits are over: the whole vocabulary, or a trimmed output layer's pieces. */
  vocabulary: DecoderVocabulary;
  release(): Promise<void>;
}

/**
 * How q8 models quantize activations: `per-row` (each token of each sentence on its own scale, so a
 * sentence translates the same whatever its batch mates; see rowwise-quantization.ts) or `per-batch`
 * (the exported graphs as they are: one scale per tensor).
 */
export type Q8Activations = PipelineConfig['translation']['q8Activations'];

export interface SessionOptions {
  dtype: ModelDtype;
  q8Activations: Q8Activations;
  /** onnxruntime intra-op threads per session. */
  intraOpThreads: number;
  /** The vocabulary ids the decoder's output layer keeps (ascending; ./output-vocabulary.ts), else the whole vocabulary. */
  outputIds?: Int32Array | null;
}

/** A decoder's output layer cut to these ids, for a model of this vocabulary and width. */
interface OutputTrim {
  kept: Int32Array;
  vocabSize: number;
  dModel: number;
}

const DTYPE_SUFFIX: Record<ModelDtype, string> = { fp32: '', q8: '_quantized' };

/** The ONNX file of one part of the export for a dtype. */
export function onnxFile(modelDir: string, part: 'encoder_model' | 'decoder_model_merged', dtype: ModelDtype): string {
  return path.join(modelDir, 'onnx', `${part}${DTYPE_SUFFIX[dtype]}.onnx`);
}

/**
 * What a session is created from. Every session goes through here, so a load-time rewrite of the
 * graph (such as per-row activation quantization for q8) has exactly one place to plug in. A graph
 * loaded as it is goes to onnxruntime by its path, so that onnxruntime also reads the external data
 * beside it (`<file>_data`, NLLB-200-600M's fp32 weights); a rewritten one goes as bytes, with any
 * external data read into it first (./external-data.ts).
 */
export async function sessionSource(file: string, options: SessionOptions, trim?: OutputTrim): Promise<string | Uint8Array> {
  const rowwise = options.dtype === 'q8' && options.q8Activations === 'per-row';
  if (!rowwise && !trim) return file;
  let model = await withInlinedExternalData(await readFile(file), file);
  // Cut first, so the per-row rewrite's column sums are those of the kept columns.
  if (trim) model = trimmedOutputLayer(model, trim.kept, trim.vocabSize, trim.dModel);
  return rowwise ? rowwiseQuantized(model) : model;
}

interface TokenizerJson {
  added_tokens?: { content: string; id: number }[];
  model?: { vocab?: unknown };
}

/**
 * Which of `vocabSize` tokens continue a word: SentencePiece pieces that do not start with `▁` and
 * begin with a letter or digit (`son` after `John`). Added tokens (`</s>`, `__en__`) never do. A
 * vocabulary other than Unigram's `[piece, score][]` gives all zeros: no term is held to word ends.
 */
export function wordContinuations(tokenizerJson: TokenizerJson, vocabSize: number): Uint8Array {
  const table = new Uint8Array(vocabSize);
  const vocab = tokenizerJson.model?.vocab;
  if (!Array.isArray(vocab)) return table;
  const added = new Set((tokenizerJson.added_tokens ?? []).map((token) => token.id));
  vocab.forEach((entry, id) => {
    const piece: unknown = Array.isArray(entry) ? entry[0] : undefined;
    if (id < vocabSize && !added.has(id) && typeof piece === 'string' && /^[\p{L}\p{N}]/u.test(piece)) table[id] = 1;
  });
  return table;
}

export async function readModelInfo(modelDir: string): Promise<Seq2SeqModelInfo> {
  const configFile = path.join(modelDir, 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  // The converter's reader: family and shapes come from config.json the same way for both.
  const architecture = architectureFromConfig(config, configFile);
  const family = FAMILIES[architecture.family];
  const tokenizerJson = JSON.parse(await readFile(path.join(modelDir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
  const specialIds = specialTokenIds(tokenizerJson);
  const codeScheme = codeSchemeOf(specialIds);
  if (family.sourceLanguageToken && !codeScheme)
    throw new Error(
      `${path.join(modelDir, 'tokenizer.json')}: an ${family.name} model's tokenizer needs language tokens (eng_Latn or __en__)`,
    );
  let generation: Record<string, unknown> = {};
  try {
    generation = JSON.parse(await readFile(path.join(modelDir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // generation_config.json wins over config.json, as in Hugging Face's `generate`.
  const setting = <T>(key: string, fallback: T): T => (generation[key] ?? config[key] ?? fallback) as T;
  const { decoderHeads: heads, padTokenId: padId } = architecture;
  return {
    decoderStartId: setting('decoder_start_token_id', padId),
    eosId: setting('eos_token_id', 0),
    padId,
    decoderLayers: architecture.decoderLayers,
    heads,
    headDim: architecture.dModel / heads,
    // The logits' width: the decoder's vocabulary (a Marian model with separate vocabularies has its own).
    vocabSize: architecture.decoderVocabSize,
    family: family.name,
    codeScheme,
    specialIds,
    wordContinuations: wordContinuations(tokenizerJson, architecture.decoderVocabSize),
    forcedBosId: family.forcesTargetLanguage && codeScheme ? languageTokenId(specialIds, codeScheme, TARGET_LANGUAGE) : null,
    generation: {
      numBeams: setting('num_beams', 1),
      lengthPenalty: setting('length_penalty', 1),
      earlyStopping: setting('early_stopping', false),
      badWordsIds: setting('bad_words_ids', [] as number[][]),
      renormalizeLogits: setting('renormalize_logits', false),
    },
  };
}

export async function openSeq2SeqSessions(modelDir: string, options: SessionOptions): Promise<Seq2SeqSessions> {
  const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: options.intraOpThreads, interOpNumThreads: 1 };
  const info = await readModelInfo(modelDir);
  const trim = options.outputIds ? { kept: options.outputIds, vocabSize: info.vocabSize, dModel: info.headDim * info.heads } : undefined;
  const open = async (part: 'encoder_model' | 'decoder_model_merged') => {
    const file = onnxFile(modelDir, part, options.dtype);
    try {
      const source = await sessionSource(file, options, part === 'decoder_model_merged' ? trim : undefined);
      return await (typeof source === 'string'
        ? ort.InferenceSession.create(source, sessionOptions)
        : ort.InferenceSession.create(source, sessionOptions));
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const [encoder, decoder] = await Promise.all([open('encoder_model'), open('decoder_model_merged')]);
  const vocabulary = decoderVocabulary(info, options.outputIds ?? null);
  const logSoftmax = await openLogSoftmax(vocabulary.size);
  return {
    encoder,
    decoder,
    logSoftmax,
    info,
    vocabulary,
    release: async () => {
      await Promise.all([encoder.release(), decoder.release(), logSoftmax.release()]);
    },
  };
}
