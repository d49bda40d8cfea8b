/**
 * The decode loop: greedy search and beam search over a MarianMT encoder and merged decoder
 * (onnxruntime-node sessions), one decoder step per token with the key/value cache. The encoder runs
 * once per batch. Rows that are done leave the batch at the step they finish: their cache rows,
 * encoder states and mask rows are dropped, so no step is spent on a finished row (after CTranslate2's
 * `decoding.cc`). Semantics follow Hugging Face `generate` for MarianMT: greedy is the argmax of the
 * processed logits (no softmax); beam search is `BeamSearchScorer` (log-softmax in onnxruntime, processors, 2 × beams
 * candidates, `</s>` candidates outside the top `num_beams` ignored, length penalty on the generated
 * length, early stopping true/false/"never").
 */
import { BatchState } from './batch-state.js';
import { argmax, processorsFor, type HypothesisView, type LogitsProcessorList } from './logits-processors.js';
import type { Seq2SeqModelInfo, Seq2SeqSessions } from './seq2seq-sessions.js';
import { constrainScores, type TokenConstraints } from '../terminology/constraints.js';

/** One model input of a batch. */
export interface DecodeInput {
  /** Source ids, `</s>` included. */
  ids: readonly number[];
  /** Generated tokens after which `</s>` is forced. */
  maxNewTokens: number;
  /** Generated tokens before which `</s>` is suppressed (benchmarks fix output lengths with it); default 0. */
  minNewTokens?: number;
  /** Token sequences the output must contain (../terminology/constraints.ts); none: decoding is unconstrained. */
  constraints?: TokenConstraints;
  /** How many of the best finished hypotheses to return (CTranslate2's `num_hypotheses`): at most the beam width; default 1. */
  numHypotheses?: number;
}

export interface SearchSettings {
  numBeams: number;
  /** Exponent of the generated length that divides a finished hypothesis's log-probability. */
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  badWordsIds: readonly (readonly number[])[];
  /** Log-softmax again after the processors (Hugging Face `renormalize_logits`; beam search only). */
  renormalizeLogits: boolean;
}

/** The search settings a model's generation_config.json gives, with no repetition rules. */
export function modelSearchSettings(info: Seq2SeqModelInfo): SearchSettings {
  const { numBeams, lengthPenalty, earlyStopping, badWordsIds, renormalizeLogits } = info.generation;
  return { numBeams, lengthPenalty, earlyStopping, badWordsIds, renormalizeLogits, repetitionPenalty: 1, noRepeatNgramSize: 0 };
}

/** Decodes a batch; returns each input's generated ids (without the decoder start token and `</s>`), in input order. */
export async function decode(sessions: Seq2SeqSessions, inputs: readonly DecodeInput[], settings: SearchSettings): Promise<number[][]> {
  return (await decodeHypotheses(sessions, inputs, settings)).map((hypotheses) => hypotheses[0]!);
}

/**
 * Decodes a batch; returns each input's `numHypotheses` best outputs, best first (the first is what
 * `decode` returns). Beam search keeps `numBeams` finished hypotheses per input, so no more can be
 * asked for: CTranslate2 refuses a `num_hypotheses` over the beam size too.
 */
export async function decodeHypotheses(
  sessions: Seq2SeqSessions,
  inputs: readonly DecodeInput[],
  settings: SearchSettings,
): Promise<number[][][]> {
  if (inputs.length === 0) return [];
  const asked = Math.max(...inputs.map((input) => input.numHypotheses ?? 1));
  if (asked > settings.numBeams)
    throw new RangeError(`${asked} hypotheses asked for with a beam width of ${settings.numBeams}; ask for at most the beam width`);
  // The searches work in the decoder's output columns (vocabulary ids unless the output layer is trimmed).
  const { vocabulary } = sessions;
  const { eosId, forcedBosId } = vocabulary;
  const processors = processorsFor({ ...settings, badWordsIds: vocabulary.bannable(settings.badWordsIds), eosId, forcedBosId });
  const columnInputs = inputs.map((input) =>
    input.constraints ? { ...input, constraints: input.constraints.map((tokens) => vocabulary.columns(tokens)) } : input,
  );
  const state = await BatchState.encode(
    sessions,
    inputs.map((input) => input.ids),
  );
  try {
    const outputs =
      settings.numBeams > 1
        ? await beamSearch(state, columnInputs, settings, processors)
        : (await greedySearch(state, columnInputs, processors)).map((output) => [output]);
    return outputs.map((hypotheses) => hypotheses.map((tokens) => vocabulary.ids(tokens)));
  } finally {
    state.clear();
  }
}

