import { once } from 'node:events';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { env, LogLevel } from '@huggingface/transformers';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { ModelUnavailableError, TranslationStoppedError } from '../../src/errors.js';
import { InferencePool } from '../../src/translation/inference-pool.js';
import { packBatches, type BatchTiming } from '../../src/translation/batcher.js';
import { cutAtSpaces, MAX_TOKENIZED_CHARS, splitToFit } from '../../src/translation/input-splitting.js';
import { hasRepetitionLoop, lengthRatioWithin } from '../../src/translation/qa.js';
import { Translator, weightsFingerprint, type TranslatorOptions } from '../../src/translation/translator.js';
import { TranslatorPool } from '../../src/translation/translator-pool.js';
import { EARLY_EOS_MODEL } from '../../tools/test-models.js';

/** Whitespace-word count plus `</s>`: enough to exercise the splitting rules without a model. */
const countWords = (text: string) => text.split(/\s+/u).filter((w) => w !== '').length + 1;

describe('hasRepetitionLoop', () => {
  it('flags the same 1- to 4-gram four times in a row, at any offset', () => {
    expect(hasRepetitionLoop([5, 7, 7, 7, 7, 9])).toBe(true);
    expect(hasRepetitionLoop([1, 2, 3, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6])).toBe(true);
    expect(hasRepetitionLoop([9, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4])).toBe(true);
  });

  it('leaves ordinary output and three repeats alone', () => {
    expect(hasRepetitionLoop([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(false);
    expect(hasRepetitionLoop([7, 7, 7, 8, 1, 2, 1, 2, 1, 2, 3])).toBe(false);
    expect(hasRepetitionLoop([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5])).toBe(false);
    expect(hasRepetitionLoop([])).toBe(false);
  });
});

describe('lengthRatioWithin', () => {
  const bounds = { min: 0.3, max: 3 };
  it('accepts ratios inside the bounds and rejects those outside', () => {
    expect(lengthRatioWithin(10, 12, bounds)).toBe(true);
    expect(lengthRatioWithin(10, 3, bounds)).toBe(true);
    expect(lengthRatioWithin(10, 2, bounds)).toBe(false);
    expect(lengthRatioWithin(10, 31, bounds)).toBe(false);
    expect(lengthRatioWithin(10, 0, bounds)).toBe(false);
  });
});

describe('packBatches', () => {
  const input = (length: number) => ({ ids: Array.from({ length }, () => 0) });

  it('keeps rows × longest row within the budget, longest inputs first', () => {
    const inputs = [3, 10, 4, 9, 2, 10, 1].map(input);
    const batches = packBatches(inputs, 20);
    expect(batches.map((b) => b.map((i) => i.ids.length))).toEqual([
      [10, 10],
      [9, 4],
      [3, 2, 1],
    ]);
    for (const batch of batches) expect(batch.length * batch[0]!.ids.length).toBeLessThanOrEqual(20);
    expect(batches.flat()).toHaveLength(inputs.length);
  });

  it('puts an input longer than the budget in a batch of its own', () => {
    expect(packBatches([input(50), input(5)], 20).map((b) => b.length)).toEqual([1, 1]);
  });
});

describe('splitToFit', () => {
  it('returns a text that fits as it is', () => {
    expect(splitToFit('a b c', countWords, 10)).toEqual(['a b c']);
  });

  it('splits at Arabic and Latin clause punctuation first, packing clauses that fit together', () => {
    const text = 'واحد اثنان، ثلاثة أربعة؛ خمسة ستة, seven eight; nine ten: eleven – twelve';
    const pieces = splitToFit(text, countWords, 6);
    expect(pieces).toEqual(['واحد اثنان، ثلاثة أربعة؛', 'خمسة ستة, seven eight;', 'nine ten: eleven – twelve']);
    for (const piece of pieces) expect(countWords(piece)).toBeLessThanOrEqual(6);
    expect(splitToFit('a b c – d e f', countWords, 5)).toEqual(['a b c –', 'd e f']);
  });

  it('falls back to whitespace, and cuts a single over-long word by characters', () => {
    const words = Array.from({ length: 25 }, (_, i) => `w${i}`);
    const pieces = splitToFit(words.join(' '), countWords, 8);
    expect(pieces.join(' ')).toBe(words.join(' '));
    for (const piece of pieces) expect(countWords(piece)).toBeLessThanOrEqual(8);

    const byChars = (text: string) => Array.from(text).length + 1;
    const long = 'x'.repeat(30);
    const cut = splitToFit(long, byChars, 8);
    expect(cut.join('')).toBe(long);
    for (const piece of cut) expect(byChars(piece)).toBeLessThanOrEqual(8);
  });

  it('tokenizes each word of a long unpunctuated line about once, not once per piece it grows into', () => {
    let tokenizedChars = 0;
    const counting = (text: string) => {
      tokenizedChars += text.length;
      return countWords(text);
    };
    const text = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
    const pieces = splitToFit(text, counting, 100);
    expect(pieces.join(' ')).toBe(text);
    for (const piece of pieces) expect(countWords(piece)).toBeLessThanOrEqual(100);
    // Re-counting every growing piece tokenized ~18× the text at this limit, more at higher ones.
    expect(tokenizedChars).toBeLessThan(3 * text.length);
  });

  it('does not split at punctuation that is not followed by a space (3,5 or a URL)', () => {
    expect(splitToFit('3,5 6,7 8:9 a b', countWords, 4)).toEqual(['3,5 6,7 8:9', 'a b']);
  });
});

describe('cutAtSpaces', () => {
  it('cuts at the last space before the limit and drops only the spaces at the cuts', () => {
    expect(cutAtSpaces('aa bb cc dd', 5)).toEqual(['aa bb', 'cc dd']);
    expect(cutAtSpaces('aa bb cc dd', 6)).toEqual(['aa bb', 'cc dd']);
    expect(cutAtSpaces('aa  bb\ncc', 100)).toEqual(['aa  bb\ncc']);
    const text = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    const chunks = cutAtSpaces(text, 64);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(64);
    expect(chunks.join(' ')).toBe(text);
  });

  it('cuts a chunk with no space at the limit, never inside a surrogate pair', () => {
    expect(cutAtSpaces('abcdefgh', 3)).toEqual(['abc', 'def', 'gh']);
    const emoji = '😀'.repeat(5);
    const chunks = cutAtSpaces(emoji, 3);
    expect(chunks.join('')).toBe(emoji);
    for (const chunk of chunks) expect(chunk).toMatch(/^(?:[\uD800-\uDBFF][\uDC00-\uDFFF])+$/);
  });
});

describe('Translator on a generated tiny MarianMT model', () => {
  const modelsDir = inject('modelsDir');
  const arDir = path.join(modelsDir, 'Xenova', 'opus-mt-ar-en');
  const settings = {
    batchTokens: 2048,
    maxInputTokens: 512,
    maxNewTokensRatio: 2,
    numBeams: 1,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
  };
  const load = (overrides: Partial<TranslatorOptions> = {}) =>
    Translator.load({
      modelDir: arDir,
      model: { lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: overrides.dtype ?? 'fp32' },
      dtype: 'fp32',
      ...settings,
      ...overrides,
    });
  const sentences = [
    'قال رئيس الوزراء الياباني فوميو كيشيدا، الجمعة، إنه يريد تعزيز التعاون العسكري مع الولايات المتحدة.',
    'مرحبا',
    'وقال كيشيدا إن اليابان تأمل في تعزيز التعاون الأمني.',
    'الرئيس الإندونيسي المنتخب يجتمع مع رئيس الوزراء الياباني ويتعهد بتعزيز العلاقات بين البلدين في مجالات عدة',
    'وقال “في إطار التحالف الياباني الأمريكي”.',
  ];

  let translator: Translator;
  beforeAll(async () => {
    translator = await load();
  });
  afterAll(() => translator.dispose());
  afterEach(() => vi.restoreAllMocks());

  it('leaves transformers.js settings as the host program set them, and still reads only the model folder', async () => {
    const hostSettings = () => ({
      allowRemoteModels: env.allowRemoteModels,
      logLevel: env.logLevel,
      localModelPath: env.localModelPath,
      remoteHost: env.remoteHost,
    });
    const before = hostSettings();
    // A hub the host points transformers.js at: the load must not ask it for anything.
    const hubRequests: string[] = [];
    const hub = createServer((request, response) => {
      hubRequests.push(request.url ?? '');
      response.writeHead(404).end();
    });
    hub.listen(0, '127.0.0.1');
    await once(hub, 'listening');
    Object.assign(env, {
      allowRemoteModels: true,
      logLevel: LogLevel.NONE,
      localModelPath: path.join(tmpdir(), 'newsbridge-host-models'),
      remoteHost: `http://127.0.0.1:${(hub.address() as AddressInfo).port}/`,
    });
    const host = hostSettings();
    try {
      const loaded = await load();
      try {
        expect(hostSettings()).toEqual(host);
        expect(loaded.tokenize(sentences[0]!)).toEqual(translator.tokenize(sentences[0]!));
      } finally {
        await loaded.dispose();
      }
      expect(hubRequests).toEqual([]);
    } finally {
      Object.assign(env, before);
      hub.close();
    }
  });

  it('translates with both fp32 and q8', async () => {
    const q8 = await load({ dtype: 'q8' });
    try {
      for (const results of [await translator.translate(sentences), await q8.translate(sentences)]) {
        expect(results).toHaveLength(sentences.length);
        results.forEach((result, i) => {
          expect(result.target.length).toBeGreaterThan(0);
          expect(result.sourceTokens).toBe(translator.tokenize(sentences[i]!).length);
          expect(result.targetTokens).toBeGreaterThan(0);
        });
      }
    } finally {
      await q8.dispose();
    }
  });

  it('returns results in input order across several batches, each as if translated alone', async () => {
    const timings: BatchTiming[] = [];
    const small = await load({ batchTokens: 60, onBatch: (t) => timings.push(t) });
    try {
      const batched = await small.translate(sentences);
      expect(timings.length).toBeGreaterThan(1);
      for (const timing of timings) expect(timing.sentences).toBeGreaterThan(0);
      expect(timings.reduce((sum, t) => sum + t.sentences, 0)).toBe(sentences.length);
      for (const [i, sentence] of sentences.entries()) {
        const [alone] = await translator.translate([sentence]);
        expect(batched[i]).toEqual(alone);
      }
    } finally {
      await small.dispose();
    }
  });

  it('merges concurrent calls into shared batches and gives each call its own results', async () => {
    const timings: BatchTiming[] = [];
    const shared = await load({ onBatch: (t) => timings.push(t) });
    try {
      const [first, second] = await Promise.all([shared.translate(sentences.slice(0, 2)), shared.translate(sentences.slice(2))]);
      expect(timings.map((t) => t.sentences)).toEqual([sentences.length]);
      expect([...first, ...second]).toEqual(await translator.translate(sentences));
    } finally {
      await shared.dispose();
    }
  });

  it('does not send empty or blank sentences to the model', async () => {
    const decode = vi.spyOn(InferencePool.prototype, 'decode');
    const results = await translator.translate(['', '   ', '\n']);
    expect(results).toEqual([0, 1, 2].map(() => ({ target: '', sourceTokens: 0, targetTokens: 0, flags: [] })));
    expect(decode).not.toHaveBeenCalled();
  });

  it('bounds each output by its own input length', async () => {
    const results = await translator.translate(sentences);
    results.forEach((result) => {
      expect(result.targetTokens).toBeLessThanOrEqual(Math.ceil(2 * result.sourceTokens) + 8);
    });
    // The random weights never emit </s>, so the limit is what stops them: exactly, not one short.
    expect(results[0]!.targetTokens).toBe(Math.ceil(2 * results[0]!.sourceTokens) + 8);
    const [short] = await translator.translate(['مرحبا']);
    expect(short!.targetTokens).toBeLessThan(results[0]!.targetTokens);
  });

  it('with fixedTargetTokens, generates exactly that many tokens per input, even where the model wants to stop', async () => {
    const lengthFor = (sourceTokens: number) => (sourceTokens % 2 === 0 ? 3 * sourceTokens + 20 : 2);
    const fixedTargetTokens = (ids: readonly number[]) => lengthFor(ids.length);
    // A model whose `</s>` is likely: without the hook most outputs end early.
    const earlyEos = path.join(modelsDir, EARLY_EOS_MODEL.id);
    const fixed = await load({ fixedTargetTokens, modelDir: earlyEos });
    const free = await load({ modelDir: earlyEos });
    try {
      const results = await fixed.translate(sentences);
      expect(results.some((result) => result.sourceTokens % 2 === 0)).toBe(true);
      expect(results.some((result) => result.sourceTokens % 2 === 1)).toBe(true);
      for (const result of results) expect(result.targetTokens).toBe(lengthFor(result.sourceTokens));
      const unfixed = await free.translate(sentences);
      expect(unfixed.filter((result, i) => result.targetTokens < results[i]!.targetTokens).length).toBeGreaterThan(1);
    } finally {
      await Promise.all([fixed.dispose(), free.dispose()]);
    }
  });

  it('splits an over-long sentence into pieces that fit, and every source token reaches the model', async () => {
    const limited = await load({ maxInputTokens: 16 });
    const decode = vi.spyOn(InferencePool.prototype, 'decode');
    try {
      const sentence = sentences[0]!;
      const whole = limited.tokenize(sentence);
      expect(whole.length).toBeGreaterThan(16);

      const [result] = await limited.translate([sentence]);
      expect(result!.flags).toContain('split-long-input');
      expect(result!.sourceTokens).toBe(whole.length);

      const rows = decode.mock.calls.flatMap(([inputs]) => inputs.map((input) => [...input.ids]));
      expect(rows.length).toBeGreaterThan(1);
      for (const row of rows) {
        expect(row.length).toBeLessThanOrEqual(16);
        expect(row.at(-1)).toBe(whole.at(-1));
      }
      // The batch is sorted by length, so put the pieces back in sentence order before comparing.
      const pieces = splitToFit(sentence, (text) => limited.tokenize(text).length, 16).map((piece) => limited.tokenize(piece));
      expect(rows.map((row) => row.join(',')).sort()).toEqual(pieces.map((piece) => piece.join(',')).sort());
      expect(pieces.flatMap((piece) => piece.slice(0, -1))).toEqual(whole.slice(0, -1));
    } finally {
      await limited.dispose();
    }
  });

  it('tokenizes a sentence of more than MAX_TOKENIZED_CHARS a chunk at a time, and every source token still reaches the model', async () => {
    const batches: BatchTiming[] = [];
    // One generated token per piece: this is about what goes in, not what comes out.
    const oneToken = await load({ fixedTargetTokens: () => 1, onBatch: (batch) => batches.push(batch) });
    try {
      const words = sentences[3]!.split(' ');
      const long = Array.from({ length: Math.ceil((2.2 * MAX_TOKENIZED_CHARS) / 6) }, (_, i) => words[i % words.length]).join(' ');
      const whole = oneToken.tokenize(long);
      const tokenize = vi.spyOn(oneToken, 'tokenize');
      const [result] = await oneToken.translate([long]);
      expect(Math.max(...tokenize.mock.calls.map(([text]) => text.length))).toBeLessThanOrEqual(MAX_TOKENIZED_CHARS);
      expect(result!.flags).toContain('split-long-input');
      expect(result!.sourceTokens).toBe(whole.length);
      // Each piece carries its own `</s>`; every other token goes in exactly once.
      const pieces = batches.reduce((sum, batch) => sum + batch.sentences, 0);
      expect(batches.reduce((sum, batch) => sum + batch.sourceTokens, 0)).toBe(whole.length - 1 + pieces);
    } finally {
      await oneToken.dispose();
    }
  });

  it('splits a sentence over the model limit of 512 tokens, into pieces whose outputs fit the decoder too', async () => {
    // 512 positions minus the decoder start, the final </s> and the margin of 8, over the ratio of 2.
    expect(translator.inputLimit).toBe(251);
    const long = Array.from({ length: 30 }, () => sentences[3]).join('، ');
    expect(translator.tokenize(long).length).toBeGreaterThan(512);
    const decode = vi.spyOn(InferencePool.prototype, 'decode');
    const [result] = await translator.translate([long]);
    expect(result!.flags).toContain('split-long-input');
    expect(result!.target.length).toBeGreaterThan(0);
    expect(decode).toHaveBeenCalled();
    for (const [inputs] of decode.mock.calls) {
      for (const input of inputs) {
        expect(input.ids.length).toBeLessThanOrEqual(251);
        // The longest output allowed still fits the decoder's 512 positions with its start token and `</s>`.
        expect(input.maxNewTokens + 2).toBeLessThanOrEqual(512);
      }
    }
  });
});

describe('Translator decoding settings', () => {
  const modelDir = path.join(inject('modelsDir'), 'Xenova', 'opus-mt-ar-en');
  const base = {
    modelDir,
    model: { lang: 'ar' as const, id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'fp32' as const },
    dtype: 'fp32' as const,
    batchTokens: 512,
    maxInputTokens: 512,
    maxNewTokensRatio: 2,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
    threadsPerWorker: 1,
  };

  it("takes numBeams, lengthPenalty and earlyStopping from the model's generation_config.json unless set", async () => {
    const byModel = await Translator.load(base);
    const bySettings = await Translator.load({ ...base, numBeams: 2, lengthPenalty: 0.6, earlyStopping: 'never' });
    try {
      expect(byModel.search).toMatchObject({ numBeams: 4, lengthPenalty: 1, earlyStopping: false, renormalizeLogits: true });
      expect(bySettings.search).toMatchObject({ numBeams: 2, lengthPenalty: 0.6, earlyStopping: 'never' });
      const decode = vi.spyOn(InferencePool.prototype, 'decode');
      await bySettings.translate(['قال الوزير إن الاجتماع سيعقد غدا.']);
      expect(decode.mock.calls[0]![1]).toMatchObject({ numBeams: 2, lengthPenalty: 0.6, earlyStopping: 'never' });
    } finally {
      vi.restoreAllMocks();
      await Promise.all([byModel.dispose(), bySettings.dispose()]);
    }
  });
});

describe('Translator.load', () => {
  const modelsDir = inject('modelsDir');

  const loadSettings = {
    dtype: 'q8',
    batchTokens: 64,
    maxInputTokens: 512,
    maxNewTokensRatio: 2,
    numBeams: 1,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
  } as const;

  it('gives one clear error for a missing model folder', async () => {
    const dir = path.join(tmpdir(), 'newsbridge-no-such-model');
    const error = await Translator.load({
      modelDir: dir,
      model: { lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8' },
      ...loadSettings,
      label: { name: 'Xenova/opus-mt-ar-en (ar)', fix: 'run `newsbridge models pull --only ar`' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toBe(
      `model Xenova/opus-mt-ar-en (ar) is unavailable: ${dir}${path.sep} does not exist (the model is not installed). ` +
        'Fix: run `newsbridge models pull --only ar`',
    );
  });

  it('names the model folder when an ONNX file is damaged', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-corrupt-'));
    try {
      await cp(path.join(modelsDir, 'Xenova', 'opus-mt-ar-en'), dir, { recursive: true });
      await writeFile(path.join(dir, 'onnx', 'decoder_model_merged_quantized.onnx'), 'not an onnx file');
      const error = await Translator.load({
        modelDir: dir,
        model: { lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8' },
        ...loadSettings,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelUnavailableError);
      expect((error as Error).message).toMatch(
        new RegExp(`^model Xenova/opus-mt-ar-en is unavailable: ${escapeRegExp(dir)}${escapeRegExp(path.sep)} could not be loaded \\(`),
      );
      expect((error as Error).message).toContain('Fix: ');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('TranslatorPool', () => {
  const modelsDir = inject('modelsDir');
  const poolConfig = (models: PipelineConfig['translation']['models']) => ({
    ...defaultConfig.translation,
    dtype: 'q8' as const,
    modelsDir,
    models,
  });

  it('loads a language once and shares it between concurrent callers', async () => {
    const pool = new TranslatorPool(poolConfig({ ar: { id: 'Xenova/opus-mt-ar-en', revision: 'main' } }));
    try {
      expect(pool.languages()).toEqual(['ar']);
      const [a, b] = await Promise.all([pool.get('ar'), pool.get('ar')]);
      expect(a).toBe(b);
      expect(await pool.get('ar')).toBe(a);
      // With the fingerprint of the weights it loaded, which a different model at the same path does not share.
      const weights = await weightsFingerprint(path.join(inject('modelsDir'), 'Xenova/opus-mt-ar-en'), 'q8');
      expect(a.model).toEqual({ lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8', weights });
      expect(await weightsFingerprint(path.join(inject('modelsDir'), 'Xenova/opus-mt-vi-en'), 'q8')).not.toBe(weights);
    } finally {
      await pool.dispose();
    }
  });

  it('remembers a failed load and gives every caller the same error', async () => {
    const pool = new TranslatorPool(poolConfig({ fa: { id: 'Xenova/opus-mt-fa-en', revision: 'main' } }));
    const first = await pool.get('fa').catch((e: unknown) => e);
    const second = await pool.get('fa').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ModelUnavailableError);
    expect(second).toBe(first);
    expect((first as Error).message).toContain(`newsbridge models pull --only fa --models-dir ${path.resolve(modelsDir)}`);
    await expect(pool.get('xx')).rejects.toThrow('no translation model is configured for language "xx"');
    await pool.dispose();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('Translator: stopping between batches', () => {
  it('runs no batch after its signal aborts, and rejects what is still queued with TranslationStoppedError', async () => {
    const stop = new AbortController();
    let batches = 0;
    const translator = await Translator.load({
      modelDir: path.join(inject('modelsDir'), 'Xenova', 'opus-mt-ar-en'),
      model: { lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8' },
      dtype: 'q8',
      batchTokens: 64,
      maxInputTokens: 512,
      maxNewTokensRatio: 1,
      numBeams: 1,
      noRepeatNgramSize: 0,
      repetitionPenalty: 1,
      signal: stop.signal,
      onBatch: () => {
        batches += 1;
        if (batches === 2) stop.abort();
      },
    });
    try {
      const many = Array.from({ length: 200 }, (_, i) => `قال المتحدث إن العدد بلغ ${i} مزارعا في المنطقة.`);
      await expect(translator.translate(many)).rejects.toBeInstanceOf(TranslationStoppedError);
      // Batches already on a worker when the stop came finish; no other batch starts.
      const ran = batches;
      expect(ran).toBeLessThanOrEqual(2 + 2);
      // A stopped Translator stays stopped: nothing new reaches the model either.
      await expect(translator.translate(['وقال الوزير.'])).rejects.toBeInstanceOf(TranslationStoppedError);
      expect(batches).toBe(ran);
    } finally {
      await translator.dispose();
    }
  });
});
