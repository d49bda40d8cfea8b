import { readdirSync, readFileSync } from 'node:fs';
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
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LanguageCode } from '../../src/article.js';
import { decode, modelSearchSettings, type DecodeInput, type SearchSettings } from '../../src/translation/decoder.js';
import { languageTokenId } from '../../src/translation/families.js';
import { Translator } from '../../src/translation/translator.js';
import { TranslatorPool } from '../../src/translation/translator-pool.js';
import { defaultConfig } from '../../src/config/config.js';
import type { BatchTiming } from '../../src/translation/batcher.js';
import { openSeq2SeqSessions, type Seq2SeqSessions } from '../../src/translation/seq2seq-sessions.js';
import { repoRoot } from '../../tools/repo-root.js';
import { TINY_M2M100_MODEL } from '../../tools/test-models.js';

/** The first lines of the sample articles of a language: ≥ 20 sentences each. */
function sampleLines(script: RegExp, count: number): string[] {
  const dir = path.join(repoRoot, 'input');
  const lines: string[] = [];
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.txt'))
    .sort()) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split(/\n|(?<=[.!?])\s+/)) {
      const text = line.trim().slice(0, 200).trim();
      if (text.length > 10 && script.test(text) && lines.length < count) lines.push(text);
    }
  }
  return lines;
}

const SOURCES: { lang: LanguageCode; nllb: string; sentences: string[] }[] = [
  { lang: 'ar', nllb: 'arb_Arab', sentences: sampleLines(/[\u0600-\u06FF]/, 20) },
  { lang: 'vi', nllb: 'vie_Latn', sentences: sampleLines(/[àáảãạăâđèéẻẽẹêìíòóỏõọôơùúủũụưỳý]/i, 20) },
];

let tokenizer: PreTrainedTokenizer;
let sessions: Seq2SeqSessions;
let reference: PreTrainedModel;

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const dir = path.join(inject('modelsDir'), TINY_M2M100_MODEL.id);
  [tokenizer, sessions, reference] = await Promise.all([
    AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
    openSeq2SeqSessions(dir, { dtype: 'fp32', q8Activations: 'per-batch', intraOpThreads: 1 }),
    AutoModelForSeq2SeqLM.from_pretrained(dir, { local_files_only: true, dtype: 'fp32', session_options: { intraOpNumThreads: 1 } }),
  ]);
});

afterAll(async () => {
  await sessions?.release();
  await reference?.dispose();
});

/** Our encoder input for a sentence: `[source language] tokens </s>`, the language token's id from tokenizer.json. */
function ourInput(lang: LanguageCode, sentence: string): DecodeInput {
  const { specialIds, codeScheme, eosId } = sessions.info;
  const ids = [languageTokenId(specialIds, codeScheme!, lang), ...tokenizer.encode(sentence, { add_special_tokens: false }), eosId];
  return { ids, maxNewTokens: 2 * ids.length + 8 };
}

/**
 * transformers.js `generate`, greedy, with `forced_bos_token_id`: the generated ids after the decoder
 * start. This model has no forced_eos_token_id: at the limit generate stops without `</s>`.
 */
async function referenceGreedy(model: PreTrainedModel, ids: readonly number[], maxNewTokens: number, forcedBos: number | null) {
  const output = (await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: maxNewTokens,
    num_beams: 1,
    forced_bos_token_id: forcedBos ?? undefined,
  })) as Tensor;
  return (output.tolist() as bigint[][])[0]!.slice(1).map(Number);
}

/** Our decoder's output against generate's: the same tokens, ours without the `</s>` generate may end with. */
function expectSameGreedy(ours: number[] | undefined, theirs: number[], info: Seq2SeqSessions['info']): void {
  expect(theirs[0]).toBe(info.forcedBosId);
  expect(ours).toEqual(theirs.at(-1) === info.eosId ? theirs.slice(0, -1) : theirs);
}

