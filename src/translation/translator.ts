import { availableParallelism } from 'node:os';
import path from 'node:path';
import { AutoConfig, AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { LanguageCode, ModelUse, SentenceFlag, SentenceTerm } from '../article.js';
import { TranslationStoppedError } from '../errors.js';
import type { ModelDtype, PipelineConfig } from '../config/config.js';
import { ModelUnavailableError, type ModelLabel } from '../errors.js';
import { sha256File } from '../models/files.js';
import { modelFilesIn } from '../models/layout.js';
import { readManifest } from '../models/manifest.js';
import { assertModelReady } from '../models/verify.js';
import { Batcher, type BatchTiming } from './batcher.js';
import type { DecodeInput, SearchSettings } from './decoder.js';
import { FAMILIES, languageTokenId } from './families.js';
import { InferencePool } from './inference-pool.js';
import { cutAtSpaces, MAX_TOKENIZED_CHARS, splitToFit } from './input-splitting.js';
import { hashModelFiles } from './memory.js';
import { piecesDigest, trimmedOutputIds } from './output-vocabulary.js';
import { hasRepetitionLoop, lengthRatioWithin, preservationFlags, type LengthRatioBounds } from './qa.js';
import type { Q8Activations } from './seq2seq-sessions.js';
import { constraintTokens, type TokenConstraints } from '../terminology/constraints.js';
import { type MaskedSentence, maskUnspellable, unmask } from '../terminology/masking.js';
import { memorySource, type Requirement, sentenceTerms, Terminology, type TerminologySettings } from '../terminology/terminology.js';

/**
 * The Translator: one model (MarianMT, M2M-100 or NLLB-200) for one source language, fed batches of
 * sentences packed by a token budget. The main thread tokenizes (transformers.js), splits long inputs
 * (./input-splitting.ts) and batches them (./batcher.ts); the decode loop (./decoder.ts) runs in
 * worker threads (./inference-pool.ts). It
 * never truncates an input (long ones are split and flagged) and never hides a suspicious output
 * (decoding loops and odd lengths are flagged, ./qa.ts).
 */

export interface SentenceTranslation {
  target: string;
  /** Model input tokens, `</s>` included (for a split sentence, the whole sentence's count). */
  sourceTokens: number;
  /** Generated tokens, without the decoder start and `</s>`. */
  targetTokens: number;
  flags: SentenceFlag[];
  /** With `hypotheses` over 1: the next best translations, best first (a split sentence's pieces each give their next best, or their best when they have no more). */
  alternatives?: string[];
  /** The sentence's glossary terms and do-not-translate spans, each present in the English or not; absent when it has none. */
  terms?: SentenceTerm[];
}

/** Per call: the glossary and do-not-translate kinds for these sentences instead of the Translator's. */
export interface TranslateCallOptions {
  /** How many of beam search's best translations to make (CTranslate2's `num_hypotheses`): 1 (the default) up to `search.numBeams`. */
  hypotheses?: number;
  terminology?: TerminologySettings;
  /** The texts the sentences' page marks not to be translated (`SourceArticle.doNotTranslate`): copied when `markup` is on. */
  doNotTranslate?: readonly string[];
}

export interface TranslatorOptions {
  /** The model folder (`<modelsDir>/<id>/`, or any folder with the same layout). */
  modelDir: string;
  /** The model as outputs name it; the Translator adds the fingerprint of the weights it loads. */
  model: Omit<ModelUse, 'weights'>;
  dtype: ModelDtype;
  /** How q8 weights quantize activations; default `per-row` (batch-invariant), as in the config. */
  q8Activations?: Q8Activations;
  /** Source tokens per batch, padding included. */
  batchTokens: number;
  /**
   * Longest input the model is given, `</s>` included; at most the model's position table (512 for
   * Marian). Lowered further when needed so that `maxNewTokensRatio` × input still fits the decoder's
   * position table: an output is never cut by the model's own limit.
   */
  maxInputTokens: number;
  maxNewTokensRatio: number;
  /** Beam width; 1 is greedy search. Default: the model's generation_config.json `num_beams`. */
  numBeams?: number;
  /** Beam search: exponent of the length that divides a hypothesis's log-probability. Default: the model's, else 1. */
  lengthPenalty?: number;
  /** Beam search: stop when `numBeams` hypotheses are finished (true), by Hugging Face's bound (false) or never early. Default: the model's, else false. */
  earlyStopping?: boolean | 'never';
  noRepeatNgramSize: number;
  repetitionPenalty: number;
  /** Target/source token ratio (special tokens excluded) outside these bounds flags `length-ratio`; default 0.3–3. */
  lengthRatio?: LengthRatioBounds;
  /** Worker threads running the model, each with its own sessions; default 1. */
  workers?: number;
  /** onnxruntime intra-op threads per worker; default: the machine's cores, at most 2. */
  threadsPerWorker?: number;
  /** Names the model in errors, with the command that fixes it. */
  label?: ModelLabel;
  onBatch?: (timing: BatchTiming) => void;
  /**
   * Stops translating: checked before every batch, so a stop takes effect within one batch; the
   * inputs still queued are rejected with `TranslationStoppedError`.
   */
  signal?: AbortSignal;
  /** Whether different calls' sentences share batches; default true (./batcher.ts `batchAcrossCalls`). */
  batchAcrossCalls?: boolean;
  /**
   * For benchmarks: each input (its source ids, `</s>` included) generates exactly this many tokens,
   * then `</s>`; an earlier `</s>` is suppressed and `maxNewTokensRatio` is ignored. Generated models
   * with random weights stop at random lengths, so `bench:translate` fixes them to compare runtimes
   * on the same work.
   */
  fixedTargetTokens?: (sourceIds: readonly number[]) => number;
  /** Glossary and do-not-translate spans the output is constrained to (../terminology/); default: none. */
  terminology?: TerminologySettings;
  /** An English text whose pieces the output layer is cut to (`translation.trimOutputVocabulary`, ./output-vocabulary.ts); default: none. */
  trimOutputVocabulary?: string;
  /** With `trimOutputVocabulary`: texts the output must still be able to spell (the glossaries' English). */
  outputVocabularyTexts?: readonly string[];
}

/** Generated tokens allowed beyond `ratio × source tokens`, so very short inputs can still finish. */
const NEW_TOKENS_MARGIN = 8;
const DEFAULT_LENGTH_RATIO: LengthRatioBounds = { min: 0.3, max: 3 };

/**
 * Which weights a Translator on `modelDir` loads: sha256 over the names and sha256s of the model's
 * files for `dtype` (the ONNX graphs, config and tokenizer). Recorded in every output, and compared
 * by queue workers with the enqueuing machine's, so a stale copy of a model is caught.
 */
export async function weightsFingerprint(modelDir: string, dtype: ModelDtype): Promise<string> {
  return hashModelFiles(modelDir, await modelFilesIn(modelDir, dtype), sha256File);
}

export class Translator {
  private readonly batcher: Batcher;
  private readonly lengthRatio: LengthRatioBounds;
  private readonly terminology: Terminology | null;
  /** Longest model input after which a sentence is split; see `TranslatorOptions.maxInputTokens`. */
  readonly inputLimit: number;
  /** The search every batch uses: the options over the model's generation_config.json. */
  readonly search: SearchSettings;
  /**
   * Everything besides the weights that decides this Translator's output, as one string: the search,
   * how q8 activations are quantized, and where long inputs are split. Part of the translation
   * memory's key, so a sentence translated with other settings is translated again.
   */
  readonly decoding: string;

  private constructor(
    readonly model: ModelUse,
    private readonly options: TranslatorOptions,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly pool: InferencePool,
    private readonly maxPositions: number,
    /** The vocabulary ids a trimmed output layer keeps; null: all of them. */
    private readonly outputIds: ReadonlySet<number> | null,
    /** The batcher of the Translator this one shares its model with (`forLanguage`); else its own. */
    batcher?: Batcher,
  ) {
    this.lengthRatio = options.lengthRatio ?? DEFAULT_LENGTH_RATIO;
    this.terminology = options.terminology ? new Terminology(model.lang, options.terminology) : null;
    // The decoder holds the start token, the output and the final `</s>` in its position table.
    const outputRoom = Math.floor((maxPositions - 2 - NEW_TOKENS_MARGIN) / options.maxNewTokensRatio);
    this.inputLimit = Math.min(options.maxInputTokens, maxPositions, outputRoom);
    const generation = pool.info.generation;
    this.search = {
      numBeams: options.numBeams ?? generation.numBeams,
      lengthPenalty: options.lengthPenalty ?? generation.lengthPenalty,
      earlyStopping: options.earlyStopping ?? generation.earlyStopping,
      badWordsIds: generation.badWordsIds,
      renormalizeLogits: generation.renormalizeLogits,
      noRepeatNgramSize: options.noRepeatNgramSize,
      repetitionPenalty: options.repetitionPenalty,
    };
    this.decoding = JSON.stringify({
      search: this.search,
      q8Activations: options.dtype === 'q8' ? (options.q8Activations ?? 'per-row') : null,
      inputLimit: this.inputLimit,
      maxNewTokensRatio: options.maxNewTokensRatio,
      // Absent when the whole output layer is used, so keys made before the option stay valid.
      outputPieces: outputIds ? piecesDigest(outputIds) : undefined,
      // A multilingual model (M2M-100, NLLB) translates a sentence by its source-language token: one
      // memory per language. Absent for Marian, whose keys stay as they were.
      sourceLanguage: FAMILIES[pool.info.family].sourceLanguageToken ? model.lang : undefined,
    });
    this.batcher =
      batcher ??
      new Batcher({
        pool,
        search: this.search,
        batchTokens: options.batchTokens,
        decodeInput: (ids, constraints) => this.decodeInput(ids, constraints),
        onBatch: options.onBatch,
        signal: options.signal,
        batchAcrossCalls: options.batchAcrossCalls,
      });
  }

  /** Loads the model from its folder only (never from the network): the tokenizer here, the sessions in the workers. */
  static async load(options: TranslatorOptions): Promise<Translator> {
    const modelDir = path.resolve(options.modelDir);
    const label = options.label ?? {
      name: options.model.id,
      fix: `put a MarianMT, M2M-100 or NLLB-200 export (config.json, tokenizer.json, onnx/…) in ${modelDir}`,
    };
    await assertModelReady(modelDir, options.dtype, label);
    const threads = options.threadsPerWorker ?? Math.min(2, availableParallelism());
    try {
      // Per-call options only: transformers.js's global `env` is the host program's. `local_files_only`
      // keeps the network out whatever `env.allowRemoteModels` says, and an absolute path is not a hub
      // id, so it is read as it is whatever `env.localModelPath` says.
      const tokenizerLoad = AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
      // The kept pieces come from the tokenizer, and the workers cut their decoder to them as they load.
      const { trimOutputVocabulary: corpus, outputVocabularyTexts: texts } = options;
      const outputIds = corpus
        ? tokenizerLoad.then((tokenizer) => trimmedOutputIds(modelDir, tokenizer, corpus, texts))
        : Promise.resolve(null);
      const session = { dtype: options.dtype, q8Activations: options.q8Activations ?? 'per-row', intraOpThreads: threads };
      const [weights, manifest, tokenizer, config, kept, pool] = await Promise.all([
        weightsFingerprint(modelDir, options.dtype),
        readManifest(modelDir),
        tokenizerLoad,
        AutoConfig.from_pretrained(modelDir, { local_files_only: true }),
        outputIds,
        outputIds.then((ids) => InferencePool.open({ modelDir, session: { ...session, outputIds: ids }, workers: options.workers ?? 1 })),
      ]);
      const maxPositions = (config as unknown as { max_position_embeddings?: number }).max_position_embeddings ?? 512;
      const license = manifest?.license ? { license: manifest.license.id } : {};
      const model = { ...options.model, weights, ...license, ...(kept ? { outputPieces: kept.length } : {}) };
      return new Translator(model, { ...options, modelDir }, tokenizer, pool, maxPositions, kept && new Set(kept));
    } catch (error) {
      throw new ModelUnavailableError(label, modelDir, null, `could not be loaded (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  /**
   * A Translator for another source language on the same loaded model: one set of sessions and workers,
   * and one batcher, so sentences of both languages share batches (each input carries its own
   * source-language token on a multilingual model). Disposing either closes the model for both.
   */
  forLanguage(lang: LanguageCode, terminology?: TerminologySettings): Translator {
    const options = { ...this.options, terminology };
    return new Translator({ ...this.model, lang }, options, this.tokenizer, this.pool, this.maxPositions, this.outputIds, this.batcher);
  }

  /** The model folder, absolute. */
  get modelDir(): string {
    return this.options.modelDir;
  }

  /** The worker threads (for diagnostics and tests). */
  get threads(): InferencePool['threads'] {
    return this.pool.threads;
  }

  /** Model input ids for a text, `</s>` included (and the source-language token first for M2M-100); never truncated. */
  tokenize(text: string): number[] {
    const { info } = this.pool;
    if (!info.codeScheme || !FAMILIES[info.family].sourceLanguageToken) return this.tokenizer.encode(text);
    // Built here rather than by tokenizer.json's post-processor, whose language slot holds one default language.
    const sourceId = languageTokenId(info.specialIds, info.codeScheme, this.model.lang);
    return [sourceId, ...this.tokenizer.encode(text, { add_special_tokens: false }), info.eosId];
  }

  /**
   * Translates sentences; results come back in input order. Calls made while a batch runs share the
   * next round of batches, so several articles translated at once fill batches together. Once
   * `signal` aborts, the sentences still queued are dropped (the call rejects with its reason).
   */
  async translate(sentences: string[], signal?: AbortSignal, call: TranslateCallOptions = {}): Promise<SentenceTranslation[]> {
    const terminology = this.terminologyFor(call);
    const hypotheses = call.hypotheses ?? 1;
    if (!Number.isInteger(hypotheses) || hypotheses < 1 || hypotheses > this.search.numBeams)
      throw new RangeError(
        `${hypotheses} translations asked for; beam search with ${this.search.numBeams} beams makes 1 to ${this.search.numBeams}`,
      );
    return Promise.all(sentences.map((sentence) => this.translateOne(sentence, signal, terminology, hypotheses)));
  }

  /**
   * The translation memory's key for a sentence: the sentence, with what its output is constrained
   * to when it has glossary terms or do-not-translate spans (`call` as for `translate`).
   */
  memorySource(sentence: string, call: TranslateCallOptions = {}): string {
    const terminology = this.terminologyFor(call);
    return memorySource(sentence, terminology?.requirements(sentence.trim()) ?? []);
  }

  /**
   * The sentence's glossary terms and do-not-translate spans and whether `english` carries each (empty
   * when it has none); from the texts alone, so a translation the memory serves gets them too.
   */
  terms(sentence: string, english: string, call: TranslateCallOptions = {}): SentenceTerm[] {
    const terminology = this.terminologyFor(call);
    const text = sentence.trim();
    return sentenceTerms(text, english, terminology?.requirements(text) ?? []);
  }

  /** A call's terminology: its own or the Translator's, with the texts its page marks; null when there is none. */
  private terminologyFor(call: TranslateCallOptions): Terminology | null {
    if (!call.terminology && !call.doNotTranslate?.length) return this.terminology;
    const settings = call.terminology ?? this.terminology?.settings;
    return settings ? new Terminology(this.model.lang, settings, call.doNotTranslate) : null;
  }

  /** A requirement's English as model tokens, or null when the tokenizer cannot spell it back exactly (it cannot be forced). */
  spell(english: string): number[] | null {
    const ids = this.tokenizer.encode(english, { add_special_tokens: false });
    // A piece a trimmed output layer does not keep cannot be forced either: the requirement goes as a placeholder.
    if (this.outputIds && !ids.every((id) => this.outputIds!.has(id))) return null;
    return ids.length > 0 && this.tokenizer.decode(ids, { skip_special_tokens: true }).trim() === english ? ids : null;
  }

  private async translateOne(
    sentence: string,
    signal: AbortSignal | undefined,
    terminology: Terminology | null,
    hypotheses: number,
  ): Promise<SentenceTranslation> {
    const text = sentence.trim();
    if (text === '') return { target: '', sourceTokens: 0, targetTokens: 0, flags: [] };
    const requirements = terminology?.requirements(text) ?? [];
    if (requirements.length > 0) return this.translateConstrained(text, requirements, signal, hypotheses);
    return this.translateText(text, signal, () => undefined, hypotheses);
  }

  /** Translates a sentence under its requirements; says which it carries and flags a glossary term it could not. */
  private async translateConstrained(
    text: string,
    requirements: readonly Requirement[],
    signal: AbortSignal | undefined,
    hypotheses: number,
  ): Promise<SentenceTranslation> {
    // What the vocabulary cannot spell goes to the model as a placeholder (../terminology/masking.ts).
    const masked = maskUnspellable(text, requirements, (english) => this.spell(english));
    // A long sentence is cut into pieces: each piece carries the requirements whose source it holds.
    const constraintsOf = (piece: string): TokenConstraints =>
      masked.constraints.flatMap(({ source, tokens }) => (tokens && piece.includes(source) ? [tokens] : []));
    const result = await this.translateText(text, signal, constraintsOf, hypotheses, masked);
    const terms = sentenceTerms(text, result.target, requirements);
    if (terms.some((term) => term.kind === 'term' && !term.present)) result.flags.push('term-missing');
    return { ...result, terms };
  }

  private async translateText(
    text: string,
    signal: AbortSignal | undefined,
    constraintsOf: (piece: string) => TokenConstraints | undefined,
    hypotheses = 1,
    masked?: MaskedSentence,
  ): Promise<SentenceTranslation> {
    const pieces: { ids: number[]; text: string }[] = [];
    const english = (outputs: readonly number[][]) => (masked ? unmask(this.detokenize(outputs), masked) : this.detokenize(outputs));
    // `</s>` once for the whole sentence, as if it had been tokenized in one piece.
    let sourceTokens = 1;
    for (const [index, chunk] of cutAtSpaces(masked?.text ?? text, MAX_TOKENIZED_CHARS).entries()) {
      if (index > 0) {
        // Tokenizing is synchronous: between chunks of a long line the event loop gets a turn (a
        // signal is heard) and a stop ends the work here.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.options.signal?.aborted) throw new TranslationStoppedError();
      }
      const ids = this.tokenize(chunk);
      sourceTokens += ids.length - 1;
      if (ids.length <= this.inputLimit) pieces.push({ ids, text: chunk });
      else
        for (const piece of splitToFit(chunk, (part) => this.tokenize(part).length, this.inputLimit))
          pieces.push({ ids: this.tokenize(piece), text: piece });
    }
    const nBest = await Promise.all(pieces.map((piece) => this.batcher.enqueue(piece.ids, signal, constraintsOf(piece.text), hypotheses)));
    const outputs = nBest.map((best) => best[0]!);
    const targetIds = outputs.flat();
    const flags: SentenceFlag[] = [];
    if (pieces.length > 1) flags.push('split-long-input');
    if (hasRepetitionLoop(targetIds)) flags.push('repetition-loop');
    if (!lengthRatioWithin(sourceTokens - 1, targetIds.length, this.lengthRatio)) flags.push('length-ratio');
    const target = english(outputs);
    flags.push(...preservationFlags(text, target, this.model.lang));
    if (hypotheses === 1) return { target, sourceTokens, targetTokens: targetIds.length, flags };
    const more = Math.max(...nBest.map((best) => best.length)) - 1;
    const alternatives = Array.from({ length: more }, (_, k) => english(nBest.map((best) => best[k + 1] ?? best[0]!)));
    return { target, sourceTokens, targetTokens: targetIds.length, flags, alternatives };
  }

  /** The English of a sentence's pieces, joined by a space. */
  private detokenize(outputs: readonly number[][]): string {
    return (
      outputs
        // tokenizer.decode throws on an empty list, and a model may well emit `</s>` first.
        .map((output) => (output.length === 0 ? '' : this.tokenizer.decode(output, { skip_special_tokens: true }).trim()))
        .filter((piece) => piece !== '')
        .join(' ')
    );
  }

  /** What the decoder is given for one model input: how many tokens it may (or, for benchmarks, must) generate. */
  private decodeInput(ids: number[], constraints?: TokenConstraints): DecodeInput {
    const fixed = this.options.fixedTargetTokens;
    if (!constraints?.length) {
      if (fixed) {
        const length = fixed(ids);
        return { ids, maxNewTokens: length, minNewTokens: length };
      }
      return { ids, maxNewTokens: Math.ceil(this.options.maxNewTokensRatio * ids.length) + NEW_TOKENS_MARGIN };
    }
    // Room for the constraints on top of what the sentence itself may take (all of it, at a fixed length, if they need it).
    if (fixed) {
      const length = Math.max(fixed(ids), constraintTokens(constraints));
      return { ids, maxNewTokens: length, minNewTokens: length, constraints };
    }
    const maxNewTokens = Math.ceil(this.options.maxNewTokensRatio * ids.length) + NEW_TOKENS_MARGIN + constraintTokens(constraints);
    return { ids, maxNewTokens, constraints };
  }

  async dispose(): Promise<void> {
    await this.pool.close();
  }
}

export type TranslationConfig = PipelineConfig['translation'];

/** The Translator settings of the `translation` config that decide the output (not how it is computed: workers, threads). */
export function decodingOptions(
  config: TranslationConfig,
): Pick<
  TranslatorOptions,
  | 'dtype'
  | 'q8Activations'
  | 'batchTokens'
  | 'maxInputTokens'
  | 'maxNewTokensRatio'
  | 'numBeams'
  | 'lengthPenalty'
  | 'earlyStopping'
  | 'noRepeatNgramSize'
  | 'repetitionPenalty'
  | 'lengthRatio'
  | 'trimOutputVocabulary'
> {
  const { dtype, q8Activations, batchTokens, maxInputTokens, maxNewTokensRatio, numBeams, lengthPenalty, earlyStopping } = config;
  const { noRepeatNgramSize, repetitionPenalty, lengthRatio, trimOutputVocabulary } = config;
  return {
    dtype,
    q8Activations,
    batchTokens,
    maxInputTokens,
    maxNewTokensRatio,
    numBeams,
    lengthPenalty,
    earlyStopping,
    noRepeatNgramSize,
    repetitionPenalty,
    lengthRatio,
    trimOutputVocabulary,
  };
}
