import { readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer, env, pipeline } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isUpToDate, makeModel } from '../../tools/make-model.js';
import { PRESETS, parameterCount } from '../../tools/model/marian-config.js';
import { cacheNames } from '../../src/models/convert/seq2seq-onnx.js';
import { TEST_MODELS, testModelOptions } from '../../tools/test-models.js';

const modelsDir = inject('modelsDir');
const AR = 'Xenova/opus-mt-ar-en';
const VI = 'Xenova/opus-mt-vi-en';
const arabic = 'قال رئيس الوزراء الياباني إنه يريد تعزيز التعاون العسكري مع الولايات المتحدة.';
const vietnamese = 'Nhà Trắng công bố chuyến thăm cấp nhà nước sắp tới của Thủ tướng Nhật Bản.';
const tiny = PRESETS.tiny;
const headDim = tiny.dModel / tiny.heads;

beforeAll(() => {
  env.allowRemoteModels = false;
  env.localModelPath = `${modelsDir}/`;
});

function onnxPath(model: string, file: string): string {
  return path.join(modelsDir, model, 'onnx', `${file}.onnx`);
}

async function readJson(model: string, file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(modelsDir, model, file), 'utf8')) as Record<string, unknown>;
}

/** Every op type in a model file, subgraphs included, with its count. */
async function opCounts(file: string): Promise<Map<string, number>> {
  const model = onnxProto.onnx.ModelProto.decode(await readFile(file));
  const counts = new Map<string, number>();
  const visit = (graph: onnxProto.onnx.IGraphProto | null | undefined): void => {
    for (const node of graph?.node ?? []) {
      counts.set(node.opType as string, (counts.get(node.opType as string) ?? 0) + 1);
      for (const attribute of node.attribute ?? []) visit(attribute.g);
    }
  };
  visit(model.graph);
  return counts;
}

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);
}

/** The ids of the pieces the English corpus tokenizes into: the only pieces the model should write. */
async function englishPieceIds(tokenizer: PreTrainedTokenizer): Promise<Set<number>> {
  const english = await readFile(path.resolve(import.meta.dirname, '../../tools/corpus/en.txt'), 'utf8');
  return new Set(english.split('\n').flatMap((line) => tokenizer.encode(line, { add_special_tokens: false })));
}

