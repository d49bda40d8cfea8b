import { availableParallelism } from 'node:os';
import path from 'node:path';
import {
  AutoModelForSeq2SeqLM,
  AutoTokenizer,
  env,
  LogitsProcessor,
  LogitsProcessorList,
  LogLevel,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import type { LanguageCode, ModelUse, SentenceFlag } from '../article.js';
import { TranslationStoppedError } from '../stages/translate.js';
import type { PipelineConfig } from '../config/config.js';
import {
  assertModelReady,
  configuredModels,
  ModelUnavailableError,
  type ConfiguredModel,
  type ModelDtype,
  type ModelLabel,
} from '../models/store.js';

/**
 * The Translator: one MarianMT model (transformers.js on onnxruntime-node), fed batches of sentences
 * packed by a token budget. It never truncates an input (long ones are split and flagged) and never
 * hides a suspicious output (decoding loops and odd lengths are flagged).
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
  model: ModelUse;
  dtype: ModelDtype;
  /** Source tokens per batch, padding included. */
  batchTokens: number;
  /**
   * Longest input the model is given, `</s>` included; at most the model's position table (512 for
   * Marian). Lowered further when needed so that `maxNewTokensRatio` × input still fits the decoder's
   * position table: an output is never cut by the model's own limit.
   */
  maxInputTokens: number;
  maxNewTokensRatio: number;
  numBeams: number;
  noRepeatNgramSize: number;
  repetitionPenalty: number;
  /** Target/source token ratio (special tokens excluded) outside these bounds flags `length-ratio`; default 0.3–3. */
  lengthRatio?: LengthRatioBounds;
  /** onnxruntime intra-op threads; default: the machine's cores, at most 2. */
  threads?: number;
  /** Names the model in errors, with the command that fixes it. */
  label?: ModelLabel;
  onBatch?: (timing: BatchTiming) => void;
  /**
   * Stops translating: checked before every batch, so a stop takes effect within one batch; the
   * inputs still queued are rejected with `TranslationStoppedError`.
   */
  signal?: AbortSignal;
  /**
   * For benchmarks: each input generates exactly this many tokens (for its source token count,
   * `</s>` included), then `</s>`; an earlier `</s>` is suppressed and `maxNewTokensRatio` is ignored.
   * Generated models with random weights stop at random lengths, so `bench:translate` fixes them to
   * compare runtimes on the same work.
   */
  fixedTargetTokens?: (sourceTokens: number) => number;
}

/** Generated tokens allowed beyond `ratio × source tokens`, so very short inputs can still finish. */
const NEW_TOKENS_MARGIN = 8;
const DEFAULT_LENGTH_RATIO: LengthRatioBounds = { min: 0.3, max: 3 };

/** One model input waiting in the batching queue: a sentence or a piece of one. */
interface QueuedInput {
  ids: number[];
  resolve: (targetIds: number[]) => void;
  reject: (error: unknown) => void;
}

export class Translator {
  private readonly pending: QueuedInput[] = [];
  private draining = false;
  private readonly eosId: number;
  private readonly padId: number;
  private readonly lengthRatio: LengthRatioBounds;
  /** Longest model input after which a sentence is split; see `TranslatorOptions.maxInputTokens`. */
  readonly inputLimit: number;

  private constructor(
    readonly model: ModelUse,
    private readonly options: TranslatorOptions,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly seq2seq: PreTrainedModel,
  ) {
    const config = seq2seq.config as unknown as { eos_token_id: number; pad_token_id: number; max_position_embeddings?: number };
    this.eosId = config.eos_token_id;
    this.padId = config.pad_token_id;
    this.lengthRatio = options.lengthRatio ?? DEFAULT_LENGTH_RATIO;
    // The decoder holds the start token, the output and the final `</s>` in its position table.
    const positions = config.max_position_embeddings ?? 512;
    const outputRoom = Math.floor((positions - 2 - NEW_TOKENS_MARGIN) / options.maxNewTokensRatio);
    this.inputLimit = Math.min(options.maxInputTokens, positions, outputRoom);
  }

  /** Loads the model from its folder only (never from the network). */
  static async load(options: TranslatorOptions): Promise<Translator> {
    const modelDir = path.resolve(options.modelDir);
    const label = options.label ?? {
      name: options.model.id,
      fix: `put a MarianMT export (config.json, tokenizer.json, onnx/…) in ${modelDir}`,
    };
    await assertModelReady(modelDir, options.dtype, label);
    env.allowRemoteModels = false;
    // MarianTokenizer warns on every load that it runs on tokenizer.json; that is our setup, not news.
    env.logLevel = LogLevel.ERROR;
    // An absolute path is not a hub id, so transformers.js reads it as it is, whatever env.localModelPath says.
    const threads = options.threads ?? Math.min(2, availableParallelism());
    try {
      const [tokenizer, seq2seq] = await Promise.all([
        AutoTokenizer.from_pretrained(modelDir, { local_files_only: true }),
        AutoModelForSeq2SeqLM.from_pretrained(modelDir, {
          local_files_only: true,
          dtype: options.dtype,
          device: 'cpu',
          session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
        }),
      ]);
      return new Translator(options.model, { ...options, modelDir }, tokenizer, seq2seq);
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

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const round = this.pending.splice(0);
      const batches = packBatches(round, this.options.batchTokens);
      for (const [index, batch] of batches.entries()) {
        if (this.options.signal?.aborted) {
          const stopped = new TranslationStoppedError();
          for (const input of [...batches.slice(index).flat(), ...this.pending.splice(0)]) input.reject(stopped);
          break;
        }
        await this.runBatch(batch);
      }
    }
    this.draining = false;
  }

