import { availableParallelism } from 'node:os';
import path from 'node:path';
import { AutoConfig, AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { LanguageCode, ModelUse, SentenceFlag } from '../article.js';
import { TranslationStoppedError } from '../errors.js';
import type { PipelineConfig } from '../config/config.js';
import { ModelUnavailableError, type ModelLabel } from '../errors.js';
import { assertModelReady, configuredModels, modelFiles, sha256File, type ConfiguredModel, type ModelDtype } from '../models/store.js';
import type { DecodeInput, SearchSettings } from './decoder.js';
import { InferencePool } from './inference-pool.js';
import { hashModelFiles } from './memory.js';
import { preservationFlags } from './qa.js';
import type { Q8Activations } from './seq2seq-sessions.js';

/**
 * The Translator: one MarianMT model, fed batches of sentences packed by a token budget. The main
 * thread tokenizes (transformers.js), batches and routes; the decode loop (./decoder.ts) runs in
 * worker threads (./inference-pool.ts). It never truncates an input (long ones are split and flagged)
 * and never hides a suspicious output (decoding loops and odd lengths are flagged).
 */

export interface SentenceTranslation {
  target: string;
  /** Model input tokens, `</s>` included (for a split sentence, the whole sentence's count). */
  sourceTokens: number;
  /** Generated tokens, without the decoder start and `</s>`. */
  targetTokens: number;
  flags: SentenceFlag[];
}

export interface BatchTiming {
  /** Model inputs in the batch: sentences, or pieces of sentences that were split. */
  sentences: number;
  sourceTokens: number;
  targetTokens: number;
  ms: number;
}

export interface LengthRatioBounds {
  min: number;
  max: number;
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
  /**
   * For benchmarks: each input (its source ids, `</s>` included) generates exactly this many tokens,
   * then `</s>`; an earlier `</s>` is suppressed and `maxNewTokensRatio` is ignored. Generated models
   * with random weights stop at random lengths, so `bench:translate` fixes them to compare runtimes
   * on the same work.
   */
  fixedTargetTokens?: (sourceIds: readonly number[]) => number;
}

/** Generated tokens allowed beyond `ratio × source tokens`, so very short inputs can still finish. */
const NEW_TOKENS_MARGIN = 8;
const DEFAULT_LENGTH_RATIO: LengthRatioBounds = { min: 0.3, max: 3 };

/**
 * Which weights a Translator on `modelDir` loads: sha256 over the names and sha256s of the model's
 * files for `dtype` (the ONNX graphs, config and tokenizer). Recorded in every output, and compared
 * by queue workers with the enqueuing machine's, so a stale copy of a model is caught.
 */
export function weightsFingerprint(modelDir: string, dtype: ModelDtype): Promise<string> {
  return hashModelFiles(modelDir, modelFiles(dtype), sha256File);
}

/** One model input waiting in the batching queue: a sentence or a piece of one. */
interface QueuedInput {
  ids: number[];
  resolve: (targetIds: number[]) => void;
  reject: (error: unknown) => void;
}

export class Translator {
  private readonly pending: QueuedInput[] = [];
  private draining = false;
  private readonly lengthRatio: LengthRatioBounds;
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
    maxPositions: number,
  ) {
    this.lengthRatio = options.lengthRatio ?? DEFAULT_LENGTH_RATIO;
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
    });
  }

  /** Loads the model from its folder only (never from the network): the tokenizer here, the sessions in the workers. */
  static async load(options: TranslatorOptions): Promise<Translator> {
    const modelDir = path.resolve(options.modelDir);
    const label = options.label ?? {
      name: options.model.id,
      fix: `put a MarianMT export (config.json, tokenizer.json, onnx/…) in ${modelDir}`,
    };
    await assertModelReady(modelDir, options.dtype, label);
    const threads = options.threadsPerWorker ?? Math.min(2, availableParallelism());
    try {
      // Per-call options only: transformers.js's global `env` is the host program's. `local_files_only`
      // keeps the network out whatever `env.allowRemoteModels` says, and an absolute path is not a hub
      // id, so it is read as it is whatever `env.localModelPath` says.
      const [weights, tokenizer, config, pool] = await Promise.all([
        weightsFingerprint(modelDir, options.dtype),
        AutoTokenizer.from_pretrained(modelDir, { local_files_only: true }),
        AutoConfig.from_pretrained(modelDir, { local_files_only: true }),
        InferencePool.open({ modelDir, session: { dtype: options.dtype, q8Activations: options.q8Activations ?? 'per-row', intraOpThreads: threads }, workers: options.workers ?? 1 }),
      ]);
      const maxPositions = (config as unknown as { max_position_embeddings?: number }).max_position_embeddings ?? 512;
      return new Translator({ ...options.model, weights }, { ...options, modelDir }, tokenizer, pool, maxPositions);
    } catch (error) {
      throw new ModelUnavailableError(label, modelDir, null, `could not be loaded (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  /** The model folder, absolute. */
  get modelDir(): string {
    return this.options.modelDir;
  }

  /** The worker threads (for diagnostics and tests). */
  get threads(): InferencePool['threads'] {
    return this.pool.threads;
  }

  /** Model input ids for a text, `</s>` included; never truncated. */
  tokenize(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  /**
   * Translates sentences; results come back in input order. Calls made while a batch runs share the
   * next round of batches, so several articles translated at once fill batches together.
   */
  async translate(sentences: string[]): Promise<SentenceTranslation[]> {
    return Promise.all(sentences.map((sentence) => this.translateOne(sentence)));
  }

  private async translateOne(sentence: string): Promise<SentenceTranslation> {
    const text = sentence.trim();
    if (text === '') return { target: '', sourceTokens: 0, targetTokens: 0, flags: [] };
    const pieces: number[][] = [];
    // `</s>` once for the whole sentence, as if it had been tokenized in one piece.
    let sourceTokens = 1;
    for (const [index, chunk] of cutAtSpaces(text, MAX_TOKENIZED_CHARS).entries()) {
      if (index > 0) {
        // Tokenizing is synchronous: between chunks of a long line the event loop gets a turn (a
        // signal is heard) and a stop ends the work here.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.options.signal?.aborted) throw new TranslationStoppedError();
      }
      const ids = this.tokenize(chunk);
      sourceTokens += ids.length - 1;
      if (ids.length <= this.inputLimit) pieces.push(ids);
      else for (const piece of splitToFit(chunk, (part) => this.tokenize(part).length, this.inputLimit)) pieces.push(this.tokenize(piece));
    }
    const outputs = await Promise.all(pieces.map((piece) => this.enqueue(piece)));
    const targetIds = outputs.flat();
    const flags: SentenceFlag[] = [];
    if (pieces.length > 1) flags.push('split-long-input');
    if (hasRepetitionLoop(targetIds)) flags.push('repetition-loop');
    if (!lengthRatioWithin(sourceTokens - 1, targetIds.length, this.lengthRatio)) flags.push('length-ratio');
    const target = outputs
      // tokenizer.decode throws on an empty list, and a model may well emit `</s>` first.
      .map((output) => (output.length === 0 ? '' : this.tokenizer.decode(output, { skip_special_tokens: true }).trim()))
      .filter((piece) => piece !== '')
      .join(' ');
    flags.push(...preservationFlags(text, target, this.model.lang));
    return { target, sourceTokens, targetTokens: targetIds.length, flags };
  }

  private enqueue(ids: number[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ids, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Wait one turn so the other sentences of this call (and of concurrent calls) join the round.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Sends each round's batches to the pool at once: with several workers they decode side by side. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const round = this.pending.splice(0);
      await Promise.all(packBatches(round, this.options.batchTokens).map((batch) => this.runBatch(batch)));
    }
    this.draining = false;
  }

  private async runBatch(batch: QueuedInput[]): Promise<void> {
    const started = performance.now();
    const stopped = () => {
      const error = new TranslationStoppedError();
      for (const input of batch) input.reject(error);
    };
    if (this.options.signal?.aborted) return stopped();
    try {
      const fixed = this.options.fixedTargetTokens;
      const inputs = batch.map((input): DecodeInput => {
        if (fixed) {
          const length = fixed(input.ids);
          return { ids: input.ids, maxNewTokens: length, minNewTokens: length };
        }
        return { ids: input.ids, maxNewTokens: Math.ceil(this.options.maxNewTokensRatio * input.ids.length) + NEW_TOKENS_MARGIN };
      });
      // The pool checks the signal again when a worker takes the batch: a stop lands between batches.
      const { outputs } = await this.pool.decode(inputs, this.search, this.options.signal);
      for (const [row, input] of batch.entries()) input.resolve(outputs[row]!);
      this.options.onBatch?.({
        sentences: batch.length,
        sourceTokens: batch.reduce((sum, input) => sum + input.ids.length, 0),
        targetTokens: outputs.reduce((sum, output) => sum + output.length, 0),
        ms: performance.now() - started,
      });
    } catch (error) {
      if (this.options.signal?.aborted) return stopped();
      for (const input of batch) input.reject(error);
    }
  }

  async dispose(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * Packs inputs into batches of at most `budget` tokens, padding included (rows × longest row). Inputs
 * are sorted by length so each batch holds similar lengths and padding stays small; an input longer
 * than the budget goes alone.
 */
export function packBatches<T extends { ids: readonly unknown[] }>(inputs: T[], budget: number): T[][] {
  const sorted = [...inputs].sort((a, b) => b.ids.length - a.ids.length);
  const batches: T[][] = [];
  let batch: T[] = [];
  for (const input of sorted) {
    const width = batch[0]?.ids.length ?? input.ids.length;
    if (batch.length > 0 && (batch.length + 1) * width > budget) {
      batches.push(batch);
      batch = [];
    }
    batch.push(input);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Longest text the tokenizer is given at once. It holds about 1 KB per character while it works and
 * overflows the call stack past some 100,000 tokens, so a longer sentence (a line with no
 * punctuation) is first cut at spaces into chunks this long, which then split to fit the model like
 * any long input: memory stays bounded whatever the line's length.
 */
export const MAX_TOKENIZED_CHARS = 10_000;

/**
 * Cuts a text into chunks of at most `maxChars` characters at the last whitespace before each limit
 * (at the limit itself, never inside a surrogate pair, when a chunk has no whitespace). Nothing but
 * the whitespace at the cuts is dropped.
 */
export function cutAtSpaces(text: string, maxChars: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > maxChars) {
    let cut = start + maxChars;
    while (cut > start && !/\s/u.test(text[cut]!)) cut--;
    if (cut === start) {
      cut = start + maxChars;
      const code = text.charCodeAt(cut);
      if (code >= 0xdc00 && code <= 0xdfff) cut--;
    }
    const chunk = text.slice(start, cut).trim();
    if (chunk !== '') chunks.push(chunk);
    start = cut;
    while (start < text.length && /\s/u.test(text[start]!)) start++;
  }
  const last = text.slice(start).trim();
  if (last !== '') chunks.push(last);
  return chunks;
}

/** Clause ends: Arabic comma and semicolon, Latin comma, semicolon, colon, en dash; followed by a space. */
const CLAUSE_END = /[،؛,;:–](?=\s)/gu;

/**
 * Splits a text that is over the token limit into pieces that fit: at clause punctuation first, then
 * at whitespace, packing as many clauses (or words) into a piece as fit. Splits are made at spaces,
 * so the pieces tokenize to exactly the whole text's tokens. A single "word" over the limit (a long
 * URL) is cut by characters as the last resort. Nothing is dropped.
 */
export function splitToFit(text: string, countTokens: (text: string) => number, maxTokens: number): string[] {
  if (countTokens(text) <= maxTokens) return [text];
  const words = text.split(/\s+/u).filter((word) => word !== '');
  for (const parts of [splitAfter(text, CLAUSE_END), words]) {
    if (parts.length < 2) continue;
    const pieces = pack(parts, countTokens, maxTokens);
    // Each piece is checked again, exactly, by the recursion.
    if (pieces.length > 1) return pieces.flatMap((piece) => splitToFit(piece, countTokens, maxTokens));
  }
  const chars = Array.from(text);
  const half = Math.ceil(chars.length / 2);
  return [chars.slice(0, half).join(''), chars.slice(half).join('')].flatMap((piece) =>
    splitToFit(piece, countTokens, maxTokens),
  );
}

function splitAfter(text: string, boundary: RegExp): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = match.index + match[0].length;
    parts.push(text.slice(start, end).trim());
    start = end;
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== '');
}

/**
 * Greedily joins consecutive parts (with a space) while the joined text fits. Each part is counted
 * once and the counts are added up (the tokenizer splits at whitespace before it tokenizes, so the
 * parts of a text tokenize alike alone and together); counting each growing piece anew made a long
 * unpunctuated line quadratic. `splitToFit` re-counts every piece exactly.
 */
function pack(parts: string[], countTokens: (text: string) => number, maxTokens: number): string[] {
  const specialTokens = countTokens('');
  const pieces: string[] = [];
  let current = '';
  let currentTokens = 0;
  for (const part of parts) {
    const partTokens = countTokens(part);
    const joinedTokens = currentTokens + partTokens - specialTokens;
    if (current === '' || joinedTokens > maxTokens) {
      if (current !== '') pieces.push(current);
      current = part;
      currentTokens = partTokens;
    } else {
      current = `${current} ${part}`;
      currentTokens = joinedTokens;
    }
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

/**
 * True when some 1–`maxN`-gram repeats back to back at least `minRepeats` times: the signature of a
 * decoder stuck in a loop (`the the the the`, `of the war of the war of the war of the war`).
 */
export function hasRepetitionLoop(ids: readonly number[], maxN = 4, minRepeats = 4): boolean {
  for (let n = 1; n <= maxN; n++) {
    // A loop of n-grams may start at any offset, so walk the sequence once per offset in steps of n.
    for (let offset = 0; offset < n; offset++) {
      let repeats = 1;
      for (let i = offset + n; i + n <= ids.length; i += n) {
        repeats = sameGram(ids, i - n, i, n) ? repeats + 1 : 1;
        if (repeats >= minRepeats) return true;
      }
    }
  }
  return false;
}

function sameGram(ids: readonly number[], a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (ids[a + k] !== ids[b + k]) return false;
  return true;
}

/** Whether target/source token counts (special tokens excluded) are in bounds. */
export function lengthRatioWithin(sourceTokens: number, targetTokens: number, bounds: LengthRatioBounds): boolean {
  if (sourceTokens <= 0) return true;
  const ratio = targetTokens / sourceTokens;
  return ratio >= bounds.min && ratio <= bounds.max;
}

type TranslationConfig = PipelineConfig['translation'];

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
> {
  const { dtype, q8Activations, batchTokens, maxInputTokens, maxNewTokensRatio, numBeams, lengthPenalty, earlyStopping } = config;
  const { noRepeatNgramSize, repetitionPenalty, lengthRatio } = config;
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
  };
}

/**
 * One Translator per configured language, loaded on first use and shared. Concurrent `get`s share
 * one load; a failed load is kept and the same error is returned to every later `get`, so the
 * pipeline reports it once per language instead of trying again for every article.
 */
export class TranslatorPool {
  private readonly loads = new Map<LanguageCode, Promise<Translator>>();
  private readonly models: Map<LanguageCode, ConfiguredModel>;

  constructor(
    private readonly config: TranslationConfig & { modelsDir: string },
    private readonly extra: Pick<TranslatorOptions, 'onBatch' | 'signal'> = {},
  ) {
    this.models = new Map(configuredModels(config.models, config.modelsDir).map((model) => [model.lang, model]));
  }

  languages(): LanguageCode[] {
    return [...this.models.keys()];
  }

  get(lang: LanguageCode): Promise<Translator> {
    let load = this.loads.get(lang);
    if (!load) {
      const model = this.models.get(lang);
      if (!model) return Promise.reject(new Error(`no translation model is configured for language "${lang}"`));
      load = Translator.load({
        modelDir: model.dir,
        model: { lang, id: model.id, revision: model.revision, dtype: this.config.dtype },
        ...decodingOptions(this.config),
        workers: this.config.workers,
        threadsPerWorker: this.config.threadsPerWorker,
        label: model.label,
        ...this.extra,
      });
      // Handled here so a load nobody awaits yet is not an unhandled rejection; callers still get it.
      load.catch(() => undefined);
      this.loads.set(lang, load);
    }
    return load;
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.loads.values());
    this.loads.clear();
    await Promise.all(loaded.map((result) => (result.status === 'fulfilled' ? result.value.dispose() : undefined)));
  }
}