describe('M2M-100 family (tiny-m2m100, NLLB codes)', () => {
  it('reads the family and forces eng_Latn, ids from tokenizer.json', () => {
    expect(sessions.info.family).toBe('m2m_100');
    expect(sessions.info.codeScheme).toBe('nllb');
    expect(sessions.info.forcedBosId).toBe(tokenizer.encode('eng_Latn', { add_special_tokens: false })[0]);
  });

  it.each(SOURCES)('encoder input equals transformers.js NllbTokenizer with src_lang ($lang)', ({ lang, nllb, sentences }) => {
    expect(sentences.length).toBeGreaterThanOrEqual(20);
    const build = (tokenizer as unknown as { _build_translation_inputs: (...args: unknown[]) => { input_ids: Tensor } })
      ._build_translation_inputs;
    for (const sentence of sentences) {
      const theirs = build.call(tokenizer, [sentence], {}, { src_lang: nllb, tgt_lang: 'eng_Latn' }).input_ids;
      expect(ourInput(lang, sentence).ids).toEqual((theirs.tolist() as bigint[][])[0]!.map(Number));
    }
  });

  it.each(SOURCES)(
    'greedy, one at a time and batched, equals transformers.js generate with forced_bos_token_id ($lang)',
    async ({ lang, sentences }) => {
      const settings: SearchSettings = { ...modelSearchSettings(sessions.info), numBeams: 1 };
      const inputs = sentences.map((sentence) => ourInput(lang, sentence));
      const batched = await decode(sessions, inputs, settings);
      for (const [i, input] of inputs.entries()) {
        const [ours] = await decode(sessions, [input], settings);
        expectSameGreedy(ours, await referenceGreedy(reference, input.ids, input.maxNewTokens, sessions.info.forcedBosId), sessions.info);
        expect(batched[i]).toEqual(ours);
      }
    },
  );
});