async function greedySearch(state: BatchState, inputs: readonly DecodeInput[], processors: LogitsProcessorList): Promise<number[][]> {
  const { decoderStartId, eosId, size: vocabSize, wordContinuations } = state.vocabulary;
  const hypotheses = inputs.map(
    (input): Hypothesis => ({ tokens: [decoderStartId], maxNewTokens: input.maxNewTokens, minNewTokens: input.minNewTokens ?? 0 }),
  );
  /** Input index of each row of the batch. */
  let rows = inputs.map((_, i) => i);
  let next = rows.map(() => decoderStartId);
  while (rows.length > 0) {
    const logits = await state.step(next);
    const kept: number[] = [];
    const keptTokens: number[] = [];
    rows.forEach((input, row) => {
      const scores = logits.subarray(row * vocabSize, (row + 1) * vocabSize);
      const hypothesis = hypotheses[input]!;
      processors.process(scores, hypothesis);
      const { constraints } = inputs[input]!;
      if (constraints?.length)
        constrainScores(
          scores,
          hypothesis.tokens,
          constraints,
          hypothesis.maxNewTokens - hypothesis.tokens.length + 1,
          eosId,
          wordContinuations,
        );
      const token = argmax(scores);
      if (token === eosId) return;
      hypothesis.tokens.push(token);
      kept.push(row);
      keptTokens.push(token);
    });
    if (kept.length < rows.length) state.keepRows(kept);
    rows = kept.map((row) => rows[row]!);
    next = keptTokens;
  }
  return hypotheses.map((hypothesis) => hypothesis.tokens.slice(1));
}

interface Hypothesis extends HypothesisView {
  tokens: number[];
}

interface Beam {
  tokens: number[];
  /** Sum of the token log-probabilities. */
  score: number;
}

/** A sentence under beam search: its live beams and its finished hypotheses (Hugging Face `BeamHypotheses`). */
class BeamSentence {
  beams: Beam[];
  readonly finished: { score: number; tokens: number[] }[] = [];
  private worstScore = 1e9;

  constructor(
    readonly numBeams: number,
    private readonly lengthPenalty: number,
    private readonly earlyStopping: boolean | 'never',
    readonly maxNewTokens: number,
    readonly minNewTokens: number,
    decoderStartId: number,
    readonly constraints: TokenConstraints | undefined,
  ) {
    // All beams start alike; only the first counts at the first step.
    this.beams = Array.from({ length: numBeams }, (_, b) => ({ tokens: [decoderStartId], score: b === 0 ? 0 : -1e9 }));
  }

