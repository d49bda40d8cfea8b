/**
 * The tiny-m2m100 preset: an M2M-100 model with NLLB-200's special tokens and language codes in the
 * Xenova nllb-200 layout, loaded and run by transformers.js as the real one is.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { AutoModelForSeq2SeqLM, AutoTokenizer, type PreTrainedTokenizer, env, pipeline } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PRESETS } from '../../tools/model/marian-config.js';
import { cacheNames } from '../../src/models/convert/seq2seq-onnx.js';
import { TINY_M2M100_MODEL } from '../../tools/test-models.js';

const modelsDir = inject('modelsDir');
const M2M = TINY_M2M100_MODEL.id;
const dims = PRESETS['tiny-m2m100'];
const headDim = dims.dModel / dims.heads;
const arabic = 'قال رئيس الوزراء الياباني إنه يريد تعزيز التعاون العسكري مع الولايات المتحدة.';
const vietnamese = 'Nhà Trắng công bố chuyến thăm cấp nhà nước sắp tới của Thủ tướng Nhật Bản.';

let silenced: typeof console.warn;
beforeAll(() => {
  env.allowRemoteModels = false;
  env.localModelPath = `${modelsDir}/`;
  silenced = console.warn;
  console.warn = () => {};
});
afterAll(() => {
  console.warn = silenced;
});

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(modelsDir, M2M, file), 'utf8')) as Record<string, unknown>;
}

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
}

function tokenId(tokenizer: PreTrainedTokenizer, token: string): number {
  const [id] = tokenizer.encode(token, { add_special_tokens: false });
  return id as number;
}

describe('tiny-m2m100 files', () => {
  it('has the Xenova nllb-200 layout and the M2M-100 config fields', async () => {
    expect(await readdir(path.join(modelsDir, M2M))).toEqual(
      expect.arrayContaining(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']),
    );
    expect((await readdir(path.join(modelsDir, M2M, 'onnx'))).sort()).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged_quantized.onnx',
      'encoder_model.onnx',
      'encoder_model_quantized.onnx',
    ]);
    expect(await readJson('config.json')).toMatchObject({
      model_type: 'm2m_100',
      architectures: ['M2M100ForConditionalGeneration'],
      activation_function: 'relu',
      d_model: dims.dModel,
      encoder_layers: dims.encoderLayers,
      decoder_layers: dims.decoderLayers,
      scale_embedding: true,
      pad_token_id: 1,
      bos_token_id: 0,
      eos_token_id: 2,
      decoder_start_token_id: 2,
      vocab_size: dims.vocabSize,
      tokenizer_class: 'NllbTokenizer',
    });
    expect(await readJson('generation_config.json')).toMatchObject({ decoder_start_token_id: 2, eos_token_id: 2, pad_token_id: 1 });
    expect(await readJson('tokenizer_config.json')).toMatchObject({ tokenizer_class: 'NllbTokenizer', src_lang: 'arb_Arab' });
  });

  it("orders the vocabulary as NLLB's: <s> <pad> </s> <unk>, pieces, language codes, <mask>", async () => {
    const tokenizer = (await readJson('tokenizer.json')) as { model: { vocab: [string, number][] } };
    const pieces = tokenizer.model.vocab.map(([piece]) => piece);
    expect(pieces).toHaveLength(dims.vocabSize);
    expect(pieces.slice(0, 4)).toEqual(['<s>', '<pad>', '</s>', '<unk>']);
    expect(pieces.at(-1)).toBe('<mask>');
    expect(pieces.slice(-10, -1)).toEqual(expect.arrayContaining(['arb_Arab', 'eng_Latn', 'vie_Latn', 'ind_Latn']));
  });
});

describe('tiny-m2m100 tokenizer in transformers.js', () => {
  it('is an NllbTokenizer that puts the source language first and </s> last', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(M2M);
    expect(tokenizer.constructor.name).toBe('NllbTokenizer');
    expect((tokenizer as unknown as { language_codes: string[] }).language_codes).toEqual(
      expect.arrayContaining(['arb_Arab', 'vie_Latn', 'eng_Latn']),
    );
    const translator = await pipeline('translation', M2M, { dtype: 'fp32' });
    const build = (translator.tokenizer as unknown as { _build_translation_inputs: (...args: unknown[]) => { input_ids: ort.Tensor } })
      ._build_translation_inputs;
    const kwargs: Record<string, unknown> = { src_lang: 'vie_Latn', tgt_lang: 'eng_Latn' };
    const { input_ids } = build.call(translator.tokenizer, [vietnamese], {}, kwargs);
    const ids = Array.from(input_ids.data as BigInt64Array, Number);
    expect(ids[0]).toBe(tokenId(tokenizer, 'vie_Latn'));
    expect(ids.at(-1)).toBe(2);
    expect(ids).not.toContain(3);
    expect(kwargs.forced_bos_token_id).toBe(tokenId(tokenizer, 'eng_Latn'));
    await translator.dispose();
  });
});

describe('tiny-m2m100 generation in transformers.js', () => {
  it.each(['fp32', 'q8'] as const)('(%s) generate with forced_bos_token_id writes eng_Latn then English pieces', async (dtype) => {
    const tokenizer = await AutoTokenizer.from_pretrained(M2M);
    const model = await AutoModelForSeq2SeqLM.from_pretrained(M2M, { dtype });
    const english = await readFile(path.resolve(import.meta.dirname, '../../tools/corpus/en.txt'), 'utf8');
    const englishIds = new Set(english.split('\n').flatMap((line) => tokenizer.encode(line, { add_special_tokens: false })));
    const eng = tokenId(tokenizer, 'eng_Latn');
    const inputs = tokenizer([arabic]);
    const generated = (await model.generate({ ...inputs, forced_bos_token_id: eng, max_new_tokens: 10 })) as { tolist(): bigint[][] };
    const [ids] = generated.tolist().map((row) => row.map(Number));
    expect(ids?.slice(0, 2)).toEqual([2, eng]);
    const written = (ids ?? []).slice(2).filter((id) => id !== 2);
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((id) => englishIds.has(id))).toBe(true);
    await model.dispose();
  });

  it('the translation pipeline takes src_lang / tgt_lang and writes different English for different sources', async () => {
    const translator = await pipeline('translation', M2M, { dtype: 'fp32' });
    const sources: [string, string][] = [
      ['arb_Arab', 'الولايات المتحدة'],
      ['arb_Arab', 'رئيس الوزراء الياباني فوميو كيشيدا'],
      ['vie_Latn', vietnamese],
      ['vie_Latn', 'Thủ tướng Nhật Bản'],
    ];
    const outputs = new Set<string>();
    for (const [src_lang, text] of sources) {
      const options = { src_lang, tgt_lang: 'eng_Latn', max_new_tokens: 8 } as Record<string, unknown>;
      const [result] = (await translator(text, options)) as { translation_text: string }[];
      expect(result?.translation_text).toMatch(/^[\x20-\x7e]+$/);
      outputs.add(result?.translation_text ?? '');
    }
    expect(outputs.size).toBeGreaterThan(1);
    await translator.dispose();
  });
});

describe('tiny-m2m100 decoder cache', () => {
  it('gives the same logits step by step with the cache as for the whole prefix (pad-offset positions)', async () => {
    const sourceIds = [1990, 12, 250, 33, 801, 2];
    const mask = int64(
      sourceIds.map(() => 1),
      [1, sourceIds.length],
    );
    const encoder = await ort.InferenceSession.create(path.join(modelsDir, M2M, 'onnx/encoder_model.onnx'));
    const hidden = (await encoder.run({ input_ids: int64(sourceIds, [1, sourceIds.length]), attention_mask: mask })).last_hidden_state;
    const decoder = await ort.InferenceSession.create(path.join(modelsDir, M2M, 'onnx/decoder_model_merged.onnx'));
    const prefix = [2, 1991, 17, 230, 41];
    let cache: Record<string, ort.Tensor> = Object.fromEntries(
      cacheNames('past_key_values', dims.decoderLayers).map((name) => [
        name,
        new ort.Tensor('float32', new Float32Array(0), [1, dims.heads, 0, headDim]),
      ]),
    );
    const whole = await decoder.run({
      encoder_attention_mask: mask,
      input_ids: int64(prefix, [1, prefix.length]),
      encoder_hidden_states: hidden as ort.Tensor,
      ...cache,
      use_cache_branch: new ort.Tensor('bool', [false], [1]),
    });
    const wholeLogits = whole.logits?.data as Float32Array;
    let maxDiff = 0;
    for (let t = 0; t < prefix.length; t++) {
      const out = await decoder.run({
        encoder_attention_mask: mask,
        input_ids: int64([prefix[t] as number], [1, 1]),
        encoder_hidden_states: hidden as ort.Tensor,
        ...cache,
        use_cache_branch: new ort.Tensor('bool', [t > 0], [1]),
      });
      const step = out.logits?.data as Float32Array;
      for (let v = 0; v < dims.vocabSize; v++) {
        maxDiff = Math.max(maxDiff, Math.abs((step[v] as number) - (wholeLogits[t * dims.vocabSize + v] as number)));
      }
      cache = Object.fromEntries(
        cacheNames('past_key_values', dims.decoderLayers).map((name) => [
          name,
          t > 0 && name.includes('.encoder.')
            ? (cache[name] as ort.Tensor)
            : (out[name.replace('past_key_values', 'present')] as ort.Tensor),
        ]),
      );
    }
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