describe('q8 tiny-m2m100 (the _quantized graphs)', () => {
  let q8: Seq2SeqSessions;
  let q8Rowwise: Seq2SeqSessions;
  let q8Reference: PreTrainedModel;
  beforeAll(async () => {
    const dir = path.join(inject('modelsDir'), TINY_M2M100_MODEL.id);
    [q8, q8Rowwise, q8Reference] = await Promise.all([
      // As exported (one activation scale per tensor), which is what transformers.js runs.
      openSeq2SeqSessions(dir, { dtype: 'q8', q8Activations: 'per-batch', intraOpThreads: 1 }),
      openSeq2SeqSessions(dir, { dtype: 'q8', q8Activations: 'per-row', intraOpThreads: 1 }),
      AutoModelForSeq2SeqLM.from_pretrained(dir, { local_files_only: true, dtype: 'q8', session_options: { intraOpNumThreads: 1 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([q8?.release(), q8Rowwise?.release(), q8Reference?.dispose()]);
  });

  it.each(SOURCES)('greedy, one at a time, equals transformers.js generate on the same q8 files ($lang)', async ({ lang, sentences }) => {
    const settings: SearchSettings = { ...modelSearchSettings(q8.info), numBeams: 1 };
    for (const input of sentences.map((sentence) => ourInput(lang, sentence))) {
      const [ours] = await decode(q8, [input], settings);
      expectSameGreedy(ours, await referenceGreedy(q8Reference, input.ids, input.maxNewTokens, q8.info.forcedBosId), q8.info);
    }
  });

  it.each(SOURCES)('per-row activations: batched equals one at a time ($lang)', async ({ lang, sentences }) => {
    const settings: SearchSettings = { ...modelSearchSettings(q8Rowwise.info), numBeams: 1 };
    const inputs = sentences.map((sentence) => ourInput(lang, sentence));
    const batched = await decode(q8Rowwise, inputs, settings);
    for (const [i, input] of inputs.entries()) {
      const [alone] = await decode(q8Rowwise, [input], settings);
      expect(alone![0]).toBe(q8Rowwise.info.forcedBosId);
      expect(batched[i]).toEqual(alone);
    }
  });
});

describe('beam search on tiny-m2m100 (transformers.js generate has no beam search to compare with)', () => {
  it.each(SOURCES)('4 beams: every output starts with eng_Latn, and batched equals one at a time ($lang)', async ({ lang, sentences }) => {
    const settings: SearchSettings = { ...modelSearchSettings(sessions.info), numBeams: 4 };
    const inputs = sentences.map((sentence) => ourInput(lang, sentence));
    const batched = await decode(sessions, inputs, settings);
    for (const [i, input] of inputs.entries()) {
      const [alone] = await decode(sessions, [input], settings);
      expect(alone![0]).toBe(sessions.info.forcedBosId);
      expect(batched[i]).toEqual(alone);
    }
  });
});

describe('Translator on tiny-m2m100, one model folder for ar and vi', () => {
  it.each(SOURCES)(
    'tokenizes with the source-language token and writes what transformers.js generate writes ($lang)',
    async ({ lang, nllb, sentences }) => {
      const translator = await Translator.load({
        modelDir: path.join(inject('modelsDir'), TINY_M2M100_MODEL.id),
        model: { lang, id: TINY_M2M100_MODEL.id, revision: 'main', dtype: 'fp32' },
        dtype: 'fp32',
        batchTokens: 2048,
        maxInputTokens: 512,
        maxNewTokensRatio: 2,
        numBeams: 1,
        noRepeatNgramSize: 0,
        repetitionPenalty: 1,
        workers: 1,
        threadsPerWorker: 1,
      });
      try {
        // Part of the translation memory's key: the same sentence from another language is translated again.
        expect(JSON.parse(translator.decoding).sourceLanguage).toBe(lang);
        // All at once: the Batcher batches them.
        const translations = await translator.translate(sentences);
        const build = (tokenizer as unknown as { _build_translation_inputs: (...args: unknown[]) => { input_ids: Tensor } })
          ._build_translation_inputs;
        for (const [i, sentence] of sentences.entries()) {
          const ids = translator.tokenize(sentence);
          const built = build.call(tokenizer, [sentence], {}, { src_lang: nllb, tgt_lang: 'eng_Latn' }).input_ids;
          expect(ids).toEqual((built.tolist() as bigint[][])[0]!.map(Number));
          // The Translator's limit: maxNewTokensRatio × source tokens + its margin of 8.
          const generated = await referenceGreedy(reference, ids, Math.ceil(2 * ids.length) + 8, sessions.info.forcedBosId);
          const theirs = tokenizer.decode(generated, { skip_special_tokens: true }).trim();
          expect(translations[i]!.target).toBe(theirs);
        }
      } finally {
        await translator.dispose();
      }
    },
  );
});

describe('TranslatorPool: one tiny-m2m100 configured for ar and vi', () => {
  it('gives both languages the one load error of a missing shared model, naming both', async () => {
    const spec = { id: 'facebook/nllb-200-distilled-600M', revision: 'main' };
    const pool = new TranslatorPool({ ...defaultConfig.translation, modelsDir: inject('modelsDir'), models: { ar: spec, vi: spec } });
    const [ar, vi] = await Promise.all([pool.get('ar').catch((e: unknown) => e), pool.get('vi').catch((e: unknown) => e)]);
    expect(vi).toBe(ar);
    expect((ar as Error).message).toContain('model facebook/nllb-200-distilled-600M (ar, vi) is unavailable');
    await pool.dispose();
  });

  it('loads the model once, into one pool of workers, and batches ar and vi sentences together', async () => {
    const batches: BatchTiming[] = [];
    const loads: { id: string; languages: string[] }[] = [];
    const spec = { id: TINY_M2M100_MODEL.id, revision: 'main' };
    const pool = new TranslatorPool(
      {
        ...defaultConfig.translation,
        modelsDir: inject('modelsDir'),
        models: { ar: spec, vi: spec },
        dtype: 'fp32',
        numBeams: 1,
        maxNewTokensRatio: 2,
        // Room for all 16 sentences in one batch.
        batchTokens: 16_384,
        workers: 1,
        threadsPerWorker: 1,
      },
      { onBatch: (batch) => batches.push(batch), onModelLoad: (model) => loads.push(model) },
    );
    try {
      const [ar, vi] = await Promise.all([pool.get('ar'), pool.get('vi')]);
      expect(loads).toEqual([
        { id: TINY_M2M100_MODEL.id, dir: path.join(inject('modelsDir'), TINY_M2M100_MODEL.id), languages: ['ar', 'vi'] },
      ]);
      // The same worker thread (and so the same onnxruntime sessions) serves both languages.
      expect(vi.threads).toHaveLength(1);
      expect(vi.threads[0]).toBe(ar.threads[0]);
      expect([ar.model.lang, vi.model.lang]).toEqual(['ar', 'vi']);
      expect(vi.model.weights).toBe(ar.model.weights);
      expect(JSON.parse(vi.decoding).sourceLanguage).toBe('vi');

      const arabic = SOURCES[0]!.sentences.slice(0, 8);
      const vietnamese = SOURCES[1]!.sentences.slice(0, 8);
      const [mixedAr, mixedVi] = await Promise.all([ar.translate(arabic), vi.translate(vietnamese)]);
      // One model call held the sentences of both languages.
      expect(batches).toHaveLength(1);
      expect(batches[0]!.sentences).toBe(arabic.length + vietnamese.length);
      for (const [translator, sentences, mixed] of [
        [ar, arabic, mixedAr],
        [vi, vietnamese, mixedVi],
      ] as const) {
        for (const [i, sentence] of sentences.entries()) {
          const [alone] = await translator.translate([sentence]);
          expect(mixed[i]!.target).toBe(alone!.target);
          expect(mixed[i]!.targetTokens).toBeGreaterThan(0);
        }
      }
    } finally {
      await pool.dispose();
    }
  });
});
