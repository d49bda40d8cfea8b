/**
 * The converter's graphs compute what Hugging Face's modeling code computes: generated checkpoints
 * (hub layout, HF parameter names) are converted with `models convert`, run through onnxruntime-node
 * as newsbridge runs them (fp32, batched, key/value cache), and compared with the float64 forward
 * pass of tools/reference-forward.ts, written from modeling_marian.py / modeling_m2m_100.py and
 * reading the checkpoint itself: encoder states and the logits of every greedy step agree to 1e-4,
 * and greedy search gives the same tokens. Marian base (swish), tc-big's flags (ReLU, `</s>` inside
 * the vocabulary), a Marian checkpoint with separate encoder, decoder and output tables, and M2M-100
 * with NLLB codes (pre-norm, final norms, padded positions) for Arabic and Vietnamese.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../src/models/convert/convert.js';
import { readSafetensors, writeSafetensors } from '../../../src/models/convert/safetensors.js';
import { BatchState } from '../../../src/translation/batch-state.js';
import { decode, modelSearchSettings } from '../../../src/translation/decoder.js';
import { openSeq2SeqSessions, type Seq2SeqSessions } from '../../../src/translation/seq2seq-sessions.js';
import { type MakeModelOptions, makeModel } from '../../../tools/make-model.js';
import { Random } from '../../../tools/model/random.js';
import { type GreedyRules, ReferenceSeq2Seq, marianPositionTable, referenceGreedy } from '../../../tools/reference-forward.js';
import { repoRoot } from '../../../tools/repo-root.js';

const TOLERANCE = 1e-4;
const MAX_NEW_TOKENS = 12;
const SENTENCES_PER_LANGUAGE = 4;

/** The first sentences of the sample articles in a script, cut to 40, 65, 90 and 115 characters: batch rows of different lengths, so padded. */
function sampleLines(script: RegExp): string[] {
  const dir = path.join(repoRoot, 'input');
  const lines: string[] = [];
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort()) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split(/\n|(?<=[.!?])\s+/)) {
      const text = line
        .trim()
        .slice(0, 40 + 25 * lines.length)
        .trim();
      if (text.length > 10 && script.test(text) && lines.length < SENTENCES_PER_LANGUAGE) lines.push(text);
    }
  }
  return lines;
}

const ARABIC = sampleLines(/[\u0600-\u06FF]/);
const VIETNAMESE = sampleLines(/[àáảãạăâđèéẻẽẹêìíòóỏõọôơùúủũụưỳý]/i);
/** English sentences of the generator's corpus, teacher-forced into the decoder. */
const ENGLISH = readFileSync(path.join(repoRoot, 'tools/corpus/en.txt'), 'utf8')
  .split(/(?<=[.!?])\s+/)
  .slice(0, SENTENCES_PER_LANGUAGE)
  .map((sentence) => sentence.slice(0, 90));

interface Case {
  name: string;
  options: Omit<MakeModelOptions, 'out'>;
  /** NLLB source-language code per sentence set (M2M-100), or null (Marian: one language per model). */
  sources: { code: string | null; sentences: string[] }[];
  /** Rewrites the generated checkpoint before conversion. */
  edit?: (dir: string) => Promise<void>;
}

/**
 * Separate encoder, decoder and output tables (share_encoder_decoder_embeddings and
 * tie_word_embeddings false), which opus-mt checkpoints such as tc-big models may have: the
 * generator writes tied ones, so the decoder's table and lm_head are redrawn here.
 */