  /** Keeps a finished hypothesis if it is among the best `numBeams`; `generatedLength` counts `</s>` when it ends on one. */
  addFinished(tokens: number[], sumLogProbs: number, generatedLength: number): void {
    const score = sumLogProbs / generatedLength ** this.lengthPenalty;
    if (this.finished.length < this.numBeams || score > this.worstScore) {
      this.finished.push({ score, tokens });
      if (this.finished.length > this.numBeams) {
        const order = this.finished.map((h, i) => ({ score: h.score, i })).sort((a, b) => compare(a.score, b.score) || a.i - b.i);
        this.finished.splice(order[0]!.i, 1);
        this.worstScore = order[1]!.score;
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  /** Whether no live beam can still beat the finished ones (`curLength` counts tokens generated after this step). */
  isDone(bestSumLogProbs: number, generatedLength: number): boolean {
    if (this.finished.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    const length = this.earlyStopping === 'never' && this.lengthPenalty > 0 ? this.maxNewTokens + 1 : generatedLength;
    return this.worstScore >= bestSumLogProbs / length ** this.lengthPenalty;
  }

  /** The `count` best finished hypotheses, best first (the last added first on a tie, as Hugging Face's sort-and-pop). */
  best(count: number): number[][] {
    const order = this.finished
      .map((hypothesis, i) => ({ score: hypothesis.score, i }))
      .sort((a, b) => compare(b.score, a.score) || b.i - a.i);
    return order.slice(0, count).map(({ i }) => this.finished[i]!.tokens.slice(1));
  }
}

function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The `k` best (score, beam, token) candidates of a sentence, best first; earlier beam and token win a tie. */
class TopCandidates {
  readonly scores: Float64Array;
  readonly beams: Int32Array;
  readonly tokens: Int32Array;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k).fill(-Infinity);
    this.beams = new Int32Array(k).fill(-1);
    this.tokens = new Int32Array(k).fill(-1);
  }

  /** The k-th best score so far (-Infinity while a slot is free). */
  lowest = -Infinity;

  /** Whether a candidate with this score would enter (a free slot takes any, even -Infinity). */
  admits(score: number): boolean {
    return score > this.lowest || this.beams[this.k - 1] === -1;
  }

  /** Inserts a candidate that `admits` accepted, dropping the k-th. */
  offer(score: number, beam: number, token: number): void {
    let i = this.k - 1;
    while (i > 0 && (score > this.scores[i - 1]! || this.beams[i - 1] === -1)) {
      this.scores[i] = this.scores[i - 1]!;
      this.beams[i] = this.beams[i - 1]!;
      this.tokens[i] = this.tokens[i - 1]!;
      i--;
    }
    this.scores[i] = score;
    this.beams[i] = beam;
    this.tokens[i] = token;
    this.lowest = this.scores[this.k - 1]!;
  }
}

/**
 * Beam search, a step at a time in the phases of CTranslate2's `BeamSearch::search`: score the
 * candidates (log-probabilities and processors), select each sentence's top 2 × beams, finish the
 * hypotheses that end or run out of room, then reorder the cache for the beams that go on.
 */
async function beamSearch(
  state: BatchState,
  inputs: readonly DecodeInput[],
  settings: SearchSettings,
  processors: LogitsProcessorList,
): Promise<number[][][]> {
  const { decoderStartId, eosId, size: vocabSize } = state.vocabulary;
  const n = settings.numBeams;
  const results: number[][][] = inputs.map(() => []);
  const sentences = inputs.map(
    (input) =>
      new BeamSentence(
        n,
        settings.lengthPenalty,
        settings.earlyStopping,
        input.maxNewTokens,
        input.minNewTokens ?? 0,
        decoderStartId,
        input.constraints,
      ),
  );
  // The first step runs one row per sentence (its beams are identical), the later ones a row per beam.
  let rows = new BeamRows(
    inputs.map((_, i) => i),
    1,
  );
  let next = rows.live.map(() => decoderStartId);
  while (rows.live.length > 0) {
    const logits = await state.step(next);
    const candidates = await scoreCandidates(state, logits, rows, sentences, settings, processors);
    const kept = new KeptBeams();
    rows.live.forEach((input, position) => {
      const sentence = sentences[input]!;
      const rowOf = (beam: number) => rows.rowOf(position, beam);
      const top = selectTopBeams(sentence, candidates, rowOf, vocabSize);
      // Tokens generated once this step's token is appended (`</s>` included).
      const generatedLength = sentence.beams[0]!.tokens.length;
      const nextBeams = finishHypotheses(sentence, top, eosId, generatedLength, rowOf);
      const result = finishSentence(sentence, top, nextBeams, generatedLength, inputs[input]!.numHypotheses ?? 1);
      if (result) {
        results[input] = result;
      } else {
        sentence.beams = nextBeams;
        kept.add(input, nextBeams, rowOf);
      }
    });
    if (kept.live.length === 0) break;
    // Update the state: the cache rows of the beams that go on, in their new order.
    state.keepRows(kept.rows, kept.encoderRows);
    rows = new BeamRows(kept.live, n);
    next = kept.tokens;
  }
  return results;
}

/** The rows of one decoder step: each live sentence (by input index, in batch order) has `rowsPerSentence` consecutive rows. */
class BeamRows {
  constructor(
    readonly live: readonly number[],
    readonly rowsPerSentence: number,
  ) {}

  /** The batch row of a beam of the sentence at `position`. */
  rowOf(position: number, beam: number): number {
    return position * this.rowsPerSentence + (this.rowsPerSentence === 1 ? 0 : beam);
  }
}

/**
 * A step's candidate scores, the processors applied: every row's log-probability of every token
 * (`scores`), or, when nothing follows the last pass, only each row's `perRow` best (`best`).
 */
type StepScores =
  | { scores: Float32Array; best: null }
  | { scores: null; best: { values: Float32Array; tokens: Int32Array }; perRow: number };

/**
 * Log-probabilities, each row's processors (its hypothesis decides them), then the optional
 * renormalisation. The whole-vocabulary passes run in onnxruntime; processors touch a few tokens.
 * Bans and forced tokens commute with log-softmax, so with renormalisation they are made on the
 * logits and one pass does (Hugging Face makes two, equal up to rounding).
 */
async function scoreCandidates(
  state: BatchState,
  logits: Float32Array,
  rows: BeamRows,
  sentences: readonly BeamSentence[],
  settings: SearchSettings,
  processors: LogitsProcessorList,
): Promise<StepScores> {
  const { size: vocabSize, eosId, wordContinuations } = state.vocabulary;
  const rowCount = rows.live.length * rows.rowsPerSentence;
  const processRows = (target: Float32Array) =>
    rows.live.forEach((input, position) => {
      const sentence = sentences[input]!;
      for (let r = 0; r < rows.rowsPerSentence; r++) {
        const row = position * rows.rowsPerSentence + r;
        const hypothesis = { tokens: sentence.beams[r]!.tokens, maxNewTokens: sentence.maxNewTokens, minNewTokens: sentence.minNewTokens };
        const scores = target.subarray(row * vocabSize, (row + 1) * vocabSize);
        processors.process(scores, hypothesis);
        // Constraints only ban and force tokens, so they too may act on the raw logits.
        if (sentence.constraints?.length)
          constrainScores(
            scores,
            hypothesis.tokens,
            sentence.constraints,
            sentence.maxNewTokens - hypothesis.tokens.length + 1,
            eosId,
            wordContinuations,
          );
      }
    });
  if (settings.renormalizeLogits && processors.masksOnly) {
    processRows(logits);
    // Only a row's 2 × beams best tokens can be among its sentence's 2 × beams best, so onnxruntime
    // hands back just those.
    const perRow = Math.min(2 * settings.numBeams, vocabSize);
    return { scores: null, best: await state.sessions.logSoftmax.top(logits, rowCount, perRow), perRow };
  }
  let scores = await state.sessions.logSoftmax.run(logits, rowCount);
  processRows(scores);
  if (settings.renormalizeLogits) scores = await state.sessions.logSoftmax.run(scores, rowCount);
  return { scores, best: null };
}

/** A sentence's 2 × beams best (beam score + token log-probability) candidates of this step. */
function selectTopBeams(sentence: BeamSentence, candidates: StepScores, rowOf: (beam: number) => number, vocabSize: number): TopCandidates {
  const top = new TopCandidates(2 * sentence.numBeams);
  sentence.beams.forEach((beam, b) => {
    const beamScore = beam.score;
    if (candidates.best) {
      const { best, perRow } = candidates;
      // In token order, as the full scan below offers them, so equal scores rank the same way.
      const start = rowOf(b) * perRow;
      const byToken = Int32Array.from({ length: perRow }, (_, j) => start + j);
      byToken.sort((x, y) => best.tokens[x]! - best.tokens[y]!);
      for (const j of byToken) {
        const score = best.values[j]! + beamScore;
        if (score > top.lowest || top.admits(score)) top.offer(score, b, best.tokens[j]!);
      }
      return;
    }
    const row = candidates.scores.subarray(rowOf(b) * vocabSize, (rowOf(b) + 1) * vocabSize);
    for (let v = 0; v < vocabSize; v++) {
      const score = row[v]! + beamScore;
      // Most tokens fall below the current k-th best: one comparison skips them.
      if (score > top.lowest || top.admits(score)) top.offer(score, b, v);
    }
  });
  return top;
}

/**
 * Walks the top candidates best first: one ending in `</s>` finishes a hypothesis (when it ranks
 * among the top `numBeams`), the others extend their beam until `numBeams` beams go on; returns those.
 */
function finishHypotheses(
  sentence: BeamSentence,
  top: TopCandidates,
  eosId: number,
  generatedLength: number,
  rowOf: (beam: number) => number,
): (Beam & { row: number })[] {
  const nextBeams: (Beam & { row: number })[] = [];
  for (let rank = 0; rank < top.k && nextBeams.length < sentence.numBeams; rank++) {
    const from = sentence.beams[top.beams[rank]!]!;
    if (top.tokens[rank] === eosId) {
      if (rank < sentence.numBeams) sentence.addFinished(from.tokens, top.scores[rank]!, generatedLength);
    } else {
      nextBeams.push({ tokens: [...from.tokens, top.tokens[rank]!], score: top.scores[rank]!, row: rowOf(top.beams[rank]!) });
    }
  }
  return nextBeams;
}

/** The sentence's `count` best outputs when it is done after this step (no live beam can win, or the length limit), else null. */
function finishSentence(
  sentence: BeamSentence,
  top: TopCandidates,
  nextBeams: readonly Beam[],
  generatedLength: number,
  count: number,
): number[][] | null {
  if (sentence.isDone(top.scores[0]!, generatedLength)) return sentence.best(count);
  if (generatedLength + 1 < sentence.maxNewTokens + 2) return null;
  // The length limit: the live beams are finished as they are, without `</s>`.
  for (const beam of nextBeams) sentence.addFinished(beam.tokens, beam.score, beam.tokens.length - 1);
  return sentence.best(count);
}

/** The beams that go on to the next step: their sentences, last tokens and the cache rows they continue. */
class KeptBeams {
  readonly live: number[] = [];
  readonly rows: number[] = [];
  readonly tokens: number[] = [];
  /**
   * The beams of a sentence share its encoder rows: any of the sentence's rows will do, so a step
   * where every sentence stays keeps them in place instead of copying them.
   */
  readonly encoderRows: number[] = [];

  add(input: number, beams: readonly (Beam & { row: number })[], rowOf: (beam: number) => number): void {
    this.live.push(input);
    beams.forEach((beam, b) => {
      this.rows.push(beam.row);
      this.tokens.push(beam.tokens.at(-1)!);
      this.encoderRows.push(rowOf(b));
    });
  }
}
