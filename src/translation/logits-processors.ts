/**
 * Logits processors: small steps that edit one hypothesis's next-token scores in place before the
 * search picks from them, one class per rule, composed in a list (after transformers.js
 * `src/generation/logits_process.js` and Hugging Face `LogitsProcessorList`). Each follows the
 * Hugging Face processor of the same name, so decoding matches MarianMT's `generate`.
 */

/** What a processor may look at: one hypothesis and its length limits. */
export interface HypothesisView {
  /** Decoder input so far: the decoder start token, then the generated tokens. */
  readonly tokens: readonly number[];
  /** Generated tokens after which `</s>` is forced (`</s>` itself not counted). */
  readonly maxNewTokens: number;
  /** Generated tokens before which `</s>` is suppressed. */
  readonly minNewTokens: number;
}

export interface LogitsProcessor {
  /**
   * Whether the processor only bans tokens (sets them to -Infinity) or forces one. Such edits commute
   * with log-softmax, so beam search can make them on the raw logits and normalise once.
   */
  readonly masksOnly: boolean;
  process(scores: Float32Array | Float64Array, hypothesis: HypothesisView): void;
}

/** Runs processors in order. */
export class LogitsProcessorList implements LogitsProcessor {
  readonly masksOnly: boolean;

  constructor(private readonly processors: readonly LogitsProcessor[]) {
    this.masksOnly = processors.every((processor) => processor.masksOnly);
  }

  process(scores: Float32Array | Float64Array, hypothesis: HypothesisView): void {
    for (const processor of this.processors) processor.process(scores, hypothesis);
  }
}

/**
 * Divides the score of every token already in the hypothesis (the decoder start token included) by
 * `penalty` when positive, multiplies it when negative (CTRL's penalty, as Hugging Face applies it).
 */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly masksOnly = false;

  constructor(private readonly penalty: number) {}

  process(scores: Float32Array | Float64Array, { tokens }: HypothesisView): void {
    for (const token of new Set(tokens)) {
      const score = scores[token]!;
      scores[token] = score < 0 ? score * this.penalty : score / this.penalty;
    }
  }
}

/** Bans every token that would repeat an n-gram of size `size` already in the hypothesis. */
export class NoRepeatNGramProcessor implements LogitsProcessor {
  readonly masksOnly = true;

  constructor(private readonly size: number) {}

  process(scores: Float32Array | Float64Array, { tokens }: HypothesisView): void {
    const n = this.size;
    const length = tokens.length;
    if (length + 1 < n) return;
    // The last n-1 tokens are the prefix; any earlier occurrence of it bans the token that followed.
    const prefixStart = length - n + 1;
    for (let start = 0; start + n <= length; start++) {
      let same = true;
      for (let k = 0; k < n - 1 && same; k++) same = tokens[start + k] === tokens[prefixStart + k];
      if (same) scores[tokens[start + n - 1]!] = -Infinity;
    }
  }
}

/**
 * Bans token sequences: the last token of each sequence whose other tokens end the hypothesis
 * (for MarianMT: `<pad>`, the decoder start token, is never generated).
 */
export class BadWordsProcessor implements LogitsProcessor {
  readonly masksOnly = true;

  constructor(private readonly badWords: readonly (readonly number[])[]) {}

  process(scores: Float32Array | Float64Array, { tokens }: HypothesisView): void {
    for (const words of this.badWords) {
      const prefix = words.length - 1;
      if (tokens.length < prefix) continue;
      let matches = true;
      for (let j = 1; j <= prefix && matches; j++) matches = words[prefix - j] === tokens[tokens.length - j];
      if (matches) scores[words[prefix]!] = -Infinity;
    }
  }
}

/** Suppresses `</s>` until the hypothesis has `minNewTokens` generated tokens. */
export class MinNewTokensProcessor implements LogitsProcessor {
  readonly masksOnly = true;

  constructor(private readonly eosId: number) {}

  process(scores: Float32Array | Float64Array, { tokens, minNewTokens }: HypothesisView): void {
    if (tokens.length - 1 < minNewTokens) scores[this.eosId] = -Infinity;
  }
}

/** Forces `</s>` once the hypothesis has `maxNewTokens` generated tokens: every output ends, none is cut. */
export class ForcedEosProcessor implements LogitsProcessor {
  readonly masksOnly = true;

  constructor(private readonly eosId: number) {}

  process(scores: Float32Array | Float64Array, { tokens, maxNewTokens }: HypothesisView): void {
    if (tokens.length - 1 >= maxNewTokens) {
      scores.fill(-Infinity);
      scores[this.eosId] = 0;
    }
  }
}

/**
 * Forces a token as the first generated one (Hugging Face `ForcedBOSTokenLogitsProcessor`: the target
 * language of M2M-100 and NLLB). Its score becomes 0, so in beam search it adds nothing to a beam's
 * log-probability, and it counts as a generated token for the length limits and the length penalty.
 */
export class ForcedBosProcessor implements LogitsProcessor {
  readonly masksOnly = true;

  constructor(private readonly tokenId: number) {}

  process(scores: Float32Array | Float64Array, { tokens }: HypothesisView): void {
    if (tokens.length === 1) {
      scores.fill(-Infinity);
      scores[this.tokenId] = 0;
    }
  }
}

/** Index of the highest score, the first one on a tie (as transformers.js' greedy `max`). */
export function argmax(scores: Float32Array | Float64Array): number {
  let best = 0;
  let bestScore = scores[0]!;
  for (let i = 1; i < scores.length; i++) {
    if (scores[i]! > bestScore) {
      bestScore = scores[i]!;
      best = i;
    }
  }
  return best;
}

/** The decoding rules a model and the config set, in Hugging Face's order. */
export interface ProcessorSettings {
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  badWordsIds: readonly (readonly number[])[];
  eosId: number;
  /** The token forced first (the target language), or null. */
  forcedBosId?: number | null;
}

/** The processors for these settings, in the order Hugging Face's `generate` applies them. */
export function processorsFor(settings: ProcessorSettings): LogitsProcessorList {
  const processors: LogitsProcessor[] = [];
  if (settings.repetitionPenalty !== 1) processors.push(new RepetitionPenaltyProcessor(settings.repetitionPenalty));
  if (settings.noRepeatNgramSize > 0) processors.push(new NoRepeatNGramProcessor(settings.noRepeatNgramSize));
  if (settings.badWordsIds.length > 0) processors.push(new BadWordsProcessor(settings.badWordsIds));
  processors.push(new MinNewTokensProcessor(settings.eosId));
  if (settings.forcedBosId != null) processors.push(new ForcedBosProcessor(settings.forcedBosId));
  processors.push(new ForcedEosProcessor(settings.eosId));
  return new LogitsProcessorList(processors);
}
