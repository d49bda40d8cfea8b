import path from 'node:path';
import {
  AutoModelForSeq2SeqLM,
  AutoTokenizer,
  env,
  LogLevel,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  Tensor,
} from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decode, decodeHypotheses, modelSearchSettings, type DecodeInput, type SearchSettings } from '../../src/translation/decoder.js';
import { openSeq2SeqSessions, type Seq2SeqSessions } from '../../src/translation/seq2seq-sessions.js';
import { EARLY_EOS_MODEL } from '../../tools/test-models.js';

const AR = [
  'قال الوزير إن الاجتماع سيعقد غدا.',
  'وأضاف أن النمو بلغ 2.4 في المئة',
  'اليابان تعزز التعاون العسكري مع الفلبين في مواجهة الصين',
  'وقال مسؤول آخر إن القرار نهائي',
  'في هذا العام',
  'ذكرت وكالة الأنباء الرسمية أن الرئيس وصل إلى العاصمة صباح اليوم في زيارة تستمر ثلاثة أيام',
];
const VI = [
  'Bộ trưởng cho biết cuộc họp sẽ diễn ra vào ngày mai.',
  'Tăng trưởng kinh tế đạt 2,4 phần trăm',
  'Nhật Bản tăng cường hợp tác quân sự với Philippines',
  'Năm nay',
];

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  sessions: Seq2SeqSessions;
}

const loaded = new Map<string, Loaded>();

async function load(id: string, dtype: 'fp32' | 'q8' = 'fp32'): Promise<Loaded> {
  const key = `${id} ${dtype}`;
  let model = loaded.get(key);
  if (!model) {
    const dir = path.join(inject('modelsDir'), id);
    const [tokenizer, sessions] = await Promise.all([
      AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
      openSeq2SeqSessions(dir, { dtype, q8Activations: 'per-batch', intraOpThreads: 1 }),
    ]);
    model = { tokenizer, sessions };
    loaded.set(key, model);
  }
  return model;
}

const inputsFor = (tokenizer: PreTrainedTokenizer, sentences: string[]): DecodeInput[] =>
  sentences.map((sentence) => {
    const ids = tokenizer.encode(sentence);
    return { ids, maxNewTokens: 2 * ids.length + 8 };
  });

beforeAll(() => {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
});

afterAll(async () => {
  for (const model of loaded.values()) await model.sessions.release();
});

describe('greedy search', () => {
  const cases = [
    { id: 'Xenova/opus-mt-ar-en', sentences: AR },
    { id: 'Xenova/opus-mt-vi-en', sentences: VI },
    { id: EARLY_EOS_MODEL.id, sentences: AR },
  ];
  const rules = [
    { repetitionPenalty: 1, noRepeatNgramSize: 0 },
    { repetitionPenalty: 1.3, noRepeatNgramSize: 3 },
  ];

  it.each(cases)('one sentence at a time equals transformers.js generate on fp32, token for token ($id)', async ({ id, sentences }) => {
    const { tokenizer, sessions } = await load(id);
    const reference = (await AutoModelForSeq2SeqLM.from_pretrained(path.join(inject('modelsDir'), id), {
      local_files_only: true,
      dtype: 'fp32',
      session_options: { intraOpNumThreads: 1 },
    })) as PreTrainedModel;
    try {
      const lengths = new Set<number>();
      for (const rule of rules) {
        const settings: SearchSettings = { ...modelSearchSettings(sessions.info), ...rule, numBeams: 1 };
        for (const input of inputsFor(tokenizer, sentences)) {
          const [ours] = await decode(sessions, [input], settings);
          const ids = new Tensor('int64', BigInt64Array.from(input.ids, BigInt), [1, input.ids.length]);
          const mask = new Tensor('int64', new BigInt64Array(input.ids.length).fill(1n), [1, input.ids.length]);
          const output = (await reference.generate({
            input_ids: ids,
            attention_mask: mask,
            // generate counts `</s>` in max_new_tokens and forces it at the last position.
            max_new_tokens: input.maxNewTokens + 1,
            num_beams: 1,
            repetition_penalty: rule.repetitionPenalty,
            no_repeat_ngram_size: rule.noRepeatNgramSize,
          })) as Tensor;
          const theirs = (output.tolist() as bigint[][])[0]!.slice(1).map(Number);
          expect(theirs.at(-1)).toBe(sessions.info.eosId);
          expect(ours).toEqual(theirs.slice(0, -1));
          lengths.add(ours!.length);
        }
      }
      // Outputs of different lengths: some end on their own, some at the limit.
      expect(lengths.size).toBeGreaterThan(2);
    } finally {
      await reference.dispose();
    }
  });

  it('batched equals one sentence at a time on fp32, though rows finish and leave the batch at different steps', async () => {
    for (const { id, sentences } of cases) {
      const { tokenizer, sessions } = await load(id);
      for (const rule of rules) {
        const settings: SearchSettings = { ...modelSearchSettings(sessions.info), ...rule, numBeams: 1 };
        const inputs = inputsFor(tokenizer, sentences);
        const batched = await decode(sessions, inputs, settings);
        const alone = [];
        for (const input of inputs) alone.push((await decode(sessions, [input], settings))[0]);
        expect(batched).toEqual(alone);
      }
    }
  });

  it('every output ends by its own limit, and minNewTokens holds `</s>` back', async () => {
    const { tokenizer, sessions } = await load(EARLY_EOS_MODEL.id);
    const settings: SearchSettings = { ...modelSearchSettings(sessions.info), numBeams: 1 };
    const inputs = inputsFor(tokenizer, AR).map((input, i) => ({ ...input, maxNewTokens: 3 + i, minNewTokens: 3 + i }));
    const outputs = await decode(sessions, inputs, settings);
    expect(outputs.map((output) => output.length)).toEqual(inputs.map((input) => input.maxNewTokens));
    // Never the banned `<pad>` (the decoder start token).
    expect(outputs.flat()).not.toContain(sessions.info.padId);
  });
});