async function untieTables(dir: string): Promise<void> {
  const configFile = path.join(dir, 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  await writeFile(configFile, JSON.stringify({ ...config, share_encoder_decoder_embeddings: false, tie_word_embeddings: false }));
  const file = path.join(dir, 'model.safetensors');
  const tensors = await readSafetensors(file);
  const shared = tensors.get('model.shared.weight')!;
  tensors.delete('model.shared.weight');
  const random = new Random(99);
  const redrawn = () => ({ shape: shared.shape, data: shared.data.map((v) => v + random.normal() * 0.05) });
  await writeSafetensors(file, [
    ['model.encoder.embed_tokens.weight', shared],
    ['model.decoder.embed_tokens.weight', redrawn()],
    ['lm_head.weight', redrawn()],
    ...tensors,
  ]);
}

const CASES: Case[] = [
  {
    name: 'Marian (tiny: swish, tied tables)',
    options: { preset: 'tiny', seed: 1, sourceLang: 'ar' },
    sources: [{ code: null, sentences: ARABIC }],
  },
  {
    name: "Marian with tc-big's flags (tiny-tc-big: ReLU, </s> at 847)",
    options: { preset: 'tiny-tc-big', seed: 5, sourceLang: 'ar' },
    sources: [{ code: null, sentences: ARABIC }],
  },
  {
    name: 'Marian with separate encoder, decoder and output tables',
    options: { preset: 'tiny', seed: 2, sourceLang: 'vi' },
    sources: [{ code: null, sentences: VIETNAMESE }],
    edit: untieTables,
  },
  {
    name: 'M2M-100 (tiny-m2m100: NLLB codes, pre-norm, final norms, padded positions)',
    options: { preset: 'tiny-m2m100', seed: 4, sourceLang: 'ar' },
    sources: [
      { code: 'arb_Arab', sentences: ARABIC },
      { code: 'vie_Latn', sentences: VIETNAMESE },
    ],
  },
];

let work: string;

beforeAll(async () => {
  env.allowRemoteModels = false;
  work = await mkdtemp(path.join(tmpdir(), 'nb-reference-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function maxAbsDiff(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  expect(ours.length).toBe(reference.length);
  let max = 0;
  for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i]! - reference[i]!));
  return max;
}

/** The rules `generate` runs greedy search with, from the converted folder's generation_config.json and tokenizer. */
async function greedyRules(dir: string, tokenizer: PreTrainedTokenizer, family: string): Promise<GreedyRules> {
  const generation = JSON.parse(await readFile(path.join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
  const badWords = (generation.bad_words_ids ?? []) as number[][];
  expect(badWords.every((words) => words.length === 1)).toBe(true);
  return {
    decoderStartId: generation.decoder_start_token_id as number,
    eosId: generation.eos_token_id as number,
    bannedIds: badWords.flat(),
    // What a user of HF's translation pipeline passes for NLLB: forced_bos_token_id = the id of eng_Latn.
    forcedBosId: family === 'm2m_100' ? tokenizer.encode('eng_Latn', { add_special_tokens: false })[0]! : null,
    maxNewTokens: MAX_NEW_TOKENS,
  };
}

/** Encoder input ids: Marian's tokenizer adds `</s>`; NLLB's puts the source-language token first. */
function encoderIds(tokenizer: PreTrainedTokenizer, code: string | null, sentence: string, eosId: number): number[] {
  if (code === null) return tokenizer.encode(sentence);
  return [tokenizer.encode(code, { add_special_tokens: false })[0]!, ...tokenizer.encode(sentence, { add_special_tokens: false }), eosId];
}

/** Max |ONNX − reference| over the encoder states of a right-padded batch, pads included. */
async function encoderDifference(sessions: Seq2SeqSessions, reference: ReferenceSeq2Seq, inputs: number[][]): Promise<number> {
  const width = Math.max(...inputs.map((ids) => ids.length));
  const padded = inputs.map((ids) => [...ids, ...new Array<number>(width - ids.length).fill(sessions.info.padId)]);
  const masks = inputs.map((ids) => padded[0]!.map((_, c) => (c < ids.length ? 1 : 0)));
  const { last_hidden_state: states } = await sessions.encoder.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(padded.flat(), BigInt), [inputs.length, width]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(masks.flat(), BigInt), [inputs.length, width]),
  });
  const ours = states!.data as Float32Array;
  const rowSize = ours.length / inputs.length;
  return Math.max(
    ...padded.map((ids, r) => maxAbsDiff(ours.subarray(r * rowSize, (r + 1) * rowSize), reference.encode(ids, masks[r]!).data)),
  );
}

/** A decoder input sequence (decoder start token first) and the reference's logits after each of its prefixes. */
interface DecoderPath {
  feed: number[];
  logits: Float64Array[];
}

/** The greedy decode of the reference as a path: its tokens, fed back. */
function greedyPath(reference: ReferenceSeq2Seq, ids: number[], rules: GreedyRules): DecoderPath {
  const { tokens, logits } = referenceGreedy(reference, ids, rules);
  return { feed: [rules.decoderStartId, ...tokens], logits };
}

/** Teacher forcing: `target` fed whatever the model prefers (greedy output of random weights repeats one token). */
function forcedPath(reference: ReferenceSeq2Seq, ids: number[], target: number[]): DecoderPath {
  const mask = ids.map(() => 1);
  const encoded = reference.encode(ids, mask);
  return { feed: target, logits: target.map((_, t) => reference.nextLogits(encoded, mask, target.slice(0, t + 1))) };
}