  private async runBatch(batch: QueuedInput[]): Promise<void> {
    const started = performance.now();
    try {
      const width = Math.max(...batch.map((input) => input.ids.length));
      const ids = new BigInt64Array(batch.length * width).fill(BigInt(this.padId));
      const mask = new BigInt64Array(batch.length * width);
      batch.forEach((input, row) => {
        input.ids.forEach((id, col) => {
          ids[row * width + col] = BigInt(id);
          mask[row * width + col] = 1n;
        });
      });
      const fixed = this.options.fixedTargetTokens;
      const limits = batch.map((input) =>
        fixed ? fixed(input.ids.length) : Math.ceil(this.options.maxNewTokensRatio * input.ids.length) + NEW_TOKENS_MARGIN,
      );
      const logitsProcessor = new LogitsProcessorList();
      logitsProcessor.push(new FinishedRowsProcessor(limits, this.eosId, fixed !== undefined));
      const output = (await this.seq2seq.generate({
        input_ids: new Tensor('int64', ids, [batch.length, width]),
        attention_mask: new Tensor('int64', mask, [batch.length, width]),
        // One past the longest limit: FinishedRowsProcessor ends each row at its own limit, and the
        // forced `</s>` transformers.js puts at max_new_tokens - 1 would otherwise cut the longest row short.
        max_new_tokens: Math.max(...limits) + 1,
        num_beams: this.options.numBeams,
        no_repeat_ngram_size: this.options.noRepeatNgramSize,
        repetition_penalty: this.options.repetitionPenalty,
        logits_processor: logitsProcessor,
      })) as Tensor;
      const rows = output.tolist() as bigint[][];
      let targetTokens = 0;
      batch.forEach((input, row) => {
        const generated = generatedIds(rows[row] ?? [], this.eosId);
        targetTokens += generated.length;
        input.resolve(generated);
      });
      this.options.onBatch?.({
        sentences: batch.length,
        sourceTokens: batch.reduce((sum, input) => sum + input.ids.length, 0),
        targetTokens,
        ms: performance.now() - started,
      });
    } catch (error) {
      for (const input of batch) input.reject(error);
    }
  }

  async dispose(): Promise<void> {
    await this.seq2seq.dispose();
  }
}

/**
 * transformers.js keeps decoding a row after it has emitted `</s>` until every row stops, and stops
 * only when all rows end on `</s>` in the same step. Forcing `</s>` on rows that are finished (or have
 * reached their own length limit) makes a batch stop when its last row does, and bounds each row by
 * its own input length rather than the batch's longest.
 */
class FinishedRowsProcessor extends LogitsProcessor {
  private readonly finished: boolean[];

  constructor(
    /** Per row: most tokens it may generate before `</s>`. */
    private readonly limits: number[],
    private readonly eosId: number,
    /** Suppress `</s>` before a row's limit, so every row runs exactly to it. */
    private readonly exactLength = false,
  ) {
    super();
    this.finished = limits.map(() => false);
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    const eos = BigInt(this.eosId);
    inputIds.forEach((row, i) => {
      // row[0] is the decoder start token.
      if (row.length > 1 && row[row.length - 1] === eos) this.finished[i] = true;
      if (this.finished[i] || row.length - 1 >= (this.limits[i] ?? 0)) {
        const scores = rowScores(logits, i);
        scores.fill(-Infinity);
        scores[this.eosId] = 0;
      } else if (this.exactLength) {
        rowScores(logits, i)[this.eosId] = -Infinity;
      }
    });
    return logits;
  }
}

/** Row `i` of a [rows, vocabulary] logits tensor, as a view that writes through. */
function rowScores(logits: Tensor, i: number): Float32Array {
  return (logits as unknown as Tensor[])[i]!.data as Float32Array;
}

/** The generated ids of one output row: after the decoder start token, up to the first `</s>`. */
function generatedIds(row: bigint[], eosId: number): number[] {
  const ids: number[] = [];
  for (let i = 1; i < row.length; i++) {
    const id = Number(row[i]);
    if (id === eosId) break;
    ids.push(id);
  }
  return ids;
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

/** The Translator settings that come from the `translation` section of the config. */
export function decodingOptions(
  config: TranslationConfig,
): Pick<
  TranslatorOptions,
  'dtype' | 'batchTokens' | 'maxInputTokens' | 'maxNewTokensRatio' | 'numBeams' | 'noRepeatNgramSize' | 'repetitionPenalty' | 'lengthRatio'
> {
  const { dtype, batchTokens, maxInputTokens, maxNewTokensRatio, numBeams, noRepeatNgramSize, repetitionPenalty, lengthRatio } = config;
  return { dtype, batchTokens, maxInputTokens, maxNewTokensRatio, numBeams, noRepeatNgramSize, repetitionPenalty, lengthRatio };
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
    private readonly extra: Pick<TranslatorOptions, 'onBatch' | 'threads' | 'signal'> = {},
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
