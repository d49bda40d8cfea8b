import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BatchState } from '../../src/translation/batch-state.js';
import { type DecodeInput, decodeHypotheses, modelSearchSettings, type SearchSettings } from '../../src/translation/decoder.js';
import { trimmedOutputLayer, UntrimmableOutputLayerError } from '../../src/translation/output-layer-trim.js';
import { onnxFile, openSeq2SeqSessions, type Seq2SeqSessions, type SessionOptions } from '../../src/translation/seq2seq-sessions.js';
import { EARLY_EOS_MODEL, TINY_M2M100_MODEL } from '../../tools/test-models.js';

const AR = [
  'قال الوزير إن الاجتماع سيعقد غدا.',
  'وأضاف أن النمو بلغ 2.4 في المئة',
  'اليابان تعزز التعاون العسكري مع الفلبين في مواجهة الصين',
  'ذكرت وكالة الأنباء الرسمية أن الرئيس وصل إلى العاصمة صباح اليوم في زيارة تستمر ثلاثة أيام',
];

const opened: Seq2SeqSessions[] = [];
afterAll(async () => {
  await Promise.all(opened.map((sessions) => sessions.release()));
});

async function open(dir: string, options: Partial<SessionOptions> = {}): Promise<Seq2SeqSessions> {
  const sessions = await openSeq2SeqSessions(dir, { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: 1, ...options });
  opened.push(sessions);
  return sessions;
}

const modelDir = (id: string) => path.join(inject('modelsDir'), id);

/** Every id of the vocabulary for which `keep` holds, and the model's special ids, ascending. */
function keptIds(sessions: Seq2SeqSessions, keep: (id: number) => boolean, also: Iterable<number> = []): Int32Array {
  const { info } = sessions;
  const ids = new Set([info.decoderStartId, info.eosId, info.padId, ...Object.values(info.specialIds), ...also]);
  for (let id = 0; id < info.vocabSize; id++) if (keep(id)) ids.add(id);
  return Int32Array.from([...ids].sort((a, b) => a - b));
}

/** Each decoder step's logits for one source, fed `forced` (vocabulary ids) after the start token. */
async function teacherForced(sessions: Seq2SeqSessions, ids: readonly number[], forced: readonly number[]): Promise<Float32Array[]> {
  const state = await BatchState.encode(sessions, [ids]);
  const steps: Float32Array[] = [];
  for (const token of [sessions.info.decoderStartId, ...forced])
    steps.push(Float32Array.from(await state.step(sessions.vocabulary.columns([token]))));
  state.clear();
  return steps;
}

function inputsFor(tokenizer: PreTrainedTokenizer, sentences: readonly string[]): DecodeInput[] {
  return sentences.map((sentence) => {
    const ids = tokenizer.encode(sentence);
    return { ids, maxNewTokens: 2 * ids.length + 8 };
  });
}

describe('trimmedOutputLayer', () => {
  const cases = [
    { id: EARLY_EOS_MODEL.id, dtype: 'fp32', q8Activations: 'per-batch', tolerance: 1e-5 },
    { id: EARLY_EOS_MODEL.id, dtype: 'q8', q8Activations: 'per-batch', tolerance: 1e-5 },
    { id: EARLY_EOS_MODEL.id, dtype: 'q8', q8Activations: 'per-row', tolerance: 1e-5 },
    { id: TINY_M2M100_MODEL.id, dtype: 'fp32', q8Activations: 'per-batch', tolerance: 1e-5 },
    { id: TINY_M2M100_MODEL.id, dtype: 'q8', q8Activations: 'per-row', tolerance: 1e-5 },
  ] as const;

  it.each(cases)(
    'gives the kept columns of the whole layer, and only those ($id, $dtype, $q8Activations)',
    async ({ id, dtype, q8Activations, tolerance }) => {
      const dir = modelDir(id);
      const full = await open(dir, { dtype, q8Activations });
      const kept = keptIds(full, (v) => v % 3 === 1);
      const trimmed = await open(dir, { dtype, q8Activations, outputIds: kept });
      expect(trimmed.vocabulary.size).toBe(kept.length);
      expect(kept.length).toBeLessThan(full.info.vocabSize / 2);
      const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
      const source = tokenizer.encode(AR[2]!);
      const forced = [...kept.slice(10, 16)];
      const [wide, narrow] = await Promise.all([teacherForced(full, source, forced), teacherForced(trimmed, source, forced)]);
      let largest = 0;
      wide.forEach((logits, step) => {
        expect(narrow[step]!.length).toBe(kept.length);
        kept.forEach((vocabularyId, column) => {
          largest = Math.max(largest, Math.abs(logits[vocabularyId]! - narrow[step]![column]!));
        });
      });
      expect(largest).toBeLessThanOrEqual(tolerance);
    },
  );

  it('refuses a graph without an output layer, and kept ids that are not ascending vocabulary ids', async () => {
    const dir = modelDir(EARLY_EOS_MODEL.id);
    const encoder = await readFile(onnxFile(dir, 'encoder_model', 'fp32'));
    const decoder = await readFile(onnxFile(dir, 'decoder_model_merged', 'fp32'));
    expect(() => trimmedOutputLayer(encoder, Int32Array.from([0, 1, 2]), 2000, 32)).toThrow(UntrimmableOutputLayerError);
    expect(() => trimmedOutputLayer(decoder, Int32Array.from([0, 2, 1]), 2000, 32)).toThrow(/ascending/);
    expect(() => trimmedOutputLayer(decoder, Int32Array.from([0, 2000]), 2000, 32)).toThrow(/below 2000/);
  });
});