/**
 * Beam search written plainly, per hypothesis, without batching: each hypothesis runs the decoder on
 * its own (batch of one) with its own key/value cache, and the bookkeeping is a sorted list. It
 * follows Hugging Face's BeamSearchScorer as documented: log-softmax, processors, optional
 * renormalisation, the 2 × beams best candidates, `</s>` candidates outside the top beams ignored,
 * finished scores divided by generated length ^ length_penalty, early stopping true/false/'never'.
 */
async function referenceBeamSearch(sessions: Seq2SeqSessions, input: DecodeInput, settings: SearchSettings): Promise<number[]> {
  return (await referenceHypotheses(sessions, input, settings))[0]!.tokens;
}

/** The reference's finished hypotheses (generated tokens and length-penalised score), best first; the latest of equals first. */
async function referenceHypotheses(
  sessions: Seq2SeqSessions,
  input: DecodeInput,
  settings: SearchSettings,
): Promise<{ tokens: number[]; score: number }[]> {
  const { info } = sessions;
  const n = settings.numBeams;
  const ids = new ort.Tensor('int64', BigInt64Array.from(input.ids, BigInt), [1, input.ids.length]);
  const mask = new ort.Tensor('int64', new BigInt64Array(input.ids.length).fill(1n), [1, input.ids.length]);
  const { last_hidden_state: states } = await sessions.encoder.run({ input_ids: ids, attention_mask: mask });
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, info.heads, 0, info.headDim]);
  const firstPast: Record<string, ort.Tensor> = {};
  for (let layer = 0; layer < info.decoderLayers; layer++) {
    for (const part of ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'])
      firstPast[`past_key_values.${layer}.${part}`] = empty;
  }
  interface Hyp {
    tokens: number[];
    score: number;
    past: Record<string, ort.Tensor>;
  }
  const step = async (hyp: Hyp): Promise<{ logProbs: Float64Array; past: Record<string, ort.Tensor> }> => {
    const first = hyp.tokens.length === 1;
    const result = await sessions.decoder.run({
      encoder_attention_mask: mask,
      input_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(hyp.tokens.at(-1)!)]), [1, 1]),
      encoder_hidden_states: states!,
      ...hyp.past,
      use_cache_branch: new ort.Tensor('bool', [!first], [1]),
    });
    const past = { ...hyp.past };
    for (const [name, tensor] of Object.entries(result)) {
      if (name.startsWith('present.') && (first || name.includes('.decoder.')))
        past[name.replace('present.', 'past_key_values.')] = tensor as ort.Tensor;
    }
    const logits = Float64Array.from(result.logits!.data as Float32Array);
    const normalise = (scores: Float64Array) => {
      const max = scores.reduce((m, s) => Math.max(m, s), -Infinity);
      const lse = max + Math.log(scores.reduce((sum, s) => sum + Math.exp(s - max), 0));
      for (let i = 0; i < scores.length; i++) scores[i]! -= lse;
    };
    normalise(logits);
    const generated = hyp.tokens.length - 1;
    if (settings.repetitionPenalty !== 1) {
      for (const token of new Set(hyp.tokens))
        logits[token] = logits[token]! < 0 ? logits[token]! * settings.repetitionPenalty : logits[token]! / settings.repetitionPenalty;
    }
    const size = settings.noRepeatNgramSize;
    if (size > 0 && hyp.tokens.length >= size - 1) {
      const tail = hyp.tokens.slice(hyp.tokens.length - size + 1).join(',');
      for (let start = 0; start + size <= hyp.tokens.length; start++) {
        if (hyp.tokens.slice(start, start + size - 1).join(',') === tail) logits[hyp.tokens[start + size - 1]!] = -Infinity;
      }
    }
    for (const words of settings.badWordsIds) if (words.length === 1) logits[words[0]!] = -Infinity;
    if (generated < (input.minNewTokens ?? 0)) logits[info.eosId] = -Infinity;
    if (generated >= input.maxNewTokens) {
      logits.fill(-Infinity);
      logits[info.eosId] = 0;
    }
    if (settings.renormalizeLogits) normalise(logits);
    return { logProbs: logits, past };
  };

  const finished: { score: number; tokens: number[] }[] = [];
  const lengthScore = (sum: number, length: number) => sum / length ** settings.lengthPenalty;
  let beams: Hyp[] = [{ tokens: [info.decoderStartId], score: 0, past: firstPast }];
  for (;;) {
    const candidates: { score: number; from: number; token: number }[] = [];
    const pasts: Record<string, ort.Tensor>[] = [];
    for (const [b, beam] of beams.entries()) {
      const { logProbs, past } = await step(beam);
      pasts.push(past);
      // Only a beam's own 2 × beams best tokens can be among the 2 × beams best overall.
      const tokens = Array.from(logProbs.keys()).sort((x, y) => logProbs[y]! - logProbs[x]! || x - y);
      for (const token of tokens.slice(0, 2 * n)) candidates.push({ score: beam.score + logProbs[token]!, from: b, token });
    }
    // Best first; on a tie the earlier beam and token (a stable sort keeps that order).
    candidates.sort((a, b) => b.score - a.score || 0);
    const top = candidates.slice(0, 2 * n);
    const generated = beams[0]!.tokens.length;
    const next: Hyp[] = [];
    for (const [rank, candidate] of top.entries()) {
      if (next.length === n) break;
      const from = beams[candidate.from]!;
      if (candidate.token === info.eosId) {
        if (rank < n) finished.push({ score: lengthScore(candidate.score, generated), tokens: from.tokens });
      } else {
        next.push({ tokens: [...from.tokens, candidate.token], score: candidate.score, past: pasts[candidate.from]! });
      }
    }
    // Keep the best n finished (the earliest of equals).
    finished.sort((a, b) => b.score - a.score);
    finished.splice(n);
    const best = top[0]!.score;
    const worst = finished.at(-1)?.score ?? Infinity;
    const bound =
      settings.earlyStopping === 'never' && settings.lengthPenalty > 0
        ? lengthScore(best, input.maxNewTokens + 1)
        : lengthScore(best, generated);
    const done = finished.length === n && (settings.earlyStopping === true || worst >= bound);
    if (done) break;
    if (generated + 1 >= input.maxNewTokens + 2) {
      for (const beam of next) finished.push({ score: lengthScore(beam.score, beam.tokens.length - 1), tokens: beam.tokens });
      break;
    }
    beams = next;
  }
  return finished
    .map((hypothesis, i) => ({ ...hypothesis, i }))
    .sort((a, b) => b.score - a.score || b.i - a.i)
    .map(({ tokens, score }) => ({ tokens: tokens.slice(1), score }));
}