/**
 * Max |ONNX − reference| over the logits of every step, the batch decoded as the product decodes it
 * (BatchState: right-padded, key/value cache), each row fed its path; a row whose path has ended
 * is fed `</s>` and not compared.
 */
async function stepDifference(sessions: Seq2SeqSessions, inputs: number[][], paths: DecoderPath[]): Promise<number> {
  const state = await BatchState.encode(sessions, inputs);
  const vocab = sessions.info.vocabSize;
  let max = 0;
  try {
    for (let step = 0; step < Math.max(...paths.map((p) => p.feed.length)); step++) {
      const logits = await state.step(paths.map((p) => p.feed[step] ?? sessions.info.eosId));
      paths.forEach((p, row) => {
        const expected = p.logits[step];
        if (expected) max = Math.max(max, maxAbsDiff(logits.subarray(row * vocab, (row + 1) * vocab), expected));
      });
    }
  } finally {
    state.clear();
  }
  return max;
}

describe.each(CASES)('converted graphs against the float64 reference: $name', ({ options, sources, edit }) => {
  let dir: string;
  let converted: string;
  let sessions: Seq2SeqSessions;
  let reference: ReferenceSeq2Seq;
  let tokenizer: PreTrainedTokenizer;
  let rules: GreedyRules;

  beforeAll(async () => {
    dir = path.join(work, `${options.preset}-${options.seed}`, 'checkpoint');
    converted = path.join(work, `${options.preset}-${options.seed}`, 'converted');
    await makeModel({ ...options, out: dir, checkpoint: true });
    await edit?.(dir);
    await convertCheckpoint(dir, converted);
    [sessions, reference, tokenizer] = await Promise.all([
      openSeq2SeqSessions(converted, { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: 1 }),
      ReferenceSeq2Seq.load(dir),
      AutoTokenizer.from_pretrained(converted, { local_files_only: true }),
    ]);
    rules = await greedyRules(converted, tokenizer, reference.config.family);
  });

  afterAll(async () => {
    await sessions?.release();
  });

  it.each(sources)(
    'encoder states and every greedy step agree to 1e-4, and greedy tokens are equal ($code)',
    async ({ code, sentences }) => {
      expect(sentences).toHaveLength(SENTENCES_PER_LANGUAGE);
      const inputs = sentences.map((sentence) => encoderIds(tokenizer, code, sentence, rules.eosId));
      expect(new Set(inputs.map((ids) => ids.length)).size).toBeGreaterThan(1);
      expect(await encoderDifference(sessions, reference, inputs)).toBeLessThanOrEqual(TOLERANCE);

      const paths = inputs.map((ids) => greedyPath(reference, ids, rules));
      expect(await stepDifference(sessions, inputs, paths)).toBeLessThanOrEqual(TOLERANCE);
      const english = ENGLISH.map((line) => [
        rules.decoderStartId,
        ...(rules.forcedBosId === null ? [] : [rules.forcedBosId]),
        ...tokenizer.encode(line, { add_special_tokens: false }),
      ]);
      const forced = inputs.map((ids, k) => forcedPath(reference, ids, english[k]!));
      expect(await stepDifference(sessions, inputs, forced)).toBeLessThanOrEqual(TOLERANCE);

      const settings = { ...modelSearchSettings(sessions.info), numBeams: 1 };
      const decodeInputs = inputs.map((ids) => ({ ids, maxNewTokens: MAX_NEW_TOKENS }));
      const batched = await decode(sessions, decodeInputs, settings);
      for (const [i, input] of decodeInputs.entries()) {
        expect((await decode(sessions, [input], settings))[0], `sentence ${i}, alone`).toEqual(paths[i]!.feed.slice(1));
        expect(batched[i], `sentence ${i}, batched`).toEqual(paths[i]!.feed.slice(1));
      }
    },
  );

  it("reads the checkpoint's own tables: Marian's stored positions are modeling_marian.py's sinusoids", async () => {
    const tensors = await readSafetensors(path.join(dir, 'model.safetensors'));
    const stored = tensors.get('model.encoder.embed_positions.weight');
    if (reference.config.family === 'm2m_100') {
      // M2M-100's table is a buffer HF recomputes, never saved.
      expect(stored).toBeUndefined();
      return;
    }
    const [rows, dim] = stored!.shape as [number, number];
    expect(maxAbsDiff(stored!.data, marianPositionTable(rows, dim))).toBeLessThanOrEqual(1e-6);
  });
});