describe('decoding over a trimmed output layer', () => {
  const greedy = (sessions: Seq2SeqSessions): SearchSettings => ({ ...modelSearchSettings(sessions.info), numBeams: 1 });

  it.each([EARLY_EOS_MODEL.id, TINY_M2M100_MODEL.id])(
    'greedy gives the same tokens when the kept pieces hold what the whole layer writes (%s)',
    async (id) => {
      const dir = modelDir(id);
      const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
      const full = await open(dir);
      const inputs = inputsFor(tokenizer, AR);
      for (const rules of [{}, { repetitionPenalty: 1.3, noRepeatNgramSize: 3 }]) {
        const settings = { ...greedy(full), ...rules };
        const expected = await decodeHypotheses(full, inputs, settings);
        const written = expected.flat(2);
        // What the whole layer wrote, and a fifth of the rest: the argmax is among the kept whenever it was before.
        const trimmed = await open(dir, { outputIds: keptIds(full, (v) => v % 5 === 0, written) });
        expect(trimmed.vocabulary.size).toBeLessThan(full.info.vocabSize);
        expect(await decodeHypotheses(trimmed, inputs, settings)).toEqual(expected);
      }
    },
  );

  it('beam search writes kept pieces only, and with every piece kept equals the whole layer', async () => {
    const dir = modelDir(EARLY_EOS_MODEL.id);
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const full = await open(dir);
    const settings = { ...modelSearchSettings(full.info), numBeams: 4 };
    const inputs = inputsFor(tokenizer, AR).map((input) => ({ ...input, numHypotheses: 2 }));
    const all = await open(dir, { outputIds: keptIds(full, () => true) });
    expect(await decodeHypotheses(all, inputs, settings)).toEqual(await decodeHypotheses(full, inputs, settings));
    const kept = keptIds(full, (v) => v % 4 === 0);
    const trimmed = await open(dir, { outputIds: kept });
    const written = (await decodeHypotheses(trimmed, inputs, settings)).flat(2);
    expect(written.length).toBeGreaterThan(0);
    const keptSet = new Set(kept);
    expect(written.filter((token) => !keptSet.has(token))).toEqual([]);
  });

  it('forces constraints given as vocabulary ids, and refuses one the layer does not keep', async () => {
    const dir = modelDir(EARLY_EOS_MODEL.id);
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const full = await open(dir);
    const kept = keptIds(full, (v) => v % 2 === 0);
    const trimmed = await open(dir, { outputIds: kept });
    const [input] = inputsFor(tokenizer, [AR[0]!]);
    const term = [kept[40]!, kept[41]!];
    for (const numBeams of [1, 3]) {
      const settings = { ...modelSearchSettings(full.info), numBeams };
      const output = (await decodeHypotheses(trimmed, [{ ...input!, constraints: [term] }], settings))[0]![0]!;
      expect(output.join(' ')).toContain(term.join(' '));
    }
    const unkept = kept[40]! + 1;
    await expect(decodeHypotheses(trimmed, [{ ...input!, constraints: [[unkept]] }], greedy(full))).rejects.toThrow(
      new RegExp(`token ${unkept} is not among`),
    );
  });
});