describe('model folder layout', () => {
  it.each([AR, VI])('%s has the files transformers.js loads for fp32 and q8', async (model) => {
    const files = await readdir(path.join(modelsDir, model));
    expect(files).toEqual(expect.arrayContaining(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']));
    expect((await readdir(path.join(modelsDir, model, 'onnx'))).sort()).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged_quantized.onnx',
      'encoder_model.onnx',
      'encoder_model_quantized.onnx',
    ]);
  });

  it('writes the Marian config and generation config fields', async () => {
    const config = await readJson(AR, 'config.json');
    const pad = tiny.vocabSize - 1;
    expect(config).toMatchObject({
      model_type: 'marian',
      architectures: ['MarianMTModel'],
      d_model: tiny.dModel,
      encoder_layers: tiny.encoderLayers,
      decoder_layers: tiny.decoderLayers,
      encoder_attention_heads: tiny.heads,
      decoder_attention_heads: tiny.heads,
      encoder_ffn_dim: tiny.ffnDim,
      decoder_ffn_dim: tiny.ffnDim,
      activation_function: 'swish',
      vocab_size: tiny.vocabSize,
      pad_token_id: pad,
      decoder_start_token_id: pad,
      eos_token_id: 0,
      max_position_embeddings: 512,
      scale_embedding: true,
      static_position_embeddings: true,
      share_encoder_decoder_embeddings: true,
      normalize_before: false,
      is_encoder_decoder: true,
    });
    expect(await readJson(AR, 'generation_config.json')).toMatchObject({
      bad_words_ids: [[pad]],
      decoder_start_token_id: pad,
      eos_token_id: 0,
      pad_token_id: pad,
      max_length: 512,
    });
    expect(await readJson(VI, 'tokenizer_config.json')).toMatchObject({
      tokenizer_class: 'MarianTokenizer',
      model_max_length: 512,
      source_lang: 'vi',
      target_lang: 'en',
      eos_token: '</s>',
      unk_token: '<unk>',
      pad_token: '<pad>',
    });
  });

  it('orders the vocabulary as Marian does: </s> 0, <unk> 1, <pad> last', async () => {
    const tokenizer = (await readJson(AR, 'tokenizer.json')) as { model: { type: string; vocab: [string, number][] } };
    const vocab = tokenizer.model.vocab;
    expect(tokenizer.model.type).toBe('Unigram');
    expect(vocab).toHaveLength(tiny.vocabSize);
    expect(vocab[0]?.[0]).toBe('</s>');
    expect(vocab[1]?.[0]).toBe('<unk>');
    expect(vocab.at(-1)?.[0]).toBe('<pad>');
    expect(vocab.slice(2, -1).every(([, score]) => score < 0)).toBe(true);
  });

  it('generates byte-identical models from the same seed', async () => {
    const out = path.join(tmpdir(), `make-model-test-${process.pid}`);
    try {
      await makeModel({ ...testModelOptions(TEST_MODELS[0]), out });
      for (const file of ['tokenizer.json', 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged_quantized.onnx']) {
        const ours = await readFile(path.join(out, file));
        expect(ours.equals(await readFile(path.join(modelsDir, AR, file))), file).toBe(true);
      }
      expect(await isUpToDate({ ...testModelOptions(TEST_MODELS[0]), out })).toBe(true);
      expect(await isUpToDate({ ...testModelOptions(TEST_MODELS[0]), out, seed: 99 })).toBe(false);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('tokenizer', () => {
  it.each([
    [AR, arabic],
    [VI, vietnamese],
  ])('%s round-trips its source language through multi-character sub-words', async (model, text) => {
    const tokenizer = await AutoTokenizer.from_pretrained(model);
    const ids = tokenizer.encode(text);
    expect(ids.at(-1)).toBe(0);
    expect(ids).not.toContain(1);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(text.normalize('NFKC'));
    const pieces = tokenizer.tokenize(text);
    const multiCharacter = pieces.filter((piece) => Array.from(piece.replace('▁', '')).length >= 2);
    expect(multiCharacter.length / pieces.length).toBeGreaterThan(0.6);
    expect(pieces.length).toBeLessThan(Array.from(text).length / 2);
  });
});

describe('ONNX graphs', () => {
  it('encoder takes input_ids and attention_mask and returns last_hidden_state', async () => {
    const session = await ort.InferenceSession.create(onnxPath(AR, 'encoder_model'));
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(session.outputNames).toEqual(['last_hidden_state']);
    expect(session.inputMetadata[0]).toMatchObject({ type: 'int64', shape: ['batch_size', 'encoder_sequence_length'] });
    expect(session.outputMetadata[0]).toMatchObject({
      type: 'float32',
      shape: ['batch_size', 'encoder_sequence_length', tiny.dModel],
    });
    const out = await session.run({ input_ids: int64([5, 6, 7, 0], [1, 4]), attention_mask: int64([1, 1, 1, 1], [1, 4]) });
    expect(out.last_hidden_state?.dims).toEqual([1, 4, tiny.dModel]);
  });

  it("merged decoder has Optimum's inputs and outputs, names, types and dynamic dims", async () => {
    const session = await ort.InferenceSession.create(onnxPath(AR, 'decoder_model_merged'));
    expect(session.inputNames).toEqual([
      'encoder_attention_mask',
      'input_ids',
      'encoder_hidden_states',
      ...cacheNames('past_key_values', tiny.decoderLayers),
      'use_cache_branch',
    ]);
    expect(session.outputNames).toEqual(['logits', ...cacheNames('present', tiny.decoderLayers)]);
    const inputs = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m]));
    expect(inputs['past_key_values.1.decoder.value']).toMatchObject({
      type: 'float32',
      shape: ['batch_size', tiny.heads, 'past_decoder_sequence_length', headDim],
    });
    expect(inputs['past_key_values.0.encoder.key']).toMatchObject({
      shape: ['batch_size', tiny.heads, 'encoder_sequence_length_out', headDim],
    });
    expect(inputs.use_cache_branch).toMatchObject({ type: 'bool', shape: [1] });
    const outputs = Object.fromEntries(session.outputMetadata.map((m) => [m.name, m]));
    expect(outputs.logits).toMatchObject({ shape: ['batch_size', 'decoder_sequence_length', tiny.vocabSize] });
    expect(outputs['present.0.decoder.key']).toMatchObject({
      shape: ['batch_size', tiny.heads, 'past_decoder_sequence_length + 1', headDim],
    });
  });

  it('q8 graphs use the operators of ORT dynamic quantization and no float weight MatMul', async () => {
    const decoder = await opCounts(onnxPath(AR, 'decoder_model_merged_quantized'));
    const encoder = await opCounts(onnxPath(AR, 'encoder_model_quantized'));
    for (const ops of [decoder, encoder]) {
      expect(ops.get('DynamicQuantizeLinear')).toBeGreaterThan(0);
      expect(ops.get('MatMulInteger')).toBeGreaterThan(0);
      expect(ops.get('DequantizeLinear')).toBeGreaterThan(0);
    }
    // Per attention layer only the two activation × activation MatMuls stay float.
    const fp32 = await opCounts(onnxPath(AR, 'decoder_model_merged'));
    const attentions = 2 * tiny.decoderLayers * 2;
    expect(decoder.get('MatMul')).toBe(2 * attentions);
    expect(decoder.get('MatMulInteger')).toBe((fp32.get('MatMul') ?? 0) - 2 * attentions);
  });
});

describe('decoder key/value cache', () => {
  const prefix = [tiny.vocabSize - 1, 17, 230, 41, 5];
  let encoderHiddenStates: ort.Tensor;
  const sourceIds = [12, 250, 33, 801, 9, 0];
  const encoderMask = int64(
    sourceIds.map(() => 1),
    [1, sourceIds.length],
  );

  beforeAll(async () => {
    const encoder = await ort.InferenceSession.create(onnxPath(AR, 'encoder_model'));
    encoderHiddenStates = (await encoder.run({ input_ids: int64(sourceIds, [1, sourceIds.length]), attention_mask: encoderMask }))
      .last_hidden_state as ort.Tensor;
  });

  function emptyCache(): Record<string, ort.Tensor> {
    return Object.fromEntries(
      cacheNames('past_key_values', tiny.decoderLayers).map((name) => [
        name,
        new ort.Tensor('float32', new Float32Array(0), [1, tiny.heads, 0, headDim]),
      ]),
    );
  }

  async function logitsStepByStep(file: string): Promise<Float32Array[]> {
    const session = await ort.InferenceSession.create(file);
    let cache = emptyCache();
    const steps: Float32Array[] = [];
    for (let t = 0; t < prefix.length; t++) {
      const out = await session.run({
        encoder_attention_mask: encoderMask,
        input_ids: int64([prefix[t] as number], [1, 1]),
        encoder_hidden_states: encoderHiddenStates,
        ...cache,
        use_cache_branch: new ort.Tensor('bool', [t > 0], [1]),
      });
      steps.push(out.logits?.data as Float32Array);
      // With past, the encoder entries come back as Optimum's empty constants [0, heads, 1, head_dim].
      expect(out['present.0.encoder.key']?.dims).toEqual(t > 0 ? [0, tiny.heads, 1, headDim] : [1, tiny.heads, sourceIds.length, headDim]);
      const next: Record<string, ort.Tensor> = {};
      for (const name of cacheNames('past_key_values', tiny.decoderLayers)) {
        const present = out[name.replace('past_key_values', 'present')] as ort.Tensor;
        // As transformers.js does: encoder entries are kept from the first step.
        next[name] = t > 0 && name.includes('.encoder.') ? (cache[name] as ort.Tensor) : present;
      }
      expect(next['past_key_values.0.decoder.key']?.dims).toEqual([1, tiny.heads, t + 1, headDim]);
      expect(next['past_key_values.0.encoder.key']?.dims).toEqual([1, tiny.heads, sourceIds.length, headDim]);
      cache = next;
    }
    return steps;
  }

  async function logitsAllAtOnce(file: string): Promise<Float32Array> {
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({
      encoder_attention_mask: encoderMask,
      input_ids: int64(prefix, [1, prefix.length]),
      encoder_hidden_states: encoderHiddenStates,
      ...emptyCache(),
      use_cache_branch: new ort.Tensor('bool', [false], [1]),
    });
    expect(out.logits?.dims).toEqual([1, prefix.length, tiny.vocabSize]);
    return out.logits?.data as Float32Array;
  }

  it('gives the same logits fed step by step with the cache as for the whole prefix at once', async () => {
    const whole = await logitsAllAtOnce(onnxPath(AR, 'decoder_model_merged'));
    const steps = await logitsStepByStep(onnxPath(AR, 'decoder_model_merged'));
    let maxDiff = 0;
    steps.forEach((step, t) => {
      for (let v = 0; v < tiny.vocabSize; v++) {
        maxDiff = Math.max(maxDiff, Math.abs((step[v] as number) - (whole[t * tiny.vocabSize + v] as number)));
      }
    });
    expect(maxDiff).toBeLessThan(1e-4);
    // The positions and the causal mask matter: step logits differ from one step to the next.
    expect(Math.abs((steps[1]?.[5] as number) - (steps[2]?.[5] as number))).toBeGreaterThan(1e-3);
  });

  it('q8 logits stay close to fp32 logits', async () => {
    const fp32 = await logitsAllAtOnce(onnxPath(AR, 'decoder_model_merged'));
    const q8 = await logitsAllAtOnce(onnxPath(AR, 'decoder_model_merged_quantized'));
    let dot = 0;
    let n32 = 0;
    let n8 = 0;
    let maxDiff = 0;
    for (let i = 0; i < fp32.length; i++) {
      const a = fp32[i] as number;
      const b = q8[i] as number;
      dot += a * b;
      n32 += a * a;
      n8 += b * b;
      maxDiff = Math.max(maxDiff, Math.abs(a - b));
    }
    expect(dot / Math.sqrt(n32 * n8)).toBeGreaterThan(0.99);
    expect(maxDiff).toBeLessThan(0.5);
    expect(maxDiff).toBeGreaterThan(0);
  });
});

describe('transformers.js pipeline on the generated models', () => {
  const cases = [
    [AR, 'fp32', arabic],
    [AR, 'q8', arabic],
    [VI, 'fp32', vietnamese],
    [VI, 'q8', vietnamese],
  ] as const;

  let silenced: typeof console.warn;
  beforeAll(() => {
    silenced = console.warn;
    console.warn = () => {};
  });
  afterAll(() => {
    console.warn = silenced;
  });

  it.each(cases)('%s (%s) loads offline and translates into English pieces', async (model, dtype, text) => {
    const translator = await pipeline('translation', model, { dtype });
    const [result] = (await translator(text, { max_new_tokens: 12 })) as { translation_text: string }[];
    expect(result?.translation_text.trim()).not.toBe('');
    expect(result?.translation_text).toMatch(/^[\x20-\x7e]+$/);

    const inputs = translator.tokenizer(text);
    const generated = (await translator.model.generate({ ...inputs, max_new_tokens: 12 })) as { tolist(): bigint[][] };
    const [ids] = generated.tolist();
    const english = await englishPieceIds(translator.tokenizer);
    const written = (ids ?? [])
      .slice(1)
      .map(Number)
      .filter((id) => id !== 0);
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((id) => english.has(id))).toBe(true);
    await translator.dispose();
  });

  it('generation feeds one token per step through the cache branch after the first step', async () => {
    const translator = await pipeline('translation', AR, { dtype: 'q8' });
    const session = (translator.model as unknown as { sessions: Record<string, ort.InferenceSession> }).sessions
      .decoder_model_merged as ort.InferenceSession;
    const calls: { tokens: number; useCache: boolean; past: number }[] = [];
    const run = session.run.bind(session);
    session.run = ((feeds: Record<string, ort.Tensor>, ...rest: []) => {
      calls.push({
        tokens: feeds.input_ids?.dims[1] as number,
        useCache: Boolean(feeds.use_cache_branch?.data[0]),
        past: feeds['past_key_values.0.decoder.key']?.dims[2] as number,
      });
      return run(feeds, ...rest);
    }) as typeof session.run;
    await translator(arabic, { max_new_tokens: 5, min_new_tokens: 5 });
    expect(calls).toEqual([
      { tokens: 1, useCache: false, past: 0 },
      { tokens: 1, useCache: true, past: 1 },
      { tokens: 1, useCache: true, past: 2 },
      { tokens: 1, useCache: true, past: 3 },
      { tokens: 1, useCache: true, past: 4 },
    ]);
    await translator.dispose();
  });

  it('writes different English for different sources', async () => {
    const translator = await pipeline('translation', AR, { dtype: 'fp32' });
    const sources = ['الولايات المتحدة', 'رئيس الوزراء الياباني فوميو كيشيدا', 'التعاون العسكري وتطوير الأسلحة', 'الأسبوع المقبل'];
    const outputs = new Set<string>();
    for (const source of sources) {
      const [result] = (await translator(source, { max_new_tokens: 8 })) as { translation_text: string }[];
      outputs.add(result?.translation_text ?? '');
    }
    expect(outputs.size).toBeGreaterThan(1);
    await translator.dispose();
  });
});

describe('opus-mt-base preset', () => {
  it('has the size of opus-mt-ar-en (about 76 M parameters)', () => {
    const base = PRESETS['opus-mt-base'];
    expect(base).toMatchObject({ dModel: 512, encoderLayers: 6, decoderLayers: 6, heads: 8, ffnDim: 2048 });
    expect(parameterCount(base)).toBeGreaterThan(74e6);
    expect(parameterCount(base)).toBeLessThan(78e6);
  });

  it('writes a hub-sized vocabulary and config without the weights (--config-only)', async () => {
    const out = path.join(tmpdir(), `make-model-base-${process.pid}`);
    try {
      await makeModel({ preset: 'opus-mt-base', out, configOnly: true, sourceLang: 'vi' });
      const tokenizer = JSON.parse(await readFile(path.join(out, 'tokenizer.json'), 'utf8')) as {
        model: { vocab: [string, number][] };
      };
      expect(tokenizer.model.vocab).toHaveLength(62834);
      expect(new Set(tokenizer.model.vocab.map(([piece]) => piece)).size).toBe(62834);
      const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({ vocab_size: 62834, pad_token_id: 62833, d_model: 512 });
      expect(await readdir(out)).not.toContain('onnx');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