describe('beam search', () => {
  it('equals a plain per-hypothesis reference for several beam sizes, length penalties and stopping rules', async () => {
    const { tokenizer, sessions } = await load(EARLY_EOS_MODEL.id);
    // Shorter limits than the Translator's keep the plain reference quick.
    const inputs = inputsFor(tokenizer, AR).map((input) => ({ ...input, maxNewTokens: input.ids.length + 4 }));
    const outputs = new Set<string>();
    const grid = [
      ...[2, 4].flatMap((numBeams) =>
        [0.6, 2].flatMap((lengthPenalty) =>
          ([false, true, 'never'] as const).map((earlyStopping) => ({ numBeams, lengthPenalty, earlyStopping })),
        ),
      ),
      { numBeams: 3, lengthPenalty: 1, earlyStopping: false },
    ];
    for (const { numBeams, lengthPenalty, earlyStopping } of grid) {
      const settings: SearchSettings = {
        ...modelSearchSettings(sessions.info),
        numBeams,
        lengthPenalty,
        earlyStopping,
        noRepeatNgramSize: 3,
      };
      const batched = await decode(sessions, inputs, settings);
      for (const [i, input] of inputs.entries()) {
        const label = `beams ${numBeams}, length penalty ${lengthPenalty}, early stopping ${earlyStopping}, sentence ${i}`;
        expect(batched[i], label).toEqual(await referenceBeamSearch(sessions, input, settings));
      }
      outputs.add(JSON.stringify(batched));
    }
    // The settings change the outcome: the comparison covers different paths through the rules.
    expect(outputs.size).toBeGreaterThan(5);
  }, 180_000);

  it('returns the n best finished hypotheses (numHypotheses per input): best first as the reference ranks them, the first the beam output', async () => {
    const { tokenizer, sessions } = await load(EARLY_EOS_MODEL.id);
    const settings: SearchSettings = { ...modelSearchSettings(sessions.info), numBeams: 4, lengthPenalty: 1, earlyStopping: false };
    const inputs = inputsFor(tokenizer, [...AR, ...VI]).map((input) => ({ ...input, maxNewTokens: input.ids.length + 4 }));
    // One batch asking each input for another count, up to the beam width.
    const asked = inputs.map((input, i) => ({ ...input, numHypotheses: 1 + (i % 4) }));
    const [nBest, best] = await Promise.all([decodeHypotheses(sessions, asked, settings), decode(sessions, inputs, settings)]);
    for (const [i, input] of asked.entries()) {
      const hypotheses = nBest[i]!;
      expect(hypotheses).toHaveLength(input.numHypotheses);
      expect(hypotheses[0]).toEqual(best[i]);
      expect(new Set(hypotheses.map((tokens) => tokens.join(','))).size).toBe(hypotheses.length);
      const reference = (await referenceHypotheses(sessions, input, settings)).slice(0, input.numHypotheses);
      expect(hypotheses).toEqual(reference.map((hypothesis) => hypothesis.tokens));
      for (let k = 1; k < reference.length; k++) expect(reference[k]!.score).toBeLessThanOrEqual(reference[k - 1]!.score);
    }
    // CTranslate2's rule: no more hypotheses than beams (greedy search has one).
    await expect(decodeHypotheses(sessions, [{ ...inputs[0]!, numHypotheses: 5 }], settings)).rejects.toThrow(
      '5 hypotheses asked for with a beam width of 4; ask for at most the beam width',
    );
    await expect(decodeHypotheses(sessions, [{ ...inputs[0]!, numHypotheses: 2 }], { ...settings, numBeams: 1 })).rejects.toThrow(
      /beam width of 1/,
    );
  }, 120_000);

  it('follows the model: generation_config.json gives the beams and renormalisation', async () => {
    const { sessions } = await load('Xenova/opus-mt-ar-en');
    expect(sessions.info.generation).toMatchObject({ numBeams: 4, renormalizeLogits: true, badWordsIds: [[sessions.info.padId]] });
  });

  // A repetition penalty changes scores (not only bans), so the processors run between two log-softmax passes.
  it.each([false, true])('with a repetition penalty, renormalisation %s, still equals the reference', async (renormalizeLogits) => {
    const { tokenizer, sessions } = await load(EARLY_EOS_MODEL.id);
    const settings: SearchSettings = {
      ...modelSearchSettings(sessions.info),
      numBeams: 3,
      renormalizeLogits,
      repetitionPenalty: 1.3,
    };
    const inputs = inputsFor(tokenizer, AR);
    const batched = await decode(sessions, inputs, settings);
    for (const [i, input] of inputs.entries()) expect(batched[i]).toEqual(await referenceBeamSearch(sessions, input, settings));
  });
});
