import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoModelForSeq2SeqLM, AutoTokenizer, Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LanguageCode } from '../../src/article.js';
import type { ModelDtype } from '../../src/config/config.js';
import type { Q8Activations } from '../../src/translation/seq2seq-sessions.js';
import { Translator } from '../../src/translation/translator.js';
import { makeModel } from '../../tools/make-model.js';
import { TINY_M2M100_MODEL, testModelOptions } from '../../tools/test-models.js';
import { ARABIC_ARTICLE, VIETNAMESE_ARTICLE } from '../helpers/bad-inputs.js';

/**
 * A model whose weights are ONNX external data (`onnx/<file>.onnx_data`), as NLLB-200-600M's export
 * has them: tiny-m2m100 generated with the same seed in that layout translates exactly as the
 * tiny-m2m100 the other tests use, in fp32 and in q8 with either activation quantization.
 */

const external = path.join(tmpdir(), `newsbridge-external-data-${process.pid}`, 'tiny-m2m100');
const inline = () => path.join(inject('modelsDir'), TINY_M2M100_MODEL.id);
const SENTENCES: Record<LanguageCode, string[]> = { ar: ARABIC_ARTICLE.split('\n'), vi: VIETNAMESE_ARTICLE.split('\n') };

beforeAll(async () => {
  await makeModel({ ...testModelOptions(TINY_M2M100_MODEL), out: external, externalData: true });
});
afterAll(() => rm(path.dirname(external), { recursive: true, force: true }));

function load(modelDir: string, lang: LanguageCode, dtype: ModelDtype, q8Activations: Q8Activations): Promise<Translator> {
  return Translator.load({
    modelDir,
    model: { lang, id: TINY_M2M100_MODEL.id, revision: 'main', dtype },
    dtype,
    q8Activations,
    batchTokens: 4096,
    maxInputTokens: 512,
    maxNewTokensRatio: 1,
    numBeams: 1,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
    threadsPerWorker: 1,
  });
}

describe('ONNX external data', () => {
  it('writes every graph with its weights in <file>_data and lists them in config.json, as transformers.js expects', async () => {
    const files = (await readdir(path.join(external, 'onnx'))).sort();
    expect(files).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged.onnx_data',
      'decoder_model_merged_quantized.onnx',
      'decoder_model_merged_quantized.onnx_data',
      'encoder_model.onnx',
      'encoder_model.onnx_data',
      'encoder_model_quantized.onnx',
      'encoder_model_quantized.onnx_data',
    ]);
    const config = JSON.parse(await readFile(path.join(external, 'config.json'), 'utf8'));
    expect(Object.keys(config['transformers.js_config'].use_external_data_format).sort()).toEqual(
      files.filter((file) => file.endsWith('.onnx')),
    );
    // The graph file holds the graph, not the weights.
    const graph = (await stat(path.join(external, 'onnx', 'decoder_model_merged.onnx'))).size;
    const weights = (await stat(path.join(external, 'onnx', 'decoder_model_merged.onnx_data'))).size;
    expect(graph).toBeLessThan(weights / 4);
  });

  it.each([
    ['fp32', 'per-row'],
    ['q8', 'per-row'],
    ['q8', 'per-batch'],
  ] as const)('a Translator on it (%s, %s activations) translates as on the same weights inline', async (dtype, q8Activations) => {
    for (const lang of ['ar', 'vi']) {
      const [fromExternal, fromInline] = await Promise.all([
        load(external, lang, dtype, q8Activations),
        load(inline(), lang, dtype, q8Activations),
      ]);
      try {
        const [ours, reference] = await Promise.all([fromExternal.translate(SENTENCES[lang]!), fromInline.translate(SENTENCES[lang]!)]);
        expect(ours.map((translation) => translation.target)).toEqual(reference.map((translation) => translation.target));
        expect(ours.every((translation) => translation.targetTokens > 0)).toBe(true);
      } finally {
        await Promise.all([fromExternal.dispose(), fromInline.dispose()]);
      }
    }
  });

  it('transformers.js loads it too and writes what our Translator writes (fp32)', async () => {
    const [tokenizer, model, translator] = await Promise.all([
      AutoTokenizer.from_pretrained(external, { local_files_only: true }),
      AutoModelForSeq2SeqLM.from_pretrained(external, { local_files_only: true, dtype: 'fp32', session_options: { intraOpNumThreads: 1 } }),
      load(external, 'vi', 'fp32', 'per-row'),
    ]);
    try {
      const sentence = SENTENCES.vi![1]!;
      const ids = translator.tokenize(sentence);
      const output = (await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        max_new_tokens: ids.length + 8,
        num_beams: 1,
        forced_bos_token_id: tokenizer.encode('eng_Latn', { add_special_tokens: false })[0],
      })) as Tensor;
      const theirs = tokenizer.decode((output.tolist() as bigint[][])[0]!.map(Number), { skip_special_tokens: true }).trim();
      const [ours] = await translator.translate([sentence]);
      expect(ours!.target).toBe(theirs);
    } finally {
      await Promise.all([model.dispose(), translator.dispose()]);
    }
  });
});
